"""The certificate for finishing the core curriculum: a PNG with name, commune, date and a verification
code, drawn with Pillow in a font that has every Vietnamese letter (DejaVu Sans from Debian's
`fonts-dejavu-core`, which `.ci/system-deps` installs when missing; HOCVUSO_CERTIFICATE_FONT overrides).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot import texts
from bot.messages import Reply
from bot.ports import Clock, Store
from data.commune import CommuneConfig
from data.models import Learner
from data.repository import SqlStore, new_code
from data.stats import VIETNAM, utc

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
SIZE = (1754, 1240)  # A4 landscape at 150 dpi
INK = (33, 37, 41)
ACCENT = (176, 30, 35)  # the red of the campaign's materials
GOLD = (191, 144, 0)


class FontMissing(RuntimeError):
    """No font with Vietnamese letters was found; install fonts-dejavu-core or set the font path."""


def find_font(bold: bool = False) -> Path:
    """The certificate font: HOCVUSO_CERTIFICATE_FONT, else DejaVu Sans from the system."""
    override = os.environ.get("HOCVUSO_CERTIFICATE_FONT")
    if override and Path(override).is_file():
        return Path(override)
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for directory in FONT_DIRS:
        if (directory / name).is_file():
            return directory / name
    raise FontMissing("DejaVu Sans not found: `apt-get install fonts-dejavu-core` (see .ci/system-deps)")


def render(path: Path, *, name: str, commune: str, issued: datetime, code: str) -> None:
    """Draw the certificate and save it as PNG at `path`."""
    regular, bold = find_font(), find_font(bold=True)
    image = Image.new("RGB", SIZE, (255, 253, 246))
    draw = ImageDraw.Draw(image)
    width, height = SIZE
    draw.rectangle((30, 30, width - 30, height - 30), outline=ACCENT, width=10)
    draw.rectangle((55, 55, width - 55, height - 55), outline=GOLD, width=3)
    local = utc(issued).astimezone(VIETNAM)
    lines = [
        (texts.CERTIFICATE_TITLE, bold, 96, ACCENT, 170),
        (texts.CERTIFICATE_SUBTITLE, regular, 44, INK, 310),
        (texts.CERTIFICATE_CAMPAIGN, bold, 52, INK, 380),
        (texts.CERTIFICATE_AWARDED, regular, 40, INK, 510),
        (name, bold, 84, ACCENT, 570),
        (commune, regular, 44, INK, 700),
        (
            texts.CERTIFICATE_DATE.format(day=local.day, month=local.month, year=local.year),
            regular,
            40,
            INK,
            860,
        ),
        (texts.CERTIFICATE_CODE.format(code=code), bold, 40, INK, 1060),
    ]
    for text, font_path, size, colour, top in lines:
        font = ImageFont.truetype(str(font_path), size)
        while draw.textlength(text, font=font) > width - 200 and size > 20:
            size -= 4  # a very long name shrinks rather than running off the page
            font = ImageFont.truetype(str(font_path), size)
        draw.text(((width - draw.textlength(text, font=font)) / 2, top), text, font=font, fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)


class Certificates:
    """Issues one certificate per learner (the same one again if asked twice)."""

    def __init__(self, directory: Path, communes: CommuneConfig, clock: Clock) -> None:
        self.directory = directory
        self.communes = communes
        self.clock = clock

    async def issue(self, store: Store, learner: Learner) -> Reply | None:
        """The certificate as a reply with its image; None when it cannot be drawn (logged)."""
        if not isinstance(store, SqlStore):
            return None
        existing = await store.certificate(learner.id)
        if existing is not None and await asyncio.to_thread(Path(existing.path).is_file):
            return Reply(texts.CERTIFICATE_SENT.format(code=existing.code), image=existing.path)
        code = existing.code if existing is not None else new_code(10)
        while existing is None and await store.code_taken(code):
            code = new_code(10)
        commune = self.communes.commune(learner.commune_id or "")
        commune_line = texts.CERTIFICATE_COMMUNE.format(
            commune=commune.name if commune else "", province=commune.province if commune else ""
        )
        # one file per learner: drawn again (a transaction that was rolled back and run again, a
        # deleted file), it replaces the earlier one rather than leaving a copy with the name behind
        path = self.directory / f"learner-{learner.id}.png"
        issued = existing.issued_at if existing is not None else self.clock.now()
        try:
            await asyncio.to_thread(
                render, path, name=learner.name or "", commune=commune_line, issued=issued, code=code
            )
        except (OSError, FontMissing):
            log.exception("certificate for learner %s could not be drawn", learner.id)
            return None
        if existing is None:
            await store.add_certificate(learner, str(path), code)
        return Reply(texts.CERTIFICATE_SENT.format(code=code), image=str(path))
