"""A real browser (headless Chromium) in the question inbox and on an error page (issue 18), at a laptop's
size (1366×768) and a phone's (390×844): the count in the menu, answering, the confirmation before a typed
answer is dropped, the "Đã trả lời" and "Đã xử lý" tabs with their history, and a Vietnamese error page
whose link leads back.

Reuses the browser and the uvicorn-served dashboard of `test_dashboard_browser`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from admin import store as admin_store
from bot.app import App
from tests.admin.dashboard.conftest import add_learner, add_question
from tests.e2e.test_dashboard_browser import PASSWORD, browser, server

__all__ = ["browser", "server"]  # the fixtures, imported for pytest

LAPTOP, PHONE = (1366, 768), (390, 844)
QUESTIONS = ("Làm sao đổi mật khẩu Zalo?", "Mã OTP là gì?", "Cách gọi video cho con?", "Xem thời tiết ở đâu?")
MEASURE = """
const tabs = [...document.querySelectorAll('nav.tabs a[data-tab]')];
return {
  scrolls_sideways: document.documentElement.scrollWidth > innerWidth,
  tabs_right: Math.max(...tabs.map(t => t.getBoundingClientRect().right)),
  tabs_visible: tabs.every(t => t.getBoundingClientRect().height > 0),
};
"""


async def commune_with_questions(app: App) -> None:
    for number, text in enumerate(QUESTIONS):
        learner = await add_learner(app, f"Người hỏi {number}", "tan-hoc", "thon-dong")
        await add_question(app, learner, text)
    async with app.assistant.sessions() as session, session.begin():
        await admin_store.create_admin(session, "canbo", PASSWORD, "tan-hoc", app.assistant.clock.now())


def at_size(driver: Any, width_height: tuple[int, int]) -> None:
    width, height = width_height
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def work_in_inbox(driver: Any, server: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(element_id: str) -> None:
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, element_id))

    def first_card() -> Any:
        return driver.find_element(By.CSS_SELECTOR, "section.card.question")

    driver.get(f"{server}/login")
    driver.find_element(By.ID, "username").send_keys("canbo")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
    seen: dict[str, Any] = {}
    for label, size, answer in (("laptop", LAPTOP, "Bác vào Cài đặt ạ."), ("phone", PHONE, "Bác mở Zalo ạ.")):
        at_size(driver, size)
        page: dict[str, Any] = {"menu_before": driver.find_element(By.ID, "menu-waiting").text}
        driver.find_element(By.CSS_SELECTOR, "header.top nav a[href$='/questions']").click()
        wait_for("tabs")
        page.update(driver.execute_script(MEASURE))
        # answer the oldest question
        card = first_card()
        page["answered_text"] = card.find_element(By.TAG_NAME, "blockquote").text
        card.find_element(By.NAME, "answer").send_keys(answer)
        card.find_element(By.CSS_SELECTOR, "button[value='answer']").click()
        wait_for("sent")
        page["sent"] = driver.find_element(By.ID, "sent").text
        # type an answer, then press "Đánh dấu đã xử lý": the dashboard asks first
        card = first_card()
        page["handled_text"] = card.find_element(By.TAG_NAME, "blockquote").text
        card.find_element(By.NAME, "answer").send_keys("Một câu trả lời lỡ gõ")
        card.find_element(By.CSS_SELECTOR, "button[value='handled']").click()
        wait_for("confirm-discard")
        page["confirm"] = driver.find_element(By.ID, "confirm-discard").text
        driver.find_element(By.ID, "discard").click()
        wait_for("tabs")
        # the history tabs
        driver.find_element(By.CSS_SELECTOR, "a[data-tab='answered']").click()
        wait_for("total")
        page["answered_tab"] = driver.find_element(By.TAG_NAME, "main").text
        driver.find_element(By.CSS_SELECTOR, "a[data-tab='handled']").click()
        wait_for("total")
        page["handled_tab"] = driver.find_element(By.TAG_NAME, "main").text
        left = driver.find_elements(By.ID, "menu-waiting")
        page["menu_after"] = left[0].text if left else None  # no count once nothing waits
        # an error page, and its way back
        driver.get(f"{server}/c/tan-hoc/announcements/987654")
        wait_for("error")
        error = driver.find_element(By.ID, "error")
        page["error"] = error.text
        page["error_right"] = error.rect["x"] + error.rect["width"]
        page["error_scrolls"] = driver.execute_script(
            "return document.documentElement.scrollWidth > innerWidth"
        )
        driver.find_element(By.ID, "back").click()
        wait_for("compose")
        page["back_to"] = driver.current_url
        driver.get(f"{server}/c/tan-hoc")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "registered"))
        seen[label] = page
    return seen


async def test_staff_answer_confirm_a_discard_read_the_history_and_find_their_way_back_from_an_error(
    app: App, browser: Any, server: str
) -> None:
    await commune_with_questions(app)
    seen = await asyncio.to_thread(work_in_inbox, browser, server)
    laptop, phone = seen["laptop"], seen["phone"]
    assert (laptop["menu_before"], laptop["menu_after"]) == ("4", "2")
    assert (phone["menu_before"], phone["menu_after"]) == ("2", None)
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page = seen[label]
        assert not page["scrolls_sideways"] and page["tabs_visible"], page
        assert page["tabs_right"] <= size[0], page
        assert page["sent"] == "Đã gửi trả lời đến 1 người."
        assert "Bỏ câu trả lời đã gõ?" in page["confirm"] and "Một câu trả lời lỡ gõ" in page["confirm"]
        assert page["answered_text"] in page["answered_tab"] and "cán bộ canbo" in page["answered_tab"]
        assert page["handled_text"] in page["handled_tab"] and "Xử lý bởi cán bộ canbo" in page["handled_tab"]
        assert "Một câu trả lời lỡ gõ" not in page["handled_tab"]
        assert (
            page["error"].startswith("Không tìm thấy") and "Không có thông báo này trong xã." in page["error"]
        )
        assert "Về trang chính của bảng điều khiển" in page["error"]
        assert page["error_right"] <= size[0] and not page["error_scrolls"], page
        assert page["back_to"].endswith("/admin/c/tan-hoc/announcements")
    assert laptop["answered_text"] == QUESTIONS[0] and laptop["handled_text"] == QUESTIONS[1]
    assert phone["answered_text"] == QUESTIONS[2] and phone["handled_text"] == QUESTIONS[3]
