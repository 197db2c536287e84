"""BHYT health-insurance card (thẻ bảo hiểm y tế): card code, validity, benefit level (mức hưởng).

Card code, 15 characters (QĐ 1351/QĐ-BHXH 2015, amended; XML 130 ``MA_THE_BHYT``)::

    DN 4 79 1234567890
    |  | |  +-- characters 6–15: mã số BHXH, the person's 10-digit social-insurance number
    |  | +----- characters 4–5: province code of the issuing BHXH (BHXH lookup error 052)
    |  +------- character 3: benefit level, mã quyền lợi 1–5 (BHXH lookup error 053)
    +---------- characters 1–2: beneficiary group, mã đối tượng

The BHXH lookup API and newer cards use the 10-digit number alone, so :func:`parse_number` accepts
both. Group-code lists are unverified vendor data in ``data/bhyt_groups.json``: an unknown group is
only ever a warning. Always trust the portal lookup over anything computed here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources

from benhan.vn.errors import InvalidValue, positions
from benhan.vn.facility import FacilityCode, parse_facility_code
from benhan.vn.provinces import is_bhyt_issuer

CARD_LENGTH = 15
NUMBER_LENGTH = 10
_SEPARATORS = str.maketrans("", "", " .-\t")
_CARD = ("Mã thẻ BHYT", "BHYT card")
_NUMBER = ("Mã số BHXH", "BHXH number")


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class BhytCard:
    """A parsed card code, or only the 10-digit number (then group, benefit and province are None)."""

    social_insurance_number: str  # mã số BHXH, 10 digits
    group: str | None = None  # mã đối tượng, e.g. "DN"
    benefit_digit: int | None = None  # mã quyền lợi (mức hưởng), 1–5
    province: str | None = None  # mã tỉnh of the issuing BHXH, 2 digits

    @property
    def is_full_code(self) -> bool:
        return self.group is not None

    @property
    def value(self) -> str:
        if self.group is None:
            return self.social_insurance_number
        return f"{self.group}{self.benefit_digit}{self.province}{self.social_insurance_number}"

    def __str__(self) -> str:
        return self.value


def normalize(value: str) -> str:
    """``value`` in capitals without the spaces, dots and hyphens of printed cards (for UI input)."""
    return value.strip().translate(_SEPARATORS).upper()


def parse_card(value: str) -> BhytCard:
    """Parse a 15-character card code; raise :class:`InvalidValue` naming the part that is wrong."""
    _check_type(value, _CARD)
    if len(value) != CARD_LENGTH:
        _raise_if_only_separators(value, (CARD_LENGTH,))
        raise InvalidValue("bhyt.length", f"Mã thẻ BHYT phải gồm 15 ký tự, nhận {len(value)}",
                           f"BHYT card: must be 15 characters, got {len(value)}")
    return _parse_card(value)


def parse_number(value: str) -> BhytCard:
    """Parse what the ``insurance_number`` system may hold: a 15-character code or the 10-digit number."""
    _check_type(value, _CARD)
    if len(value) == CARD_LENGTH:
        return _parse_card(value)
    if len(value) == NUMBER_LENGTH:
        return BhytCard(parse_social_insurance_number(value))
    _raise_if_only_separators(value, (CARD_LENGTH, NUMBER_LENGTH))
    raise InvalidValue("bhyt.length",
                       f"Mã thẻ BHYT phải gồm 15 ký tự (hoặc mã số BHXH 10 chữ số), nhận {len(value)}",
                       f"BHYT card: must be 15 characters (or the 10-digit BHXH number), got {len(value)}")


def parse_social_insurance_number(value: str) -> str:
    """Check the 10-digit mã số BHXH on its own (as the lookup API and new cards use it)."""
    _check_type(value, _NUMBER)
    if len(value) != NUMBER_LENGTH:
        _raise_if_only_separators(value, (NUMBER_LENGTH,))
        raise InvalidValue("bhyt.number_length", f"Mã số BHXH phải gồm 10 chữ số, nhận {len(value)} ký tự",
                           f"BHXH number: must be 10 digits, got {len(value)} characters")
    if not _digits(value):
        raise InvalidValue("bhyt.number", "Mã số BHXH chỉ được gồm chữ số",
                           "BHXH number: must contain digits only",
                           span=(1, NUMBER_LENGTH))
    return value


def _check_type(value: object, label: tuple[str, str]) -> None:
    if not isinstance(value, str):
        raise InvalidValue("bhyt.type", f"{label[0]} phải là chuỗi ký tự", f"{label[1]}: must be a string")


def _raise_if_only_separators(value: str, lengths: tuple[int, ...]) -> None:
    cleaned = normalize(value)
    if len(cleaned) != len(value) and len(cleaned) in lengths:
        try:
            parse_number(cleaned)
        except InvalidValue:
            return
        raise InvalidValue("bhyt.format",
                           "Mã thẻ BHYT phải viết liền, chữ in hoa, không có dấu cách hay dấu phân cách",
                           "BHYT card: write the code in capitals without spaces or separators")


def _part_error(rule: str, start: int, end: int, vi: str, en: str) -> InvalidValue:
    where_vi, where_en = positions(start, end)
    return InvalidValue(rule, f"Mã thẻ BHYT: {where_vi} {vi}", f"BHYT card: {where_en} {en}",
                        span=(start, end))


def _parse_card(value: str) -> BhytCard:
    group, digit, province, number = value[:2], value[2], value[3:5], value[5:]
    if not (group.isascii() and group.isalpha() and group.isupper()):
        raise _part_error("bhyt.group", 1, 2, "(mã đối tượng) phải là 2 chữ cái in hoa",
                          "(beneficiary group code) must be two capital letters")
    if digit not in "12345":
        raise _part_error("bhyt.benefit", 3, 3, "(mã quyền lợi) phải là chữ số 1–5",
                          "(benefit level) must be a digit 1–5")
    if not (_digits(province) and is_bhyt_issuer(province)):
        raise _part_error("bhyt.province", 4, 5, f"(mã tỉnh) không hợp lệ: '{province}'",
                          f"(province code) invalid: '{province}'")
    if not _digits(number):
        raise _part_error("bhyt.number", 6, 15, "(mã số BHXH) phải là 10 chữ số",
                          "(BHXH number) must be 10 digits")
    return BhytCard(number, group, int(digit), province)


def make_bhyt(group: str, benefit_digit: int, province: str | int, social_insurance_number: str | int) -> str:
    """A valid 15-character card code for test and demo data: ``make_bhyt("DN", 4, 79, 1234567890)``."""
    issuer = f"{province:02d}" if isinstance(province, int) else province
    code = f"{group}{benefit_digit}{issuer}"
    number = (f"{social_insurance_number:010d}" if isinstance(social_insurance_number, int)
              else social_insurance_number)
    try:
        return parse_card(code + number).value
    except InvalidValue as exc:
        raise ValueError(exc.en) from exc


# --- Beneficiary groups (data, unverified) ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GroupInfo:
    code: str  # mã đối tượng
    benefit_digit: int  # the digit this group usually carries (vendor list)
    vi: str | None
    en: str | None


@cache
def _groups() -> dict[str, GroupInfo]:
    raw = json.loads(resources.files("benhan.vn").joinpath("data/bhyt_groups.json").read_text("utf-8"))
    return {g["code"]: GroupInfo(g["code"], g["benefit_digit"], g["vi"], g["en"]) for g in raw["groups"]}


def group_info(code: str) -> GroupInfo | None:
    """What the (unverified) vendor list says about group ``code``, or None if it does not list it."""
    return _groups().get(code)


def unknown_group(card: BhytCard) -> InvalidValue | None:
    """A warning (never an error) when characters 1–2 are not in the vendor group list."""
    if card.group is None or group_info(card.group) is not None:
        return None
    return InvalidValue("bhyt.group_unknown",
                        f"Mã thẻ BHYT: ký tự 1–2 (mã đối tượng) '{card.group}' không có trong danh mục "
                        "đã biết",
                        f"BHYT card: characters 1–2 (beneficiary group code) '{card.group}' is not a known "
                        "group",
                        span=(1, 2))


# --- Benefit level (mức hưởng) ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Benefit:
    """What benefit digit ``digit`` gives (Luật BHYT Art. 22 cl. 1; digit table of QĐ 1351, (2°))."""

    digit: int  # mã quyền lợi
    percent: int  # mức hưởng of covered costs
    without_rate_limits: bool  # digit 1: no payment-rate limits for some drugs, supplies, services
    beyond_scope: bool  # digit 5: also costs outside the BHYT scope
    transport: bool  # chi phí vận chuyển covered


BENEFITS: dict[int, Benefit] = {
    1: Benefit(1, 100, without_rate_limits=True, beyond_scope=False, transport=True),
    2: Benefit(2, 100, without_rate_limits=False, beyond_scope=False, transport=True),
    3: Benefit(3, 95, without_rate_limits=False, beyond_scope=False, transport=False),
    4: Benefit(4, 80, without_rate_limits=False, beyond_scope=False, transport=False),
    5: Benefit(5, 100, without_rate_limits=False, beyond_scope=True, transport=True),
}
SMALL_BILL_PERCENT_OF_REFERENCE = 15  # one visit below 15% of lương cơ sở / mức tham chiếu → 100%
FIVE_YEAR_COPAYMENT_MONTHS = 6  # co-payment in the year above 6 months of lương cơ sở → 100%


def benefit(card: BhytCard | int) -> Benefit:  # quyền lợi
    """The benefit of a card (or a benefit digit); the 10-digit number alone does not say it."""
    digit = card.benefit_digit if isinstance(card, BhytCard) else card
    if digit not in BENEFITS:
        raise InvalidValue("bhyt.benefit_unknown",
                           "Không xác định được mức hưởng: cần mã thẻ BHYT 15 ký tự hoặc kết quả tra cứu "
                           "cổng BHXH",
                           "Benefit level unknown: needs the 15-character card code or the BHXH portal "
                           "lookup")
    return BENEFITS[digit]


def benefit_level(card: BhytCard | int, *, visit_cost: int | None = None, reference_salary: int | None = None,
                  five_years_from: date | None = None, copayment_this_year: int | None = None,
                  on: date | None = None) -> int:  # mức hưởng
    """Percent of covered costs the fund pays for one visit: the card's level, raised to 100 by law.

    - ``visit_cost`` below 15% of ``reference_salary`` (lương cơ sở, VND; 2,340,000 from 01/07/2024,
      unverified) → 100 (Luật BHYT Art. 22; "mức tham chiếu" since Luật 51/2024).
    - ``five_years_from`` (ngày đủ 5 năm liên tục) on or before ``on`` and ``copayment_this_year``
      above 6 × ``reference_salary`` → 100 until 31/12 (Art. 22 cl. 1 d; NĐ 188/2025 Art. 18, 2°).

    Routing rules (thông tuyến, cấp chuyên môn kỹ thuật) and emergency are not applied here: they
    change what share of the card's level applies at a facility, not the level itself.
    """
    level = benefit(card).percent
    if level == 100:
        return level
    if visit_cost is not None:
        if reference_salary is None:
            raise ValueError("visit_cost needs reference_salary (lương cơ sở)")
        if visit_cost * 100 < SMALL_BILL_PERCENT_OF_REFERENCE * reference_salary:
            return 100
    if five_years_from is not None and copayment_this_year is not None:
        if reference_salary is None or on is None:
            raise ValueError("the 5-year rule needs reference_salary and on")
        if five_years_reached(five_years_from, on) and (
                copayment_this_year > FIVE_YEAR_COPAYMENT_MONTHS * reference_salary):
            return 100
    return level


def parse_registered_facility(value: str) -> FacilityCode:  # nơi đăng ký KCB ban đầu (MA_DKBD)
    """The card's registered primary-care facility: a 5-digit facility code, ``PP000`` on a temporary card."""
    return parse_facility_code(value, label=("Nơi đăng ký KCB ban đầu", "Registered primary-care facility"))


