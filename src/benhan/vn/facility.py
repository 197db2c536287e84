"""Healthcare facility codes (mã cơ sở KCB) and BHYT department codes (mã khoa).

Facility code: 5 digits, 2-digit province + 3-digit number (``MA_CSKCB``, ``MA_DKBD``,
``MA_NOI_DI/DEN``; assignment principles QĐ 384/QĐ-BYT 2019 (2°)). A temporary BHYT card's
``MA_DKBD`` is the province + ``000`` (QĐ 130 annex). The 13-digit facility ID of the electronic
health book (QĐ 1551/QĐ-BYT) and the ``C.``/``K.``/``M.``/``HC.``/``VC.`` XML prefixes are other
things and are not parsed here.

Department code: ``K01``–``K60`` and ``K99`` (QĐ 1804/QĐ-BYT 2026 Phụ lục 02, after QĐ 5937/2021 and
QĐ 2010/2025), with multi-specialty concatenations (``K0809``), sub-units (``K16.1``) and units
attached to a department (``K02.D35``); field ``MA_KHOA`` ≤ 50 characters. The grammar of the
suffixes is from secondary notes (2°): we accept ``.`` + 1–2 digits and ``.D`` + 1–3 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from benhan.vn.errors import InvalidValue, positions
from benhan.vn.provinces import is_bhyt_issuer, province_name

# --- Facility code (mã cơ sở khám bệnh, chữa bệnh) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class FacilityCode:
    province: str  # mã tỉnh, 2 digits
    number: str  # 3 digits within the province

    @property
    def value(self) -> str:
        return self.province + self.number

    @property
    def is_temporary_card_registration(self) -> bool:
        """``PP000``: the MA_DKBD written for a temporary BHYT card (thẻ tạm)."""
        return self.number == "000"

    @property
    def province_name(self) -> str | None:
        return province_name(self.province)

    def __str__(self) -> str:
        return self.value


def parse_facility_code(value: str, *,
                        label: tuple[str, str] = ("Mã cơ sở KCB", "Facility code")) -> FacilityCode:
    """Parse a 5-digit facility code; ``label`` names the field in messages (e.g. registered facility)."""
    vi, en = label
    if not isinstance(value, str):
        raise InvalidValue("facility.type", f"{vi} phải là chuỗi ký tự", f"{en}: must be a string")
    if len(value) != 5:
        raise InvalidValue("facility.length",
                           f"{vi} phải gồm 5 chữ số (2 số mã tỉnh + 3 số), nhận {len(value)} ký tự",
                           f"{en}: must be 5 digits (2-digit province + 3 digits), "
                           f"got {len(value)} characters")
    province, number = value[:2], value[2:]
    if not (province.isascii() and province.isdigit() and is_bhyt_issuer(province)):
        pvi, pen = positions(1, 2)
        raise InvalidValue("facility.province", f"{vi}: {pvi} (mã tỉnh) không hợp lệ: '{province}'",
                           f"{en}: {pen} (province code) invalid: '{province}'", span=(1, 2))
    if not (number.isascii() and number.isdigit()):
        nvi, nen = positions(3, 5)
        raise InvalidValue("facility.number", f"{vi}: {nvi} (số thứ tự cơ sở) phải là chữ số",
                           f"{en}: {nen} (facility number) must be digits", span=(3, 5))
    return FacilityCode(province, number)


# --- Department code (mã khoa) --------------------------------------------------------------------

MAX_DEPARTMENT_CODE_LENGTH = 50  # MA_KHOA string(50)
_SUFFIX = re.compile(r"(?:(?P<sub>[0-9]{1,2})|D(?P<attached>[0-9]{1,3}))\Z")


def is_department_number(two_digits: str) -> bool:
    """True for 01–60 and 99 (K99: ward for infectious diseases of group A)."""
    if not (len(two_digits) == 2 and two_digits.isascii() and two_digits.isdigit()):
        return False
    n = int(two_digits)
    return 1 <= n <= 60 or n == 99


@dataclass(frozen=True, slots=True)
class DepartmentCode:
    departments: tuple[str, ...]  # e.g. ("K08", "K09") for K0809
    sub_unit: str | None = None  # "1" in K16.1
    attached_unit: str | None = None  # "D35" in K02.D35

    @property
    def value(self) -> str:
        base = "K" + "".join(code[1:] for code in self.departments)
        if self.sub_unit is not None:
            return f"{base}.{self.sub_unit}"
        if self.attached_unit is not None:
            return f"{base}.{self.attached_unit}"
        return base

    def __str__(self) -> str:
        return self.value


def parse_department_code(value: str) -> DepartmentCode:
    """Parse a BHYT department code such as ``K01``, ``K0809``, ``K16.1`` or ``K02.D35``."""
    if not isinstance(value, str):
        raise InvalidValue("department.type", "Mã khoa phải là chuỗi ký tự",
                           "Department code: must be a string")
    if len(value) > MAX_DEPARTMENT_CODE_LENGTH:
        raise InvalidValue("department.length",
                           f"Mã khoa dài tối đa {MAX_DEPARTMENT_CODE_LENGTH} ký tự, nhận {len(value)}",
                           f"Department code: at most {MAX_DEPARTMENT_CODE_LENGTH} characters, "
                           f"got {len(value)}")
    if not value.startswith("K"):
        raise InvalidValue("department.prefix", "Mã khoa phải bắt đầu bằng chữ 'K' (ví dụ K01)",
                           "Department code: must start with 'K' (e.g. K01)", span=(1, 1))
    base, dot, suffix = value[1:].partition(".")
    if not base or len(base) % 2:
        vi, en = positions(2, len(base) + 1) if base else ("ký tự 2", "character 2")
        raise InvalidValue("department.number",
                           f"Mã khoa: {vi} phải là một hoặc nhiều cặp 2 chữ số (K01, K0809)",
                           f"Department code: {en} must be one or more 2-digit numbers (K01, K0809)",
                           span=(2, max(2, len(base) + 1)))
    codes: list[str] = []
    for i in range(0, len(base), 2):
        pair = base[i:i + 2]
        if not is_department_number(pair):
            vi, en = positions(i + 2, i + 3)
            raise InvalidValue("department.number",
                               f"Mã khoa: {vi} ('{pair}') phải thuộc 01–60 hoặc 99",
                               f"Department code: {en} ('{pair}') must be 01–60 or 99", span=(i + 2, i + 3))
        if "K" + pair in codes:
            vi, en = positions(i + 2, i + 3)
            raise InvalidValue("department.duplicate", f"Mã khoa: {vi} lặp lại khoa K{pair}",
                               f"Department code: {en} repeat department K{pair}", span=(i + 2, i + 3))
        codes.append("K" + pair)
    if not dot:
        return DepartmentCode(tuple(codes))
    match = _SUFFIX.match(suffix)
    if match is None:
        start = len(base) + 3
        vi, en = positions(start, max(start, len(value)))
        raise InvalidValue("department.suffix",
                           f"Mã khoa: {vi} sau dấu chấm phải là số đơn vị (K16.1) hoặc D + số (K02.D35)",
                           f"Department code: {en} after the dot must be a unit number (K16.1) or D + digits "
                           f"(K02.D35)", span=(start, max(start, len(value))))
    attached = match.group("attached")
    return DepartmentCode(tuple(codes), match.group("sub"), "D" + attached if attached is not None else None)
