"""Province table of TT 07/2016/TT-BCA Annex I."""

from __future__ import annotations

from benhan.vn.provinces import BHXH_SPECIAL_ISSUERS, PROVINCES, is_bhyt_issuer, province_name


def test_sixty_three_codes_from_001_to_096() -> None:
    assert len(PROVINCES) == 63
    assert min(PROVINCES) == "01" and max(PROVINCES) == "96"
    assert all(len(code) == 2 and code.isdigit() for code in PROVINCES)
    assert len(set(PROVINCES.values())) == 63


def test_well_known_codes() -> None:
    assert [province_name(c) for c in ("001", "031", "048", "079", "092")] == [
        "Hà Nội", "Hải Phòng", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"]
    assert province_name("79") == "Hồ Chí Minh"
    assert province_name("003") is None and province_name("97") is None and province_name("179") is None


def test_bhyt_issuers() -> None:
    assert is_bhyt_issuer("01") and is_bhyt_issuer("96")
    assert all(is_bhyt_issuer(code) for code in BHXH_SPECIAL_ISSUERS)
    assert not is_bhyt_issuer("00") and not is_bhyt_issuer("03") and not is_bhyt_issuer("99")
