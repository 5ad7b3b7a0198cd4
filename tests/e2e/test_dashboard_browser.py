"""A real browser (headless Chromium) logs in to the dashboard, reads the overview and downloads the XLSX
report; the numbers must be those the learners' chats imply.

Chromium and its driver come from Debian (`.ci/system-deps` installs them); CI must not skip this test.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from openpyxl import load_workbook

from admin import store as admin_store
from admin.web import AdminContext, create_admin_app
from bot.app import App
from data.db import create_engine, session_factory
from tests.admin.helpers import OTP, WIFI, finish_lesson
from tests.driver import ChatDriver

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PASSWORD = "mat-khau-cua-can-bo"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are required in CI (see .ci/system-deps)")
        pytest.skip("chromium / chromium-driver not installed (run .ci/system-deps)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(app: App) -> Iterator[str]:
    """The dashboard served by uvicorn on 127.0.0.1, with its own engine on the test's database."""
    engine = create_engine(app.settings.db_url)
    context = AdminContext(
        sessions=session_factory(engine),
        communes=app.communes,
        curriculum=app.curriculum,
        clock=app.assistant.clock,
        secret="browser-test-secret-long-enough",
    )
    port = free_port()
    config = uvicorn.Config(create_admin_app(context), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    # "localhost" is a secure context for Chromium, so the Secure session cookie works over plain http
    yield f"http://localhost:{port}/admin"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)
    asyncio.run(engine.dispose())


async def learners_chat(app: App) -> None:
    """Three learners through the engine: two finish the core curriculum, one only the Wi-Fi lesson."""
    for user, name, village, lessons in (
        ("an", "Nguyễn Văn An", "Thôn Đông", [("dien-thoai-wifi", WIFI), ("an-toan-otp", OTP)]),
        ("binh", "Lê Thị Bình", "Thôn Đông", [("dien-thoai-wifi", WIFI)]),
        ("cuc", "Trần Thị Cúc", "Thôn Tây", [("an-toan-otp", OTP), ("dien-thoai-wifi", WIFI)]),
    ):
        chat = ChatDriver(app.assistant, user)
        await chat.register(name, village)
        for lesson_id, answers in lessons:
            await finish_lesson(chat, lesson_id, answers)
    async with app.assistant.sessions() as session, session.begin():
        await admin_store.create_admin(session, "canbo", PASSWORD, "tan-hoc", app.assistant.clock.now())


def browse(driver: Any, server: str) -> tuple[dict[str, str], list[str], bytes]:
    """Log in, read the overview's figures and the Thôn Đông row, download the Q4 XLSX."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{server}/login")
    driver.find_element(By.ID, "username").send_keys("canbo")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
    figures = {
        i: driver.find_element(By.ID, i).text
        for i in ("registered", "active7", "completions", "finished-core")
    }
    dong = driver.find_element(By.CSS_SELECTOR, 'tr[data-village="thon-dong"]')
    row = [td.text for td in dong.find_elements(By.TAG_NAME, "td")]
    chart = driver.find_element(By.CSS_SELECTOR, "img.chart")
    assert driver.execute_script("return arguments[0].naturalWidth", chart) > 0, "the chart did not load"

    Select(driver.find_element(By.ID, "period")).select_by_value("2026-Q4")
    Select(driver.find_element(By.ID, "format")).select_by_value("xlsx")
    driver.find_element(By.ID, "download").click()
    target = driver.downloads / "bao-cao-tan-hoc-2026-Q4.xlsx"
    deadline = time.monotonic() + 30
    while not target.exists():
        assert time.monotonic() < deadline, f"no download; found {list(driver.downloads.iterdir())}"
        time.sleep(0.1)
    return figures, row, target.read_bytes()


async def test_an_admin_logs_in_sees_the_numbers_and_downloads_a_correct_xlsx(
    app: App, browser: Any, server: str
) -> None:
    await learners_chat(app)
    figures, dong, xlsx = await asyncio.to_thread(browse, browser, server)
    assert figures == {"registered": "3", "active7": "3", "completions": "5", "finished-core": "2"}
    assert dong[:4] == ["Thôn Đông", "820", "2", "1"]

    book = load_workbook(io.BytesIO(xlsx))
    sheet = book["Theo thôn"]
    assert "Xã Tân Học" in str(sheet["A2"].value) and "Quý IV/2026" in str(sheet["A3"].value)
    rows = {row[0]: row for row in sheet.iter_rows(min_row=7, values_only=True)}
    assert rows["Thôn Đông"][:5] == ("Thôn Đông", 820, 2, 1, 1)
    assert rows["Thôn Tây"][:5] == ("Thôn Tây", 640, 1, 1, 1)
    assert rows["Toàn xã"][:4] == ("Toàn xã", 3955, 3, 2)
    assert rows["Thôn Tây"][5] == pytest.approx(1 / 640)
    topics = {row[0]: row for row in book["Theo chủ đề"].iter_rows(min_row=7, values_only=True)}
    assert topics["Điện thoại (thử)"][2:6] == (3, 3, 3, 1.0)  # completions, attempts, passed, pass rate
