"""Personal ID number (số định danh cá nhân, printed on the CCCD / thẻ căn cước) and the old CMND.

Layout ``PPP G YY RRRRRR`` per NĐ 137/2015/NĐ-CP Art. 13 and TT 07/2016/TT-BCA Art. 7: province of
birth registration, century+sex digit, last two digits of the birth year, six random digits. The
Luật Căn cước 2023 (26/2023/QH15) keeps the concept; that the layout is unchanged is assumed
(unverified). There is no check digit, so only structure and consistency with sex and birth year
can be checked. Unknown province prefixes are not errors (births registered abroad, data errors),
only a warning the caller may show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from benhan.vn.errors import InvalidValue
from benhan.vn.provinces import province_name

Sex = Literal["male", "female"]

# (first digit, last digit, Vietnamese name, English name) of each part, 1-based.
_PARTS = (
    (1, 3, "mã nơi đăng ký khai sinh", "birth-registration province code"),
    (4, 4, "thế kỷ/giới tính", "century/sex"),
    (5, 6, "năm sinh", "birth year"),
    (7, 12, "số ngẫu nhiên", "serial number"),
)
_SEPARATORS = str.maketrans("", "", " .-\t")


def _digits(start: int, end: int) -> tuple[str, str]:
    if start == end:
        return f"chữ số thứ {start}", f"digit {start}"
    return f"chữ số {start}–{end}", f"digits {start}–{end}"


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Cccd:
    """A parsed 12-digit personal ID number."""

    province: str  # mã tỉnh nơi đăng ký khai sinh, 3 digits, e.g. "079"
    century_sex: int  # chữ số thứ 4: 0/1 = 1900s male/female, 2/3 = 2000s, ... 8/9 = 2300s
    year2: str  # last two digits of the birth year, e.g. "85"
    serial: str  # 6 random digits

    @property
    def value(self) -> str:
        return f"{self.province}{self.century_sex}{self.year2}{self.serial}"

    @property
    def sex(self) -> Sex:
        return "female" if self.century_sex % 2 else "male"

    @property
    def birth_year(self) -> int:
        return 1900 + 100 * (self.century_sex // 2) + int(self.year2)

    @property
    def province_name(self) -> str | None:
        """Province name from TT 07/2016/TT-BCA Annex I, or None for an unknown prefix."""
        return province_name(self.province)

    def __str__(self) -> str:
        return self.value


def normalize(value: str) -> str:
    """``value`` without spaces, dots and hyphens people type between digit groups (for UI input)."""
    return value.strip().translate(_SEPARATORS)


def parse_cccd(value: str) -> Cccd:
    """Parse a 12-digit personal ID; raise :class:`InvalidValue` naming the part that is wrong."""
    if not isinstance(value, str):
        raise InvalidValue("cccd.type", "Số CCCD phải là chuỗi ký tự", "CCCD: must be a string")
    if len(value) != 12 or not _is_digits(value):
        cleaned = normalize(value)
        if cleaned != value and len(cleaned) == 12 and _is_digits(cleaned):
            raise InvalidValue("cccd.format",
                               "Số CCCD phải viết liền 12 chữ số, không có dấu cách hay dấu phân cách",
                               "CCCD: write the 12 digits without spaces or separators")
    if len(value) != 12:
        raise InvalidValue("cccd.length", f"Số CCCD phải gồm đúng 12 chữ số, nhận {len(value)} ký tự",
                           f"CCCD: must be exactly 12 digits, got {len(value)} characters")
    for start, end, vi, en in _PARTS:
        if not _is_digits(value[start - 1:end]):
            where_vi, where_en = _digits(start, end)
            raise InvalidValue("cccd.digits", f"Số CCCD: {where_vi} ({vi}) chứa ký tự không phải chữ số",
                               f"CCCD: {where_en} ({en}) contain a non-digit character", span=(start, end))
    return Cccd(value[:3], int(value[3]), value[4:6], value[6:])


def birth_year_of(birth_date: date | str | int | None) -> int | None:
    """The year of a FHIR ``date`` string (YYYY, YYYY-MM, YYYY-MM-DD), a date or an int; else None."""
    if birth_date is None:
        return None
    if isinstance(birth_date, date):
        return birth_date.year
    if isinstance(birth_date, int):
        return birth_date
    if isinstance(birth_date, str) and len(birth_date) >= 4 and _is_digits(birth_date[:4]):
        return int(birth_date[:4])
    return None


def check_consistency(cccd: Cccd, sex: str | None, birth_date: date | str | int | None) -> list[InvalidValue]:
    """Problems between the number and the person's sex and birth date (empty list if consistent).

    ``sex`` is a FHIR gender: only "male" and "female" are checked ("other"/"unknown" cannot be
    encoded in digit 4). ``birth_date`` may be partial ("1985"): only its year is used.
    """
    problems: list[InvalidValue] = []
    year = birth_year_of(birth_date)
    sex_bit = {"male": 0, "female": 1}.get(sex or "")
    wrong_vi: list[str] = []
    wrong_en: list[str] = []
    if sex_bit is not None and cccd.century_sex % 2 != sex_bit:
        wrong_vi.append("giới tính " + ("nữ" if sex_bit else "nam"))
        wrong_en.append(f"gender {sex}")
    if year is not None and year // 100 != cccd.birth_year // 100:
        wrong_vi.append(f"năm sinh {year}")
        wrong_en.append(f"birth year {year}")
    if wrong_vi:
        century_index = year // 100 - 19 if year is not None else cccd.century_sex // 2
        expected = 2 * century_index + (sex_bit if sex_bit is not None else cccd.century_sex % 2)
        hint_vi = f" (phải là {expected})" if 0 <= expected <= 9 else ""
        hint_en = f" (expected {expected})" if 0 <= expected <= 9 else ""
        problems.append(InvalidValue(
            "cccd.century_sex",
            f"Số CCCD: chữ số thứ 4 (thế kỷ/giới tính) không khớp với {' và '.join(wrong_vi)}{hint_vi}",
            f"CCCD: digit 4 (century/sex) does not match {' and '.join(wrong_en)}{hint_en}",
            span=(4, 4), code="business-rule"))
    if year is not None and f"{year % 100:02d}" != cccd.year2:
        problems.append(InvalidValue(
            "cccd.birth_year",
            f"Số CCCD: chữ số 5–6 (năm sinh) không khớp với năm sinh {year} (phải là {year % 100:02d})",
            f"CCCD: digits 5–6 (birth year) do not match birth year {year} (expected {year % 100:02d})",
            span=(5, 6), code="business-rule"))
    return problems


def check_not_future(cccd: Cccd, today: date) -> InvalidValue | None:
    """An error if digits 4–6 encode a birth year after ``today``'s year (e.g. digit 4 = 4 → 2100s)."""
    if cccd.birth_year <= today.year:
        return None
    return InvalidValue(
        "cccd.future",
        f"Số CCCD: chữ số 4–6 cho năm sinh {cccd.birth_year}, sau năm hiện tại",
        f"CCCD: digits 4–6 give birth year {cccd.birth_year}, which is in the future",
        span=(4, 6), code="business-rule")


