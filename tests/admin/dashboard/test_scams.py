"""The "Tin nhắn lừa đảo" page (issue 16): counts per kind and village, the domains seen most, a wave at
the top once the threshold of reports is reached (not before), on the overview too, and its
"Soạn thông báo" opening the announcement form filled in with a calm warning."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx

from bot.app import App
from data import scams
from tests.admin.dashboard.conftest import Seeded, csrf_of, login

PHISHING = "vcb-xacminh.top"


async def report(
    app: App,
    n: int,
    *,
    kind: str = "phishing_link",
    domains: tuple[str, ...] = (PHISHING,),
    village: str = "thon-dong",
    commune: str = "tan-hoc",
    days_ago: int = 0,
    reporter: str | None = None,
) -> None:
    """`n` checked messages as the engine records them (each by another learner unless `reporter`)."""
    day = scams.vietnam_day(app.assistant.clock.now()) - timedelta(days=days_ago)
    async with app.assistant.sessions() as session, session.begin():
        for i in range(n):
            await scams.record(
                session,
                day=day,
                commune_id=commune,
                village_id=village,
                kind=kind,
                level="very_likely" if kind != "none" else "no_clear_sign",
                domains=domains,
                reporter=reporter or f"r-{kind}-{village}-{days_ago}-{i}-{','.join(domains)}",
            )


async def test_counts_per_kind_and_village_and_the_domains_seen_most(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    await report(app, 2, kind="fake_authority", domains=())
    await report(app, 1, kind="fake_authority", domains=(), village="thon-tay")
    await report(app, 1, kind="none", domains=("vietcombank.com.vn",))
    await report(app, 1, kind="job", domains=(), commune="xa-khac", village="thon-a")  # another commune
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/scams")
    assert page.status_code == 200
    text = page.text
    week = text.split('id="week"')[1].split("</table>")[0]
    row = re.search(r'data-kind="fake_authority">(.*?)</tr>', week, re.S)
    assert row is not None
    cells = re.findall(r'<td class="r[^"]*">(\d+)</td>', row.group(1))
    assert cells == ["2", "1", "3"]  # Thôn Đông, Thôn Tây, the commune
    assert 'data-kind="job"' not in text  # another commune's reports are not shown
    assert "vietcombank.com.vn" in text and "trang chính thức" in text
    # three reports of one kind today, in two villages: a wave of that kind (none of the domain: 1 report)
    waves = text.split('id="waves"')[1].split("</section>")[0]
    assert "Giả danh công an" in waves and "vietcombank" not in waves


async def test_a_wave_appears_after_the_threshold_and_not_before(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    await login(client, "canbo")
    await report(app, 1)
    await report(app, 1, reporter="same-learner")
    await report(app, 4, reporter="same-learner")  # one learner checking again: counted once
    await report(app, 5, days_ago=3)  # long ago: not a wave now
    page = await client.get("/admin/c/tan-hoc/scams")
    assert 'id="waves"' not in page.text and "Đợt tin lừa" not in page.text
    overview = await client.get("/admin/c/tan-hoc")
    assert 'id="scam-wave"' not in overview.text

    await report(app, 1, days_ago=1, village="thon-tay")  # yesterday counts: the third report
    page = await client.get("/admin/c/tan-hoc/scams")
    assert 'id="waves"' in page.text
    assert f"Tên miền {PHISHING}" in page.text and "Đường link giả" in page.text
    overview = await client.get("/admin/c/tan-hoc")
    assert 'id="scam-wave"' in overview.text and PHISHING in overview.text
    other = await client.get("/admin/c/xa-khac/scams")
    assert other.status_code == 403  # another commune's page stays closed


async def test_an_official_domain_never_makes_a_wave(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    await report(app, 5, kind="none", domains=("vietcombank.com.vn",))
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/scams")
    assert 'id="waves"' not in page.text


async def test_the_draft_opens_the_announcement_form_with_a_calm_warning(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    await report(app, 3)
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc/scams")
    wave = page.text.split('id="waves"')[1]
    form = re.search(r'<form method="post" action="([^"]+)"(.*?)</form>', wave, re.S)
    assert form is not None and "Soạn thông báo" in form.group(2)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(2)))
    fields = {name: html.unescape(value) for name, value in fields.items()}
    # one click: the dashboard's own announcement form, filled in
    opened = await client.post(html.unescape(form.group(1)), data=fields)
    assert opened.status_code == 200 and 'id="compose"' in opened.text
    text = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', opened.text, re.S)
    assert text is not None
    warning = html.unescape(text.group(1))
    assert warning == fields["text"]
    assert "đừng bấm link" in warning and "đừng chuyển tiền" in warning and "số in trên thẻ" in warning
    assert "vcb-xacminh" in warning and PHISHING not in warning  # named, never as an address to click
    assert not re.search(r"https?://|www\.", warning)
    assert len(warning) <= 1000
    # and on to the preview, as any announcement
    preview = await client.post(
        "/admin/c/tan-hoc/announcements/preview",
        data={"csrf": csrf_of(opened.text), "text": warning, "village": ""},
    )
    assert preview.status_code == 200 and "vcb-xacminh" in preview.text


def test_every_kind_has_a_draft_without_numbers_or_addresses() -> None:
    from admin.scams import KIND_LABELS, draft

    for kind in KIND_LABELS:
        if kind == scams.NONE:
            continue
        text = draft(scams.Wave("kind", kind, 3))
        assert len(text) <= 900 and "đừng chuyển tiền" in text
        assert not re.search(r"\d{3,}|https?://|www\.|\.vn\b|\.com\b", text)


async def test_learners_checking_in_the_chat_make_the_wave(
    app: App, seeded: Seeded, client: httpx.AsyncClient
) -> None:
    """Through the engine: two learners (one forwarding the same message three times) are no wave; a
    third learner is."""
    from tests.bot.test_scam_chat import SCAM, forward
    from tests.driver import ChatDriver

    chats = [ChatDriver(app.assistant, f"hv-{i}") for i in range(3)]
    for chat in chats:
        await chat.say("xin chào")
        await chat.press("Đồng ý")
        await chat.say("Lê Văn Hai")
        await chat.press("Đúng rồi")
        if "Xã Tân Học" in chat.buttons():
            await chat.press("Xã Tân Học")
        await chat.press("Thôn Đông")
        await chat.press("Bỏ qua")
    await login(client, "canbo")
    for _ in range(3):
        await forward(chats[0], SCAM)
    await forward(chats[1], SCAM)
    page = await client.get("/admin/c/tan-hoc/scams")
    assert 'id="waves"' not in page.text
    await forward(chats[2], SCAM)
    page = await client.get("/admin/c/tan-hoc/scams")
    waves = page.text.split('id="waves"')[1].split("</section>")[0]
    assert "bhxh-hotro.top" in waves and "3 lượt" in waves
