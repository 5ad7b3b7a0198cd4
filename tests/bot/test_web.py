"""The web app's signed media links (how Zalo, which fetches photos by URL, gets a certificate)."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.web import MediaLinks, WebParts, create_web_app


async def healthy() -> dict[str, object]:
    return {"status": "ok"}


async def test_a_signed_link_serves_the_file_and_nothing_else(tmp_path: Path) -> None:
    certificates = tmp_path / "certificates"
    certificates.mkdir()
    png = certificates / "abc.png"
    png.write_bytes(b"\x89PNG fake")
    outside = tmp_path / "hocvuso.db"
    outside.write_bytes(b"secret rows")
    links = MediaLinks("https://xa.example", "a-secret-of-some-length", [certificates])
    url = links.url(str(png))
    assert url is not None and url.startswith("https://xa.example/media/")
    assert links.url(str(outside)) is None  # only files under the allowed folders get a link
    assert links.url(str(certificates / "missing.png")) is None

    app = create_web_app(WebParts(health=healthy, media=links))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        token = url.rsplit("/", 1)[1]
        ok = await client.get(f"/media/{token}")
        assert ok.status_code == 200 and ok.content == b"\x89PNG fake"
        forged = MediaLinks("https://xa.example", "another-secret-entirely", [tmp_path]).url(str(outside))
        assert forged is not None
        assert (await client.get(f"/media/{forged.rsplit('/', 1)[1]}")).status_code == 404
        assert (await client.get("/media/not-a-token")).status_code == 404
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        # no channel configured: no webhook routes to probe
        assert (await client.post("/webhooks/zalo", json={})).status_code in {404, 405}
