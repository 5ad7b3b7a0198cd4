"""Media links in a cluster: a certificate link made by one process (a worker, which drew the file)
is served by another (a web process on another machine, without the file), which draws the
certificate again from its database row; the shared key is what makes the link valid everywhere."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.web import MediaLinks, WebParts, certificate_redraw, create_web_app
from data.commune import load_commune_config
from data.db import create_engine, migrate, session_factory
from data.models import Certificate, Learner

KEY = "media-key-shared-by-the-whole-cluster"


async def healthy() -> dict[str, object]:
    return {"status": "ok"}


async def test_a_link_made_by_one_process_is_served_by_another(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    communes = load_commune_config()
    worker_dir, web_dir, content = (
        tmp_path / "worker" / "certificates",
        tmp_path / "web" / "certificates",
        tmp_path / "c",
    )
    for folder in (worker_dir, web_dir, content):
        folder.mkdir(parents=True)
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    try:
        async with sessions() as session, session.begin():
            learner = Learner(
                channel="zalo", channel_user_id="z1", chat_id="z1", name="Lê Thị Tư", commune_id="tan-hoc",
                role="learner", created_at=now, last_active_at=now,
            )  # fmt: skip
            session.add(learner)
            await session.flush()
            drawn = worker_dir / f"learner-{learner.id}.png"
            session.add(
                Certificate(code="ABCDE12345", learner_id=learner.id, name=learner.name, commune_id="tan-hoc",
                            issued_at=now, path=str(drawn))
            )  # fmt: skip
        drawn.write_bytes(b"\x89PNG drawn by the worker")
        on_worker = MediaLinks("https://xa.example", KEY, [worker_dir, content])
        link = on_worker.url(str(drawn))
        assert link is not None and str(tmp_path) not in link  # no machine path in the link

        on_web = MediaLinks(
            "https://xa.example", KEY, [web_dir, content], certificate_redraw(sessions, communes, web_dir)
        )
        stranger = MediaLinks("https://xa.example", "another-key-of-another-deployment", [web_dir])
        app = create_web_app(WebParts(health=healthy, media=on_web))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            served = await client.get(f"/media/{link.rsplit('/', 1)[1]}")
            assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
            assert (web_dir / drawn.name).is_file()  # drawn again here, from the row
            forged = stranger.url(str(web_dir / drawn.name))
            assert forged is not None
            assert (await client.get(f"/media/{forged.rsplit('/', 1)[1]}")).status_code == 404
            # a learner without a certificate row gets nothing drawn; nothing outside the folders
            missing = on_worker.signer.dumps([0, "learner-999.png"])
            assert (await client.get(f"/media/{missing}")).status_code == 404
            escape = on_worker.signer.dumps([0, "../../shared.db"])
            assert (await client.get(f"/media/{escape}")).status_code == 404
    finally:
        await engine.dispose()
