"""Pre-2025 province codes (mã tỉnh) shared by the CCCD, the BHYT card and facility codes.

Source: Annex I (Phụ lục 1) of TT 07/2016/TT-BCA (01/02/2016), "mã tỉnh, thành phố trực thuộc trung
ương nơi công dân đăng ký khai sinh", 63 codes 001–096, as reproduced by thuvienphapluat.vn
(checked 2026-11-22). The 2-digit form is the same number (XML 130 ``MATINH_CU_TRU`` = last two
digits of the TT 07/2016 code; the first two characters of a BHYT facility code are the province).

After the 2025 merger the 34 provinces kept codes from this list, and existing CCCD numbers are not
reissued (unverified), so this table stays valid for reading. Kept as a Python module, not a file,
so the write-path check never does I/O.
"""

from __future__ import annotations

from typing import Final

# 2-digit code -> province name as in the annex (pre-2025 boundaries).
PROVINCES: Final[dict[str, str]] = {
    "01": "Hà Nội", "02": "Hà Giang", "04": "Cao Bằng", "06": "Bắc Kạn", "08": "Tuyên Quang",
    "10": "Lào Cai", "11": "Điện Biên", "12": "Lai Châu", "14": "Sơn La", "15": "Yên Bái",
    "17": "Hòa Bình", "19": "Thái Nguyên", "20": "Lạng Sơn", "22": "Quảng Ninh", "24": "Bắc Giang",
    "25": "Phú Thọ", "26": "Vĩnh Phúc", "27": "Bắc Ninh", "30": "Hải Dương", "31": "Hải Phòng",
    "33": "Hưng Yên", "34": "Thái Bình", "35": "Hà Nam", "36": "Nam Định", "37": "Ninh Bình",
    "38": "Thanh Hóa", "40": "Nghệ An", "42": "Hà Tĩnh", "44": "Quảng Bình", "45": "Quảng Trị",
    "46": "Thừa Thiên Huế", "48": "Đà Nẵng", "49": "Quảng Nam", "51": "Quảng Ngãi", "52": "Bình Định",
    "54": "Phú Yên", "56": "Khánh Hòa", "58": "Ninh Thuận", "60": "Bình Thuận", "62": "Kon Tum",
    "64": "Gia Lai", "66": "Đắk Lắk", "67": "Đắk Nông", "68": "Lâm Đồng", "70": "Bình Phước",
    "72": "Tây Ninh", "74": "Bình Dương", "75": "Đồng Nai", "77": "Bà Rịa - Vũng Tàu",
    "79": "Hồ Chí Minh", "80": "Long An", "82": "Tiền Giang", "83": "Bến Tre", "84": "Trà Vinh",
    "86": "Vĩnh Long", "87": "Đồng Tháp", "89": "An Giang", "91": "Kiên Giang", "92": "Cần Thơ",
    "93": "Hậu Giang", "94": "Sóc Trăng", "95": "Bạc Liêu", "96": "Cà Mau",
}

# Issuer codes on BHYT cards that are not provinces: the BHXH of the Ministry of Defence (97) and
# of Public Security (98) issue cards for QN/CA/CY and their families. (unverified: from memory of
# printed cards, no source read); accepted so that such cards are never refused at registration.
BHXH_SPECIAL_ISSUERS: Final[dict[str, str]] = {
    "97": "BHXH Bộ Quốc phòng",
    "98": "BHXH Công an nhân dân",
}


def province_name(code: str) -> str | None:
    """Name of the province with 2-digit ``code`` (e.g. "79"), or 3-digit CCCD code ("079")."""
    if len(code) == 3 and code[0] == "0":
        code = code[1:]
    return PROVINCES.get(code)


def is_bhyt_issuer(code: str) -> bool:
    """True if ``code`` may stand in characters 4–5 of a BHYT card (a province or a special BHXH)."""
    return code in PROVINCES or code in BHXH_SPECIAL_ISSUERS