def unknown_province(cccd: Cccd) -> InvalidValue | None:
    """A warning (never an error) if digits 1–3 are not one of the 63 codes of TT 07/2016 Annex I."""
    if cccd.province_name is not None:
        return None
    return InvalidValue(
        "cccd.province",
        f"Số CCCD: chữ số 1–3 ({cccd.province}) không có trong danh mục mã tỉnh (TT 07/2016/TT-BCA)",
        f"CCCD: digits 1–3 ({cccd.province}) are not a province code of TT 07/2016/TT-BCA",
        span=(1, 3))


def make_cccd(province: str | int, sex: Sex, birth_date: date | int, serial: int | str) -> str:
    """A structurally valid number for test and demo data: ``make_cccd("079", "female", 1990, 1)``.

    ``province`` is a 2- or 3-digit code (79, "79" or "079"), ``birth_date`` a date or a year in
    1900–2399, ``serial`` 0–999999 or six digits. Raises ValueError on anything out of range.
    """
    code = f"{province:03d}" if isinstance(province, int) else province.zfill(3)
    if not (len(code) == 3 and _is_digits(code)):
        raise ValueError(f"province must be a 2- or 3-digit code, got {province!r}")
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    year = birth_date.year if isinstance(birth_date, date) else birth_date
    if not 1900 <= year <= 2399:
        raise ValueError(f"birth year must be in 1900–2399, got {year}")
    tail = f"{serial:06d}" if isinstance(serial, int) else serial
    if not (len(tail) == 6 and _is_digits(tail)):
        raise ValueError(f"serial must be 0–999999 or six digits, got {serial!r}")
    digit = 2 * (year // 100 - 19) + (1 if sex == "female" else 0)
    return f"{code}{digit}{year % 100:02d}{tail}"


# --- Old ID card (chứng minh nhân dân, CMND) ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cmnd:
    """An old ID card number: 9 digits, or 12 digits for cards issued 2012–2016.

    The 12-digit CMND layout is not established by our sources, so it is checked as 12 digits only,
    never against sex or birth year; its holders normally have the same number as a CCCD.
    """

    value: str

    @property
    def is_nine_digit(self) -> bool:
        return len(self.value) == 9


def parse_cmnd(value: str) -> Cmnd:
    """Parse a CMND number (9 or 12 digits); still accepted in XML ``SO_CCCD`` (QĐ 130/4750)."""
    if not isinstance(value, str):
        raise InvalidValue("cmnd.type", "Số CMND phải là chuỗi ký tự", "CMND: must be a string")
    cleaned = normalize(value)
    if cleaned != value and len(cleaned) in (9, 12) and _is_digits(cleaned):
        raise InvalidValue("cmnd.format",
                           "Số CMND phải viết liền các chữ số, không có dấu cách hay dấu phân cách",
                           "CMND: write the digits without spaces or separators")
    if len(value) not in (9, 12):
        raise InvalidValue("cmnd.length",
                           f"Số CMND phải gồm 9 chữ số (CMND cũ) hoặc 12 chữ số, nhận {len(value)} ký tự",
                           f"CMND: must be 9 digits (old card) or 12 digits, got {len(value)} characters")
    if not _is_digits(value):
        raise InvalidValue("cmnd.digits", "Số CMND chỉ được gồm chữ số", "CMND: must contain digits only")
    return Cmnd(value)
