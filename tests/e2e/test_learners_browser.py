"""A real browser (headless Chromium) on the "Người học" page (issue 18), at a laptop's size (1366×768) and a
phone's (390×844): filter the list, read it, follow the export link and open the downloaded file.

Reuses the browser and the uvicorn-served dashboard of `test_dashboard_browser`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from admin import store as admin_store
from bot.app import App
from tests.admin.dashboard.conftest import add_learner
from tests.e2e.test_dashboard_browser import PASSWORD, browser, server

__all__ = ["browser", "server"]  # the fixtures, imported for pytest

LAPTOP, PHONE = (1366, 768), (390, 844)
CORE = ("an-toan-otp", "dien-thoai-wifi")


async def commune_of_learners(app: App) -> None:
    """Thôn Tây: 3 finished the core (one "Nguyễn Văn Đức"), 60 not started; Thôn Đông: 2 finished."""
    for name in ("Nguyễn Văn Đức", "Lê Thị Hoa", "Trần Văn Bảy"):
        await add_learner(app, name, "tan-hoc", "thon-tay", CORE)
    for n in range(60):
        await add_learner(app, f"Người mới {n:02d}", "tan-hoc", "thon-tay")
    for name in ("Phạm Thị Lan", "Đỗ Văn Minh"):
        await add_learner(app, name, "tan-hoc", "thon-dong", CORE)
    async with app.assistant.sessions() as session, session.begin():
        await admin_store.create_admin(session, "canbo", PASSWORD, "tan-hoc", app.assistant.clock.now())


def size(driver: Any, width_height: tuple[int, int]) -> None:
    width, height = width_height
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def wait_for_file(driver: Any, suffix: str, seen: set[str]) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        done = [p for p in driver.downloads.iterdir() if p.name.endswith(suffix) and p.name not in seen]
        if done:
            seen.add(done[0].name)
            return bytes(done[0].read_bytes())
        assert time.monotonic() < deadline, f"no download; found {list(driver.downloads.iterdir())}"
        time.sleep(0.1)


MEASURE = """
const table = document.querySelector('#learners');
const row = table.querySelector('tbody tr');
const link = document.querySelector('#export-xlsx').getBoundingClientRect();
return {
  sideways: document.documentElement.scrollWidth > innerWidth,
  row_display: getComputedStyle(row).display,
  row_right: row.getBoundingClientRect().right,
  link_right: link.right,
  link_visible: link.width > 0 && link.height > 0,
  width: innerWidth,
};
"""


def browse(driver: Any, server: str) -> dict[str, Any]:
    """Log in; at each size: filter Thôn Tây + "Xong bài cốt lõi", read the list, measure, download."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(f"{server}/login")
    driver.find_element(By.ID, "username").send_keys("canbo")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
    seen: set[str] = set()
    found: dict[str, Any] = {}
    for label, screen, fmt in (("laptop", LAPTOP, "xlsx"), ("phone", PHONE, "csv")):
        size(driver, screen)
        driver.find_element(By.LINK_TEXT, "Người học").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "filters"))
        unfiltered = driver.find_element(By.ID, "total").text
        Select(driver.find_element(By.ID, "village")).select_by_value("thon-tay")
        Select(driver.find_element(By.ID, "status")).select_by_value("finished")
        driver.find_element(By.ID, "apply").click()
        WebDriverWait(driver, 20).until(lambda d: "status=finished" in d.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#learners tbody tr")
        found[label] = {
            "unfiltered": unfiltered,
            "total": driver.find_element(By.ID, "total").text,
            "names": sorted(r.find_element(By.TAG_NAME, "a").text for r in rows),
            "measure": driver.execute_script(MEASURE),
        }
        if os.environ.get("HOCVUSO_SCREENSHOTS"):  # a folder: to look at the pages by eye
            driver.save_screenshot(str(Path(os.environ["HOCVUSO_SCREENSHOTS"]) / f"learners-{label}.png"))
        driver.find_element(By.ID, f"export-{fmt}").click()
        found[label]["file"] = wait_for_file(driver, f".{fmt}", seen)
        driver.get(f"{server}/")  # back to the overview for the next size
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
    return found


async def test_the_learner_list_filters_and_exports_on_a_laptop_and_a_phone(
    app: App, browser: Any, server: str
) -> None:
    await commune_of_learners(app)
    found = await asyncio.to_thread(browse, browser, server)
    finished = ["Lê Thị Hoa", "Nguyễn Văn Đức", "Trần Văn Bảy"]
    for label in ("laptop", "phone"):
        seen = found[label]
        assert seen["unfiltered"].startswith("65 người · trang 1/2"), seen["unfiltered"]
        assert seen["total"].startswith("3 người"), seen["total"]
        assert seen["names"] == finished
        measure = seen["measure"]
        assert not measure["sideways"], (label, measure)  # nothing cut off at the side
        assert measure["link_visible"] and measure["link_right"] <= measure["width"], (label, measure)
    assert found["laptop"]["measure"]["row_display"] == "table-row"
    assert found["phone"]["measure"]["row_display"] == "block"  # one card per learner on a phone

    sheet = load_workbook(io.BytesIO(found["laptop"]["file"]))["Người học"]
    header = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "STT")
    assert header[1] == "Họ và tên"
    body = [r for r in sheet.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert sorted(r[1] for r in body) == finished and {r[2] for r in body} == {"Thôn Tây"}

    text = found["phone"]["file"].decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    start = next(i for i, line in enumerate(lines) if line and line[0] == "STT")
    assert sorted(line[1] for line in lines[start + 1 :]) == finished
    assert {line[6] for line in lines[start + 1 :]} == {"100,0"}  # the decimal comma
