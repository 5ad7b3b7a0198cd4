"""The login cannot be turned against the server or its staff: password checks never stop the event
loop, floods are refused before any password is checked, a lock cannot be prolonged by trying while
locked, an attacker at one address does not keep the real admin out, form tokens work once, and
sessions end on the server (logout, password reset, disabled account)."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from admin import store
from admin.security import LoginPolicy
from admin.web import AdminContext, create_admin_app
from bot.app import App
from bot.cli import app as cli
from bot.settings import Settings
from data.models import AdminUser
from tests.admin.dashboard.conftest import PASSWORD, Seeded, csrf_of, login

WRONG = "sai-mat-khau-roi"


@dataclass
class Verifier:
    """Stands in for argon2's check: counts calls and how many run at once, can take its time (blocking
    its thread, as argon2 does), then answers with the real check unless told to refuse everything."""

    seconds: float = 0.0
    real: bool = True
    hashes: list[str] = field(default_factory=list)
    running: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.hashes.append(password_hash)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(self.seconds)
            return store.verify_password(password_hash, password) if self.real else False
        finally:
            with self.lock:
                self.running -= 1


def context(app: App, verify: Callable[[str, str], bool] | None = None, **policy: Any) -> AdminContext:
    return AdminContext(
        sessions=app.assistant.sessions,
        communes=app.communes,
        curriculum=app.curriculum,
        clock=app.assistant.clock,
        secret="a-test-secret-of-enough-length",
        login_policy=LoginPolicy(tarpit_seconds=0, checks_when_idle=False, **policy),
        verify=verify or store.verify_password,
    )


@asynccontextmanager
async def clients(ctx: AdminContext, *addresses: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per address, all talking to the same dashboard."""
    web = create_admin_app(ctx)
    made = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web, client=(address, 40000)), base_url="https://testserver"
        )
        for address in addresses
    ]
    try:
        yield made
    finally:
        for client in made:
            await client.aclose()
        ctx.password_checks.close()


def advance(app: App, **delta: float) -> None:
    app.assistant.clock.advance(**delta)  # type: ignore[attr-defined]


# --- the event loop and the password checks ---------------------------------------------------------
async def test_a_password_check_never_stops_the_event_loop(app: App, seeded: Seeded) -> None:
    verifier = Verifier(seconds=1.0)
    async with clients(context(app, verifier), "127.0.0.1") as (client,):
        gaps: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        response = await login(client, "canbo")
        done.set()
        await ticking
    assert response.status_code == 303 and len(verifier.hashes) == 1
    assert max(gaps) < 0.5, f"the loop stood still for {max(gaps):.2f} s during a 1 s password check"


async def test_at_most_two_passwords_are_checked_at_once(app: App, seeded: Seeded) -> None:
    verifier = Verifier(seconds=0.3)
    addresses = [f"10.0.0.{n}" for n in range(1, 7)]
    async with clients(context(app, verifier), *addresses) as made:
        responses = await asyncio.gather(*(login(client, "canbo") for client in made))
    assert [r.status_code for r in responses] == [303] * 6
    assert verifier.most == 2


async def test_when_too_many_checks_wait_the_next_login_is_told_to_come_back(
    app: App, seeded: Seeded
) -> None:
    verifier = Verifier(seconds=0.5)
    addresses = [f"10.0.1.{n}" for n in range(1, 6)]
    async with clients(context(app, verifier, checks_at_once=1, checks_waiting=1), *addresses) as made:
        responses = await asyncio.gather(*(login(client, "canbo") for client in made))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [303, 303, 429, 429, 429]
    busy = next(r for r in responses if r.status_code == 429)
    assert "đang bận" in busy.text and busy.headers["retry-after"]


async def test_an_unknown_username_costs_a_password_check_too(app: App, seeded: Seeded) -> None:
    verifier = Verifier()
    async with clients(context(app, verifier), "127.0.0.1") as (client,):
        response = await login(client, "khong-co-ai", PASSWORD)
    assert response.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in response.text
    assert verifier.hashes == [store.DUMMY_HASH]


