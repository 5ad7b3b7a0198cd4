"""Official domains are recognised as genuine; look-alikes, brand-as-subdomain and the like are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from safety.check import ScamChecker
from safety.domains import OFFICIAL_DOMAINS_FILE, load_official_domains, registrable_domain
from safety.links import find_links

LINK_SIGNALS = {
    "lookalike_link",
    "gov_fake",
    "brand_mismatch",
    "short_link",
    "ip_link",
    "punycode_link",
    "odd_tld",
    "free_host",
    "apk_link",
    "unknown_link",
}


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("online.vietcombank.com.vn", "vietcombank.com.vn"),
        ("dichvucong.gov.vn", "dichvucong.gov.vn"),
        ("a.b.tanhoc.hatinh.gov.vn", "hatinh.gov.vn"),
        ("j8sk.vip", "j8sk.vip"),
        ("vietcombank.com.vn.xyz-vn.top", "xyz-vn.top"),
        ("state-bank.vercel.app", "state-bank.vercel.app"),
    ],
)
def test_registrable_domain_is_computed_offline(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


@pytest.mark.parametrize(
    "text",
    [
        "Tra cứu hồ sơ tại dichvucong.gov.vn",
        "Chi tiết tại https://vietcombank.com.vn/uu-dai",
        "Đăng nhập ngân hàng điện tử tại https://ibank.agribank.com.vn",
        "Cổng dịch vụ công BHXH: https://dichvucong.baohiemxahoi.gov.vn",
        "Xem thông báo của xã tại https://tanhoc.hatinh.gov.vn/thong-bao",  # any .gov.vn is a state body
        "Theo dõi đơn tại ghn.vn",
    ],
)
def test_a_link_to_an_official_domain_is_not_a_signal(checker: ScamChecker, text: str) -> None:
    result = checker.check(text)
    assert not {s.kind for s in result.signals} & LINK_SIGNALS
    assert result.official_domains == result.domains


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng nhập vietcombank-xacminh.com để mở khóa", "lookalike_link"),  # name inside another domain
        ("Đăng nhập www.vietcornbank.com để mở khóa", "lookalike_link"),  # near spelling
        ("Cập nhật tại vietcombank.com.vn.xyz-vn.top", "lookalike_link"),  # brand as a subdomain
        ("Nộp phạt tại dichvucongs.top", "lookalike_link"),
        ("Cập nhật thẻ BHYT tại bhxh.co", "lookalike_link"),
        ("Tra cứu tại dichvucong.gov-vn.com", "gov_fake"),
        ("Vietcombank: xác minh tại https://xac-minh-tai-khoan.com", "brand_mismatch"),
        ("Truy cập https://xn--vitcombank-m7a.com", "punycode_link"),
        ("Mở khóa tại http://103.21.45.78/mokhoa", "ip_link"),
        ("Nhận quà: bit.ly/qua-tang", "short_link"),
        ("Tải tại sbvhn.com hoặc state-bank.vercel.app", "free_host"),
    ],
)
def test_look_alike_and_disguised_links_are_signals(checker: ScamChecker, text: str, expected: str) -> None:
    result = checker.check(text)
    assert expected in {s.kind for s in result.signals}
    assert not result.official_domains


def test_domains_seen_are_registrable_domains_only(checker: ScamChecker) -> None:
    result = checker.check("Vào https://login.vietcombank-xacminh.top/a?b=1 hoặc online.vietcombank.com.vn")
    assert result.domains == ("vietcombank-xacminh.top", "vietcombank.com.vn")
    assert result.official_domains == ("vietcombank.com.vn",)


def test_defanged_addresses_from_police_warnings_are_read_as_links() -> None:
    assert [link.host for link in find_links("trang giả bhxh[.]co và baohiemxahoi[.]biz")] == [
        "bhxh.co",
        "baohiemxahoi.biz",
    ]


def test_sums_and_abbreviations_are_not_links() -> None:
    assert find_links("Chuyển 1.000.000.000đ ở TP.HCM, v.v.") == []


def test_every_official_domain_has_a_source() -> None:
    official = load_official_domains()
    assert official.organisations
    seen: set[str] = set()
    for organisation in official.organisations:
        assert organisation.source.title and organisation.source.publisher
        for domain in organisation.domains:
            assert domain not in seen, f"{domain} listed twice"
            seen.add(domain)
    assert {"dichvucong.gov.vn", "baohiemxahoi.gov.vn", "vietcombank.com.vn", "momo.vn"} <= seen
    assert [suffix.suffix for suffix in official.suffixes] == ["gov.vn"]


def test_an_entry_without_a_source_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "official.yaml"
    broken.write_text("organisations:\n  - name: X\n    domains: [x.vn]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source"):
        load_official_domains(broken)
    assert OFFICIAL_DOMAINS_FILE.is_file()
