"""The mentors page (issue 18): sorted by need with an activity column, "Đạt" counted in active
learners, invite codes with who used them, revocation, and POST/redirect/GET everywhere."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select, update

from bot.app import App
from data.models import Learner, MentorInvite
from data.repository import SqlStore
from tests.admin.dashboard.conftest import Seeded, add_learner, csrf_of, login

PAGE = "/admin/c/tan-hoc/mentors"


async def mentor_with(app: App, name: str, active: int, idle: int) -> int:
    """A mentor with `active` learners who wrote today and `idle` who last wrote 20 days ago."""
    mentor = await add_learner(app, name, "tan-hoc", "thon-dong")
    learners = [await add_learner(app, f"{name}-hv{n}", "tan-hoc", "thon-tay") for n in range(active)]
    learners += [
        await add_learner(app, f"{name}-cu{n}", "tan-hoc", "thon-tay", active_days_ago=20)
        for n in range(idle)
    ]
    async with app.assistant.sessions() as session, session.begin():
        await session.execute(update(Learner).where(Learner.id == mentor).values(role="mentor"))
        await session.execute(update(Learner).where(Learner.id.in_(learners)).values(mentor_id=mentor))
    return mentor


def rows(html: str) -> list[tuple[str, str, str]]:
    """(name, activity, target cell) of each mentor, in the page's order."""
    table = re.search(r'<table id="mentors">.*?</table>', html, re.S)
    assert table
    found = re.findall(
        r'<tr data-need="\d" data-mentor="\d+"><td>([^<]+)</td>.*?class="r activity">(\d+)</td>'
        r'.*?<td class="[^"]*">([^<]+)</td></tr>',
        table.group(0),
        re.S,
    )
    return [(n, a, t.strip()) for n, a, t in found]


async def test_mentors_who_need_help_come_first_and_dat_counts_active_learners(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await mentor_with(app, "Anh Đủ", active=5, idle=1)  # 6 learners, 5 active: reached
    await mentor_with(app, "Chị Ngủ", active=0, idle=6)  # 6 linked, none active: not reached
    await mentor_with(app, "Bác Vắng", active=0, idle=2)  # few and none active: first
    await mentor_with(app, "Cô Ít", active=2, idle=0)  # few, some active
    await login(client, "canbo")
    page = await client.get(PAGE)
    assert [(n, a) for n, a, _ in rows(page.text)] == [
        ("Bác Vắng", "0"),
        ("Cô Ít", "2"),
        ("Chị Ngủ", "0"),
        ("Anh Đủ", "5"),
    ]
    targets = {n: t for n, _, t in rows(page.text)}
    assert targets["Anh Đủ"] == "Đạt"
    assert targets["Chị Ngủ"].startswith("0/5 hoạt động")  # six learners linked, but nobody active
    assert "thiếu 3 người học" in targets["Bác Vắng"]


async def test_invites_redirect_after_posting_show_who_used_them_and_can_be_revoked(
    client: httpx.AsyncClient, seeded: Seeded, app: App
) -> None:
    await login(client, "canbo")
    page = await client.get(PAGE)
    created = await client.post(f"{PAGE}/invite", data={"csrf": csrf_of(page.text), "count": "2"})
    assert created.status_code == 303
    shown = await client.get(created.headers["location"])
    new_codes = re.findall(
        r"<code>([A-Z0-9]{8})</code> ", shown.text.split('id="new-codes"')[1].split("</p>")[0]
    )
    assert len(new_codes) == 2
    await client.get(created.headers["location"])  # reloading the page creates nothing
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MentorInvite)) == 2
    assert 'id="new-codes"' not in (await client.get(PAGE)).text  # shown once, after the redirect
    # one code used in the chat, the other revoked
    used, unused = new_codes
    async with app.assistant.sessions() as session, session.begin():
        learner = await session.get(Learner, seeded.learners["Bình"])
        assert learner is not None
        assert await SqlStore(session, app.assistant.clock.now()).redeem_invite(used, learner) is not None
        unused_id = await session.scalar(select(MentorInvite.id).where(MentorInvite.code == unused))
    page = await client.get(PAGE)
    used_row = re.search(rf"<tr data-state=\"used\"><td><code>{used}</code>.*?</tr>", page.text, re.S)
    assert used_row and "Bình" in used_row.group(0) and "Thu hồi" not in used_row.group(0)
    revoked = await client.post(f"{PAGE}/invites/{unused_id}/revoke", data={"csrf": csrf_of(page.text)})
    assert revoked.status_code == 303
    page = await client.get(revoked.headers["location"])
    assert re.search(rf'<tr data-state="revoked"><td><code>{unused}</code>.*?Đã thu hồi', page.text, re.S)
    again = await client.post(f"{PAGE}/invites/{unused_id}/revoke", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 404
    async with app.assistant.sessions() as session, session.begin():  # a revoked code no longer works
        learner = await session.get(Learner, seeded.learners["Cúc"])
        assert learner is not None
        assert await SqlStore(session, app.assistant.clock.now()).redeem_invite(unused, learner) is None


async def test_another_communes_code_cannot_be_revoked(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "khac")
    page = await client.get("/admin/c/xa-khac/mentors")
    await client.post("/admin/c/xa-khac/mentors/invite", data={"csrf": csrf_of(page.text), "count": "1"})
    await client.post("/admin/logout", data={"csrf": csrf_of(page.text)})
    await login(client, "canbo")
    page = await client.get(PAGE)
    response = await client.post(f"{PAGE}/invites/1/revoke", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 404
