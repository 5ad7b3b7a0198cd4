"""A real browser (headless Chromium) logs in to the dashboard, reads the overview and downloads the XLSX
report; the numbers must be those the learners' chats imply.

Chromium and its driver come from Debian (`.ci/system-deps` installs them); CI must not skip this test.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
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
from admin.reports import HEADER_ROW
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


LAPTOP, PHONE = (1366, 768), (390, 844)
# what the overview must show at each size (issue 18): numbers like "10,4 %", the commune's total, a menu
# no taller than a sixth of a phone's screen, chart text of 12 px or more, and on a phone cards, not a
# table cut off at the side
MEASURE = """
const header = document.querySelector('header.top').getBoundingClientRect();
const texts = [...document.querySelectorAll('svg.chart text')];
const share = document.querySelector('#villages tbody tr td:last-child');
return {
  viewport: [innerWidth, innerHeight],
  menu: header.height,
  chart_text: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize))),
  chart_texts: texts.length,
  page_scrolls_sideways: document.documentElement.scrollWidth > innerWidth,
  share_cell_right: share.getBoundingClientRect().right,
  share_label: getComputedStyle(share, '::before').content,
  thead_height: document.querySelector('#villages thead').getBoundingClientRect().height,
};
"""


def show_at(driver: Any, size: tuple[int, int]) -> None:
    """Emulate a screen of `size` CSS pixels (a phone when narrow) and reload the page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    driver.refresh()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "commune-share"))


def download(driver: Any, report_format: str, name: str) -> bytes:
    """Download the report of the period the form offers first (the current quarter) in a format."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "format")).select_by_value(report_format)
    driver.find_element(By.ID, "download").click()
    target = driver.downloads / name
    deadline = time.monotonic() + 30
    while not target.exists():
        assert time.monotonic() < deadline, f"no download; found {list(driver.downloads.iterdir())}"
        time.sleep(0.1)
    time.sleep(0.2)  # the file appears under its name once complete; let it settle
    return target.read_bytes()


def browse(driver: Any, server: str) -> dict[str, Any]:
    """Log in, read the overview at a laptop's and a phone's size, download the report at both."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{server}/login")
    driver.find_element(By.ID, "username").send_keys("canbo")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
    seen: dict[str, Any] = {}
    for size, report_format, name in (
        (LAPTOP, "xlsx", "bao-cao-tan-hoc-2026-Q4.xlsx"),
        (PHONE, "csv", "bao-cao-tan-hoc-2026-Q4.csv"),
    ):
        show_at(driver, size)
        dong = driver.find_element(By.CSS_SELECTOR, 'tr[data-village="thon-dong"]')
        total = driver.find_element(By.CSS_SELECTOR, 'tr[data-village="toan-xa"]')
        seen[report_format] = {
            "figures": {
                i: driver.find_element(By.ID, i).text
                for i in ("registered", "active7", "completions", "finished-core", "commune-share")
            },
            "dong": [td.text for td in dong.find_elements(By.TAG_NAME, "td")],
            "total": [td.text for td in total.find_elements(By.TAG_NAME, "td")],
            "period": Select(driver.find_element(By.ID, "period")).first_selected_option.text,
            **driver.execute_script(MEASURE),
            "file": download(driver, report_format, name),
        }
    return seen


async def test_an_admin_logs_in_sees_the_numbers_and_downloads_a_correct_xlsx(
    app: App, browser: Any, server: str
) -> None:
    await learners_chat(app)
    seen = await asyncio.to_thread(browse, browser, server)
    for report_format, size in (("xlsx", LAPTOP), ("csv", PHONE)):
        page = seen[report_format]
        assert page["viewport"] == list(size)
        assert page["figures"] == {
            "registered": "3",
            "active7": "3",
            "completions": "5",
            "finished-core": "2",
            "commune-share": "0,1 %",  # 2 of the sample commune's 3,955 adults
        }
        assert [re.sub(r"\s+", " ", cell) for cell in page["dong"]] == [
            "Thôn Đông", "820", "2", "1", "0,1 %", "0,1 %"
        ]  # fmt: skip
        assert page["total"][:4] == ["Toàn xã", "3.955", "3", "2"]
        assert page["period"] == "Quý IV năm 2026"  # the current quarter by default
        assert page["chart_texts"] >= 10 and page["chart_text"] >= 12, page
        assert not page["page_scrolls_sideways"], page
        # the "% chỉ tiêu" column is on the screen, not cut off at the side
        assert page["share_cell_right"] <= size[0], page
    laptop, phone = seen["xlsx"], seen["csv"]
    assert laptop["menu"] <= LAPTOP[1] / 6 and laptop["thead_height"] > 0
    assert laptop["share_label"] in {"none", "normal"}  # a table: no labels inside the cells
    # on a phone: a menu no taller than a sixth of the screen; each village a card whose cells are labelled
    assert phone["menu"] <= PHONE[1] / 6, phone["menu"]
    assert phone["thead_height"] <= 1 and phone["share_label"] == '"% chỉ tiêu"'

    book = load_workbook(io.BytesIO(laptop["file"]))
    sheet = book["Theo thôn"]
    assert sheet["A1"].value == "UBND XÃ TÂN HỌC" and sheet["A5"].value == "Quý IV năm 2026"
    rows = {row[1]: row[1:] for row in sheet.iter_rows(min_row=HEADER_ROW + 1, values_only=True)}
    assert rows["Thôn Đông"][:5] == ("Thôn Đông", 820, 2, 1, 1)
    assert rows["Thôn Tây"][:5] == ("Thôn Tây", 640, 1, 1, 1)
    assert rows["Toàn xã"][:4] == ("Toàn xã", 3955, 3, 2)
    assert rows["Thôn Tây"][5] == pytest.approx(1 / 640)
    texts = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert "NGƯỜI LẬP BIỂU" in texts and "TM. UBND XÃ TÂN HỌC" in texts
    topics = {
        row[1]: row[1:] for row in book["Theo chủ đề"].iter_rows(min_row=HEADER_ROW + 1, values_only=True)
    }
    assert topics["Điện thoại (thử)"][2:6] == (3, 3, 3, 1.0)  # completions, attempts, passed, pass rate

    lines = list(csv.reader(io.StringIO(phone["file"].decode("utf-8-sig")), delimiter=";"))
    dong = next(r for r in lines if len(r) == 9 and r[1] == "Thôn Đông")
    assert dong[:6] == ["1", "Thôn Đông", "820", "2", "1", "1"] and dong[6] == "0,12"