# --- throttles and locks ---------------------------------------------------------------------------
async def test_an_address_that_floods_the_login_gets_429_before_any_password_is_checked(
    app: App, seeded: Seeded
) -> None:
    verifier = Verifier(real=False)
    async with clients(context(app, verifier, per_address=30), "203.0.113.7") as (attacker,):
        for n in range(30):  # a different username each time: no lock, only the address's budget
            assert (await login(attacker, f"nguoi{n}", WRONG)).status_code == 401
        refused = await login(attacker, "nguoi99", WRONG)
    assert refused.status_code == 429
    assert "Quá nhiều lần thử đăng nhập từ máy này" in refused.text and "phút" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    assert len(verifier.hashes) == 30  # the 31st never reached a password check
    assert refused.headers["content-security-policy"] and refused.headers["x-frame-options"] == "DENY"


async def test_ipv6_addresses_of_one_subscriber_share_one_budget(app: App, seeded: Seeded) -> None:
    verifier = Verifier(real=False)
    addresses = [f"2001:db8:1:2::{n:x}" for n in range(1, 5)]
    async with clients(context(app, verifier, per_address=3), *addresses) as made:
        statuses = [(await login(client, f"nguoi{n}", WRONG)).status_code for n, client in enumerate(made)]
    assert statuses == [401, 401, 401, 429]


async def test_trying_while_locked_does_not_prolong_the_lock(app: App, seeded: Seeded) -> None:
    async with clients(context(app), "198.51.100.9") as (client,):
        for _ in range(5):
            response = await login(client, "canbo", WRONG)
        assert response.status_code == 401 and "tạm khóa" in response.text
        for _ in range(14):  # one more try every minute while locked
            advance(app, minutes=1)
            response = await login(client, "canbo", WRONG)
            assert response.status_code == 429 and "tạm khóa" in response.text
        advance(app, minutes=1, seconds=1)  # 15 minutes after the fifth failure
        assert (await login(client, "canbo")).status_code == 303


async def test_the_real_admin_logs_in_from_elsewhere_while_an_attacker_is_locked_out(
    app: App, seeded: Seeded
) -> None:
    async with clients(context(app), "203.0.113.50", "192.0.2.10") as (attacker, admin):
        for _ in range(12):
            await login(attacker, "canbo", WRONG)
        assert (await login(attacker, "canbo", PASSWORD)).status_code == 429
        response = await login(admin, "canbo")
        assert response.status_code == 303
        assert (await admin.get(response.headers["location"], follow_redirects=True)).status_code == 200


async def test_many_addresses_lock_the_account_only_for_addresses_it_never_used(
    app: App, seeded: Seeded
) -> None:
    ctx = context(app, failures_per_address=2, failures_per_account=6)
    office, *botnet, stranger = ["192.0.2.10", "203.0.113.1", "203.0.113.2", "203.0.113.3", "192.0.2.99"]
    async with clients(ctx, office, *botnet, stranger) as (at_office, *bots, new_place):
        assert (await login(at_office, "canbo")).status_code == 303  # the admin's usual address
        for bot in bots:
            for _ in range(2):
                assert (await login(bot, "canbo", WRONG)).status_code == 401
        assert (await login(new_place, "canbo")).status_code == 429
        at_office.cookies.clear()
        assert (await login(at_office, "canbo")).status_code == 303


# --- form tokens and sessions ----------------------------------------------------------------------
async def test_a_login_form_token_works_once(client: httpx.AsyncClient, seeded: Seeded) -> None:
    form = await client.get("/admin/login")
    cookie, token = client.cookies["hocvuso_login"], csrf_of(form.text)
    data = {"username": "canbo", "password": WRONG, "csrf": token}
    assert (await client.post("/admin/login", data=data)).status_code == 401
    client.cookies.clear()
    again = await client.post(
        "/admin/login", data={**data, "password": PASSWORD}, headers={"Cookie": f"hocvuso_login={cookie}"}
    )
    assert again.status_code == 403 and "đã dùng rồi" in again.text
    assert "hocvuso_admin" not in again.headers.get("set-cookie", "")


