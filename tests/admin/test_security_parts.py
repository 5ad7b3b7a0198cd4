"""The login's building blocks: sliding windows that refusals never extend, one-time tokens, the
address a throttle counts by, and password checks in low-priority threads, never in the event loop."""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from admin.security import OnceTokens, PasswordChecks, SlidingWindow, address_key

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_a_window_refuses_beyond_its_limit_and_refusals_do_not_extend_it() -> None:
    window = SlidingWindow(3, timedelta(minutes=15))
    assert [window.hit("a", T0 + timedelta(minutes=m)) for m in (0, 1, 2)] == [0, 0, 0]
    for minute in range(3, 15):  # hammering while refused
        assert window.hit("a", T0 + timedelta(minutes=minute)) > 0
    assert window.hit("b", T0 + timedelta(minutes=5)) == 0  # another key is not affected
    assert window.retry_after("a", T0 + timedelta(minutes=14)) == 60
    assert window.hit("a", T0 + timedelta(minutes=15)) == 0  # the first try left the window


def test_a_window_forgets_the_least_recent_keys_beyond_its_size() -> None:
    window = SlidingWindow(1, timedelta(minutes=15), max_keys=100)
    for n in range(1000):
        window.hit(f"k{n}", T0)
    assert window.hit("k999", T0) > 0 and window.hit("k0", T0) == 0


def test_a_token_works_once_and_is_forgotten_when_it_could_not_be_used_anyway() -> None:
    tokens = OnceTokens(timedelta(minutes=15))
    assert tokens.use("t", T0) and not tokens.use("t", T0 + timedelta(minutes=14))
    assert tokens.use("u", T0 + timedelta(minutes=16)) and len(tokens._used) == 1


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        (None, "?"),
        ("testclient", "testclient"),
    ],
)
def test_throttles_count_ipv4_addresses_and_ipv6_slash_64_networks(host: str | None, key: str) -> None:
    assert address_key(host) == key


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread scheduling is Linux's")
async def test_passwords_are_checked_in_idle_priority_threads_not_the_event_loop() -> None:
    seen: list[tuple[int, int, int]] = []

    def verify(password_hash: str, password: str) -> bool:
        seen.append((threading.get_ident(), os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)))
        return password == "dung"

    checks = PasswordChecks(verify, at_once=2, waiting=0)
    try:
        assert await checks.check("hash", "dung") is True
        assert await checks.check("hash", "sai") is False
    finally:
        checks.close()
    assert all(ident != threading.get_ident() for ident, _, _ in seen)
    assert {(policy, nice) for _, policy, nice in seen} == {(os.SCHED_IDLE, 19)}
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the loop's own thread is untouched
