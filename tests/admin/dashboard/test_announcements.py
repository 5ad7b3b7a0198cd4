"""Announcements on the dashboard (issue 18): the commune's sender line, "Sửa lại" keeping what was
written, scheduling and cancelling, the target in the list, failed recipients and "Gửi lại" to them only."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from bot.app import App
from bot.channels.base import ChatUnreachable
from bot.messages import Reply
from bot.notices import Notices
from bot.outbox import OutboxWorker
from data.models import Broadcast, OutboxMessage
from tests.admin.dashboard.conftest import Seeded, announce, csrf_of, login, token_of
from tests.admin.helpers import FakeSender
from tests.driver import FakeClock

PAGE = "/admin/c/tan-hoc/announcements"
SENDER = "UBND xã Tân Học thông báo:"


async def preview(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    page = await client.get(PAGE)
    return await client.post(f"{PAGE}/preview", data={"csrf": csrf_of(page.text), **fields})


def confirmation(page: httpx.Response, **fields: str) -> dict[str, str]:
    sent_at = re.search(r'name="send_at" value="([^"]*)"', page.text)
    return {
        "csrf": csrf_of(page.text),
        "confirm": "yes",
        "token": token_of(page.text),
        "send_at": sent_at.group(1) if sent_at else "",
        **fields,
    }


async def test_the_preview_shows_the_sender_line_and_sua_lai_keeps_what_was_written(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    assert SENDER in (await client.get(PAGE)).text
    shown = await preview(
        client, text="Tiêm phòng sáng thứ Hai", village="thon-tay", send_date="2026-11-05", send_time="08:30"
    )
    assert shown.status_code == 200
    assert re.search(rf'id="message">📢 {SENDER}\nTiêm phòng sáng thứ Hai<', shown.text)
    assert "Hẹn gửi lúc <strong>05/11/2026 08:30</strong>" in shown.text and 'id="quiet"' not in shown.text
    night = await preview(client, text="Tin đêm", send_date="2026-11-05", send_time="22:15")
    assert 'id="quiet"' in night.text and "21:00-07:00" in night.text  # said, not refused
    again = await client.post(
        f"{PAGE}/edit",
        data={
            "csrf": csrf_of(shown.text),
            "text": "Tiêm phòng sáng thứ Hai",
            "village": "thon-tay",
            "send_at": "2026-11-05T08:30",
        },
    )
    assert again.status_code == 200
    assert ">Tiêm phòng sáng thứ Hai</textarea>" in again.text
    assert '<option value="thon-tay" selected>' in again.text
    assert (
        'name="send_date" value="2026-11-05"' in again.text and 'name="send_time" value="08:30"' in again.text
    )


async def test_a_time_already_past_is_refused_in_vietnamese(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await login(client, "canbo")
    # the test clock reads 02/11/2026 15:00 in Vietnam
    past = await preview(client, text="Muộn rồi", send_date="2026-11-02", send_time="14:00")
    assert past.status_code == 400 and "Giờ gửi đã qua" in past.text and 'id="error"' in past.text
    bad = await preview(client, text="Sai", send_date="2026-13-40", send_time="08:00")
    assert bad.status_code == 400 and "Ngày giờ gửi không đúng" in bad.text


async def test_a_scheduled_announcement_is_listed_with_its_target_sent_at_its_time_or_cancelled(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    text = "Họp thôn tối thứ Bảy"
    shown = await preview(client, text=text, village="thon-dong", send_date="2026-11-03", send_time="07:30")
    form = confirmation(shown, text=text, village="thon-dong")
    sent = await client.post(PAGE, data=form)
    assert sent.status_code == 303
    twice = await client.post(PAGE, data=form)  # a double submit schedules once
    assert twice.headers["location"] == sent.headers["location"]
    page = await client.get(sent.headers["location"])
    assert 'id="scheduled"' in page.text and "03/11/2026 07:30" in page.text and 'id="cancel"' in page.text
    listed = await client.get(PAGE)
    row = re.search(r'<tr data-broadcast="\d+">.*?</tr>', listed.text, re.S)
    assert row and 'class="target">Thôn Đông<' in row.group(0) and "Hẹn giờ" in row.group(0)
    notices = Notices(app.assistant.sessions, app.communes, clock)
    assert (await notices.run_once()).announcements == 0
    clock.advance(hours=16, minutes=30)  # 03/11 07:30 in Vietnam
    assert (await notices.run_once()).announcements == 1
    sender = FakeSender()
    await OutboxWorker(app.assistant.sessions, {"test": sender}, clock, rates={"test": 0}).run_once()
    assert sorted(chat for chat, _ in sender.sent) == ["u-An", "u-Bình", "u-Cúc"]
    assert all(replies[0].text.startswith(f"📢 {SENDER}\n{text}") for _, replies in sender.sent)
    await login(client, "canbo")  # the session of the day before has ended
    page = await client.get(sent.headers["location"])
    assert "Đã gửi: <strong>3</strong>" in page.text and 'id="cancel"' not in page.text
    # too late to cancel now
    late = await client.post(sent.headers["location"] + "/cancel", data={"csrf": csrf_of(page.text)})
    assert late.status_code == 400 and "không hủy được" in late.text


async def test_cancelling_a_scheduled_announcement(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    shown = await preview(client, text="Sẽ hủy", send_date="2026-11-04")  # a date alone: 07:30
    assert "04/11/2026 07:30" in shown.text
    sent = await client.post(PAGE, data=confirmation(shown, text="Sẽ hủy", village=""))
    page = await client.get(sent.headers["location"])
    cancelled = await client.post(sent.headers["location"] + "/cancel", data={"csrf": csrf_of(page.text)})
    assert cancelled.status_code == 303
    assert 'id="cancelled"' in (await client.get(sent.headers["location"])).text
    assert "Đã hủy" in (await client.get(PAGE)).text
    clock.advance(days=3)
    assert (await Notices(app.assistant.sessions, app.communes, clock).run_once()).announcements == 0
    async with app.assistant.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_failed_recipients_are_listed_and_resent_to_only_once(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    sent, _ = await announce(client, "tan-hoc", "Ngày hội số", "thon-dong")
    sender = FakeSender(fail_times=1)  # the first recipient's channel fails
    worker = OutboxWorker(app.assistant.sessions, {"test": sender}, clock, rates={"test": 0}, max_attempts=1)
    await worker.run_once()
    assert sorted(chat for chat, _ in sender.sent) == ["u-Bình", "u-Cúc"]
    page = await client.get(sent.headers["location"])
    failed = re.search(r'<table id="failed">.*?</table>', page.text, re.S)
    assert failed is not None
    assert "<td>An</td><td>Thôn Đông</td><td>Kênh gửi báo lỗi" in failed.group(0)
    assert "Bình" not in failed.group(0) and "Gửi lại cho 1 người bị lỗi" in page.text
    resend = await client.post(sent.headers["location"] + "/resend", data={"csrf": csrf_of(page.text)})
    again = await client.post(sent.headers["location"] + "/resend", data={"csrf": csrf_of(page.text)})
    assert resend.status_code == 303 and again.headers["location"] == resend.headers["location"]
    sender.sent.clear()
    await worker.run_once()
    assert [chat for chat, _ in sender.sent] == ["u-An"]  # only the failed one, once
    assert sender.sent[0][1][0].text.startswith(f"📢 {SENDER}\nNgày hội số")
    resent_page = await client.get(resend.headers["location"])
    assert (
        "gửi lại của thông báo trước" in resent_page.text and "Đã gửi: <strong>1</strong>" in resent_page.text
    )
    async with app.assistant.sessions() as session:
        kinds = (
            await session.scalars(select(Broadcast.resend_of).where(Broadcast.kind == "announcement"))
        ).all()
    assert len(kinds) == 2
    # nothing failed in the resend: nothing to resend from it
    nothing = await client.post(resend.headers["location"] + "/resend", data={"csrf": csrf_of(page.text)})
    assert nothing.status_code == 400


class _BlockedBy(FakeSender):
    """A channel on which one chat has blocked the assistant."""

    def __init__(self, blocked: str) -> None:
        super().__init__()
        self.blocked = blocked

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        if chat_id == self.blocked:
            raise ChatUnreachable("test", chat_id, "blocked")
        await super().send(chat_id, replies)


async def test_a_learner_who_blocked_the_assistant_is_named_with_the_reason(
    client: httpx.AsyncClient, seeded: Seeded, app: App, clock: FakeClock
) -> None:
    await login(client, "canbo")
    sent, _ = await announce(client, "tan-hoc", "Ngày hội số", "thon-dong")
    worker = OutboxWorker(app.assistant.sessions, {"test": _BlockedBy("u-Cúc")}, clock, rates={"test": 0})
    await worker.run_once()
    page = await client.get(sent.headers["location"])
    failed = re.search(r'<table id="failed">.*?</table>', page.text, re.S)
    assert failed is not None
    assert "<td>Cúc</td><td>Thôn Đông</td><td>Người học đã chặn trợ lý" in failed.group(0)
    # no "Gửi lại" while the chat refuses messages (until the learner writes again)
    assert 'id="resend"' not in page.text
    resend = await client.post(sent.headers["location"] + "/resend", data={"csrf": csrf_of(page.text)})
    assert resend.status_code == 400 and "Không có người nhận nào bị lỗi" in resend.text