def five_years_reached(five_years_from: date | None, on: date) -> bool:
    """True once the card's 5-continuous-years date (thời điểm đủ 5 năm liên tục) has come."""
    return five_years_from is not None and five_years_from <= on


# --- Validity (GT_THE_TU / GT_THE_DEN) ------------------------------------------------------------

# A card expiring during a stay is paid until discharge, at most 15 days (NĐ 188/2025 Art. 50 cl. 4, 2°).
INPATIENT_GRACE_DAYS = 15


def parse_card_date(value: str) -> date:
    """A card date as XML 130 writes it (``yyyymmdd``) or as the BHXH portal returns it (``dd/mm/yyyy``)."""
    for fmt in ("%Y%m%d", "%d/%m/%Y"):
        try:
            if len(value) in (8, 10):
                return datetime.strptime(value, fmt).date()
        except (TypeError, ValueError):
            continue
    raise InvalidValue("bhyt.date", "Ngày trên thẻ BHYT phải có dạng yyyymmdd hoặc dd/mm/yyyy",
                       "BHYT card date: must be yyyymmdd or dd/mm/yyyy")


@dataclass(frozen=True, slots=True)
class CardValidity:
    """The card's period of use (giá trị sử dụng); either end may be unknown."""

    valid_from: date | None  # GT_THE_TU
    valid_to: date | None  # GT_THE_DEN

    def __post_init__(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise InvalidValue("bhyt.validity_order", "Hạn thẻ BHYT: ngày hết hạn trước ngày bắt đầu",
                               "BHYT card validity: valid-to is before valid-from", code="business-rule")

    def covers(self, on: date) -> bool:
        started = self.valid_from is None or self.valid_from <= on
        return started and (self.valid_to is None or on <= self.valid_to)

    def is_expired(self, on: date) -> bool:  # thẻ hết hạn
        return self.valid_to is not None and on > self.valid_to

    def covers_inpatient(self, admitted: date, on: date) -> bool:
        """Covered on day ``on`` of a stay that began on ``admitted`` (grace after expiry, max 15 days)."""
        if self.covers(on):
            return True
        return (self.covers(admitted) and self.valid_to is not None
                and on <= self.valid_to + timedelta(days=INPATIENT_GRACE_DAYS))
