"""Finishing the core curriculum brings a certificate image with name, commune, date and a code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.certificate import find_font, render
from data.models import Certificate
from data.repository import SqlStore
from tests.admin.helpers import OTP, WIFI, finish_lesson
from tests.driver import ChatDriver


async def test_the_last_core_lesson_brings_the_certificate_once(app: App, chat: ChatDriver) -> None:
    await chat.register("Nguyễn Thị Hòa")
    await finish_lesson(chat, "dien-thoai-wifi", WIFI)
    assert not any(r.image for r in chat.last)
    await finish_lesson(chat, "an-toan-otp", OTP)
    (certificate,) = [r for r in chat.last if r.image]
    assert "giấy chứng nhận" in certificate.text
    async with app.assistant.sessions() as session:
        row = (await session.scalars(select(Certificate))).one()
    assert row.code in certificate.text and row.name == "Nguyễn Thị Hòa" and row.commune_id == "tan-hoc"
    with Image.open(certificate.image or "") as image:
        assert image.format == "PNG" and image.size == (1754, 1240)
    await finish_lesson(chat, "an-toan-link", {1: 2, 2: 1})  # a later lesson: no second certificate
    assert not any(r.image for r in chat.last)


async def test_deleting_ones_data_deletes_the_certificate_image(app: App, chat: ChatDriver) -> None:
    await chat.register("Nguyễn Thị Hòa")
    await finish_lesson(chat, "dien-thoai-wifi", WIFI)
    await finish_lesson(chat, "an-toan-otp", OTP)
    (certificate,) = [r for r in chat.last if r.image]
    image = Path(certificate.image or "")
    assert await asyncio.to_thread(image.is_file)
    await chat.say("/xoadulieu")
    await chat.press("Xóa thông tin của tôi")
    assert not await asyncio.to_thread(image.exists)  # it bore the learner's name
    async with app.assistant.sessions() as session:
        row = (await session.scalars(select(Certificate))).one()
    assert row.name is None  # the record stays, nameless, for the commune's counts


async def test_a_certificate_drawn_in_a_rolled_back_transaction_leaves_no_copy(
    app: App, chat: ChatDriver
) -> None:
    await chat.register("Nguyễn Thị Hòa")
    certificates = app.assistant.dialogue.certificates
    assert certificates is not None

    class Abandoned(Exception):
        pass

    async def issue(commit: bool) -> None:
        async with app.assistant.sessions() as session, session.begin():
            store = SqlStore(session, app.assistant.clock.now())
            learner = await store.learner("test", chat.user)
            assert learner is not None and await certificates.issue(store, learner) is not None
            if not commit:
                raise Abandoned  # as when a group of events fails and each is run again alone

    with pytest.raises(Abandoned):
        await issue(commit=False)
    await issue(commit=True)
    files = await asyncio.to_thread(lambda: list(certificates.directory.iterdir()))
    assert len(files) == 1  # no orphan image bearing the learner's name
    async with app.assistant.sessions() as session:
        row = (await session.scalars(select(Certificate))).one()
    assert row.path == str(files[0])


def test_vietnamese_letters_are_drawn_not_boxes(tmp_path: Path) -> None:
    """DejaVu Sans has every Vietnamese letter: each renders with its own glyph, not the missing-glyph box."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(find_font()), 40)
    missing = font.getmask("\uffff").getbbox()
    for letter in "ắằẳẵặếềểễệốồổỗộớờởỡợứừửữựỹđ":
        assert font.getmask(letter).getbbox() != missing, letter
    issued = datetime(2026, 11, 2, tzinfo=UTC)
    render(tmp_path / "c.png", name="Đỗ Thị Ngọc Ánh", commune="Xã Tân Học", issued=issued, code="AB2CD3EF4G")
    with Image.open(tmp_path / "c.png") as image:
        assert image.getbbox() is not None
