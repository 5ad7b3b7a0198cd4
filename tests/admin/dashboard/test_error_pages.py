"""Every 4xx/5xx of the dashboard is a Vietnamese page with a way back (issue 18): 404, 403, 405, 422
for a form's invalid field (named), 400 for a bad query, 500 for our own failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest

from admin.web import AdminContext, create_admin_app
from tests.admin.dashboard.conftest import Seeded, csrf_of, login

HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options")


def assert_vietnamese_error(
    response: httpx.Response, status: int, title: str, back: str | None = None
) -> None:
    assert response.status_code == status, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="error"' in response.text and f'data-status="{status}"' in response.text
    assert f"<h1>{title}</h1>" in response.text
    assert "Về trang chính của bảng điều khiển" in response.text  # always a way back
    assert '"detail"' not in response.text and "Not Found" not in response.text
    if back is not None:
        assert f'href="{back}" id="back"' in response.text
    for name in HEADERS:
        assert response.headers.get(name), name


async def test_404_an_unknown_page_and_an_unknown_item(client: httpx.AsyncClient, seeded: Seeded) -> None:
    assert_vietnamese_error(await client.get("/admin/khong-co"), 404, "Không tìm thấy")
    await login(client, "canbo")
    unknown = await client.get("/admin/c/tan-hoc/announcements/987654")
    assert_vietnamese_error(unknown, 404, "Không tìm thấy", back="/admin/c/tan-hoc/announcements")
    assert "Không có thông báo này trong xã." in unknown.text


async def test_403_another_communes_page_and_a_stale_form(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    other = await client.get("/admin/c/xa-khac/questions")
    assert_vietnamese_error(other, 403, "Không được phép")
    assert 'id="back"' not in other.text  # no link into a commune the account cannot see
    stale = await client.post("/admin/c/tan-hoc/mentors/invite", data={"csrf": "cu", "count": "1"})
    assert_vietnamese_error(stale, 403, "Không được phép")
    assert "tải lại trang" in stale.text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/logout",
        "/admin/c/tan-hoc/mentors/invite",
        "/admin/c/tan-hoc/questions/group",
        "/admin/c/tan-hoc/announcements/1/resend",
    ],
)
async def test_405_a_buttons_address_opened_as_a_link(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    await login(client, "canbo")
    response = await client.get(path)
    assert_vietnamese_error(response, 405, "Không làm được theo cách này")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("/mentors/invite", {"count": "999"}, "«Số mã»"),
        ("/announcements/preview", {"text": "x" * 1001}, "«Nội dung»"),
        ("/questions/group", {"q": "abc", "action": "handled"}, "«Câu hỏi đã chọn»"),
        ("/questions/templates", {"title": "t" * 500, "text": "x"}, "«Tên mẫu»"),
    ],
)
async def test_422_a_forms_invalid_field_is_named(
    client: httpx.AsyncClient, seeded: Seeded, path: str, form: dict[str, str], field: str
) -> None:
    await login(client, "canbo")
    page = await client.get("/admin/c/tan-hoc")
    response = await client.post(f"/admin/c/tan-hoc{path}", data={"csrf": csrf_of(page.text), **form})
    assert_vietnamese_error(response, 422, "Dữ liệu trong biểu mẫu chưa đúng")
    assert f"Ô {field} chưa đúng" in response.text


async def test_400_a_bad_query(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(client, "canbo")
    response = await client.get("/admin/c/tan-hoc/questions", params={"page": "0"})
    assert_vietnamese_error(response, 400, "Yêu cầu không hợp lệ", back="/admin/c/tan-hoc/questions")


class _BrokenGrouper:
    """Groups nothing: fails as a broken encoder would."""

    async def groups(self, texts: Sequence[str]) -> list[list[int]]:
        raise RuntimeError("encoder exploded")


@pytest.fixture
async def broken_client(admin_context: AdminContext) -> AsyncIterator[httpx.AsyncClient]:
    admin_context.grouper = _BrokenGrouper()  # type: ignore[assignment]
    transport = httpx.ASGITransport(app=create_admin_app(admin_context), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


async def test_500_our_own_failure(broken_client: httpx.AsyncClient, seeded: Seeded) -> None:
    await login(broken_client, "canbo")
    response = await broken_client.get("/admin/c/tan-hoc/questions")
    assert_vietnamese_error(response, 500, "Hệ thống gặp sự cố", back="/admin/c/tan-hoc/questions")
    assert "encoder exploded" not in response.text
