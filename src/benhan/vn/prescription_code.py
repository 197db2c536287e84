"""Prescription code (mã đơn thuốc) of TT 26/2025/TT-BYT: ``xxxxxyyyyyyy-z``, 14 characters.

``xxxxx`` is the 5-character facility code, ``yyyyyyy`` seven random characters from ``[0-9a-z]`` drawn
from a CSPRNG (unique within the facility; a counter would let anyone guess other patients' codes),
then ``-`` and the type letter: N narcotic (gây nghiện), H psychotropic / precursor (hướng thần, tiền
chất), C every other drug (shared/domain/e-prescription.md §2). Codes are written in lower case, as
the national system's clients send them; the check accepts either case.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable

from .errors import InvalidValue
from .systems import PRESCRIPTION_CODE

ALPHABET = string.digits + string.ascii_lowercase
RANDOM_LENGTH = 7
TYPES = ("c", "h", "n")  # least to most restrictive
SYSTEM = PRESCRIPTION_CODE  # groupIdentifier.system of the prescription's MedicationRequests
_FACILITY = re.compile(r"[0-9A-Za-z]{5}")
_CODE = re.compile(r"([0-9A-Za-z]{5})([0-9a-zA-Z]{7})-([cCnNhH])")


def most_restrictive(classes: Iterable[str]) -> str:
    """The type letter of a prescription holding drugs of these classes (``N`` > ``H`` > ``C``)."""
    letters = {c.lower() for c in classes}
    return next((t for t in reversed(TYPES) if t in letters), "c")


def generate(facility_code: str, kind: str = "c", *, choice: Callable[[str], str] = secrets.choice) -> str:
    """A new code for ``facility_code``; ``choice`` is injectable for tests, a CSPRNG otherwise."""
    if not _FACILITY.fullmatch(facility_code or ""):
        raise InvalidValue("rx-code.facility", "Mã cơ sở khám chữa bệnh phải gồm 5 ký tự chữ hoặc số",
                           "The facility code must be 5 letters or digits", span=(1, 5))
    kind = kind.lower()
    if kind not in TYPES:
        raise InvalidValue("rx-code.type", "Loại đơn thuốc phải là C, H hoặc N",
                           "The prescription type must be C, H or N", span=(14, 14))
    return facility_code.lower() + "".join(choice(ALPHABET) for _ in range(RANDOM_LENGTH)) + "-" + kind


def with_type(code: str, kind: str) -> str:
    """The same code with another type letter (the prescription gained a more restrictive drug)."""
    validate(code)
    return code[:-1] + kind.lower()


def validate(code: str) -> str:
    """The code in lower case, or :class:`InvalidValue` naming the part that is wrong."""
    if not isinstance(code, str) or len(code) != 14:
        raise InvalidValue("rx-code.length", "Mã đơn thuốc phải có đúng 14 ký tự (xxxxxyyyyyyy-z)",
                           "A prescription code has exactly 14 characters (xxxxxyyyyyyy-z)")
    if not _FACILITY.fullmatch(code[:5]):
        raise InvalidValue("rx-code.facility", "Ký tự 1–5 (mã cơ sở) chỉ gồm chữ và số",
                           "Characters 1–5 (facility code) must be letters or digits", span=(1, 5))
    if not re.fullmatch(r"[0-9A-Za-z]{7}", code[5:12]):
        raise InvalidValue("rx-code.random", "Ký tự 6–12 phải là chữ hoặc số",
                           "Characters 6–12 must be letters or digits", span=(6, 12))
    if code[12] != "-":
        raise InvalidValue("rx-code.separator", "Ký tự 13 phải là dấu gạch ngang",
                           "Character 13 must be a hyphen", span=(13, 13))
    if code[13].lower() not in TYPES:
        raise InvalidValue("rx-code.type", "Ký tự 14 (loại đơn) phải là C, H hoặc N",
                           "Character 14 (prescription type) must be C, H or N", span=(14, 14))
    return code.lower()


def is_valid(code: str) -> bool:
    try:
        validate(code)
    except InvalidValue:
        return False
    return True


def kind_of(code: str) -> str:
    return validate(code)[-1]