async def test_logout_ends_the_session_on_the_server(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    session = client.cookies["hocvuso_admin"]
    page = await client.get("/admin/c/tan-hoc")
    await client.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    client.cookies.clear()
    replayed = await client.get("/admin/c/tan-hoc", headers={"Cookie": f"hocvuso_admin={session}"})
    assert replayed.status_code == 303 and replayed.headers["location"] == "/admin/login"


def _decoded(cookie: str) -> bytes:
    """The cookie and whatever base64 (and zlib) inside it decodes to."""
    found = [cookie.encode()]
    for part in cookie.lstrip(".").split("."):
        try:
            raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        except ValueError:
            continue
        found.append(raw)
        with suppress(zlib.error):
            found.append(zlib.decompress(raw))
    return b"\n".join(found)


async def test_the_session_cookie_carries_nothing_of_the_password_hash(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    cookie = client.cookies["hocvuso_admin"]
    async with app.assistant.sessions() as session:
        password_hash = await session.scalar(
            select(AdminUser.password_hash).where(AdminUser.username == "canbo")
        )
    assert password_hash is not None
    decoded = _decoded(cookie)
    pieces = [password_hash[i : i + 8] for i in range(len(password_hash) - 8)]
    assert not [piece for piece in pieces if piece.encode() in decoded]


# --- hocvuso admin unlock | disable | enable | reset-password ---------------------------------------
@pytest.fixture
def hocvuso(settings: Settings) -> Callable[..., Any]:
    env = {
        "HOCVUSO_DATA_DIR": str(settings.data_dir),
        "HOCVUSO_CONTENT_DIR": str(settings.content_dir),
        "HOCVUSO_COMMUNE_FILE": str(settings.commune_file),
    }

    async def run(*args: str) -> Result:  # in a thread: the command runs its own event loop
        return await asyncio.to_thread(CliRunner().invoke, cli, ["admin", *args], env=env)

    return run


async def test_a_password_reset_ends_every_session_and_only_the_new_password_works(
    client: httpx.AsyncClient, seeded: Seeded, hocvuso: Callable[..., Any]
) -> None:
    await login(client, "canbo")
    assert (await client.get("/admin/c/tan-hoc")).status_code == 200
    result = await hocvuso("reset-password", "canbo", "--password", "mat-khau-moi-hoan-toan")
    assert result.exit_code == 0 and "1 session(s) ended" in result.output, result.output
    assert (await client.get("/admin/c/tan-hoc")).status_code == 303
    assert (await login(client, "canbo")).status_code == 401
    assert (await login(client, "canbo", "mat-khau-moi-hoan-toan")).status_code == 303
    result = await hocvuso("reset-password", "canbo", "--password", "ngan")
    assert result.exit_code == 2 and "at least 10" in result.output


async def test_a_disabled_account_cannot_log_in_and_its_sessions_end_until_enabled(
    client: httpx.AsyncClient, seeded: Seeded, hocvuso: Callable[..., Any]
) -> None:
    await login(client, "canbo")
    result = await hocvuso("disable", "canbo")
    assert result.exit_code == 0 and "disabled" in result.output, result.output
    assert (await client.get("/admin/c/tan-hoc")).status_code == 303
    refused = await login(client, "canbo")
    assert refused.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in refused.text
    assert (await hocvuso("enable", "canbo")).exit_code == 0
    assert (await login(client, "canbo")).status_code == 303
    missing = await hocvuso("disable", "khong-co-ai")
    assert missing.exit_code == 2 and "no dashboard account" in missing.output


async def test_unlock_lets_a_locked_account_in_at_once(
    client: httpx.AsyncClient, seeded: Seeded, hocvuso: Callable[..., Any]
) -> None:
    for _ in range(5):
        await login(client, "canbo", WRONG)
    assert (await login(client, "canbo")).status_code == 429
    result = await hocvuso("unlock", "canbo")
    assert result.exit_code == 0, result.output
    assert (await login(client, "canbo")).status_code == 303
