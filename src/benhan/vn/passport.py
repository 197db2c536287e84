"""Passport numbers (số hộ chiếu).

The VN Core ``passport_number`` system holds passports of any country: foreign patients register
with them far more often than Vietnamese citizens, who use the CCCD. So every passport gets the
ICAO 9303 check (the machine-readable zone has a 9-character document-number field of capital
letters and digits; the lower bound of 5 is our choice, to catch truncated entries), and only a
Vietnamese passport gets the vendor rule quoted in QĐ 130/4750 notes: 1 capital + 7 digits
(8 characters) or 2 letters + 7 digits (9 characters) (unverified as a legal format).
"""

from __future__ import annotations

from dataclasses import dataclass

from benhan.vn.errors import InvalidValue, positions

MIN_LENGTH = 5
MAX_LENGTH = 9  # ICAO 9303 document-number field


def _letters(text: str) -> bool:
    return text.isascii() and text.isalpha() and text.isupper()


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class Passport:
    value: str
    vietnamese: bool  # True when it was checked against the Vietnamese format


def parse_passport(value: str, *, vietnamese: bool = False) -> Passport:
    """Parse a passport number; ``vietnamese=True`` also applies the Vietnamese 8/9-character format."""
    if not isinstance(value, str):
        raise InvalidValue("passport.type", "Số hộ chiếu phải là chuỗi ký tự",
                           "Passport number: must be a string")
    cleaned = value.strip().replace(" ", "").upper()
    if cleaned != value and cleaned.isascii() and cleaned.isalnum():
        raise InvalidValue("passport.format", "Số hộ chiếu phải viết liền, chữ in hoa, không có dấu cách",
                           "Passport number: write it in capitals without spaces")
    if not (value.isascii() and value.isalnum() and value == value.upper()):
        raise InvalidValue("passport.characters", "Số hộ chiếu chỉ gồm chữ cái in hoa (A–Z) và chữ số",
                           "Passport number: only capital letters (A–Z) and digits are allowed")
    if not vietnamese:
        if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
            raise InvalidValue(
                "passport.length",
                f"Số hộ chiếu phải có {MIN_LENGTH}–{MAX_LENGTH} ký tự, nhận {len(value)}",
                f"Passport number: must have {MIN_LENGTH}–{MAX_LENGTH} characters, got {len(value)}")
        return Passport(value, False)
    _check_vietnamese(value)
    return Passport(value, True)


def _check_vietnamese(value: str) -> None:
    if len(value) not in (8, 9):
        raise InvalidValue(
            "passport.vn_length",
            "Số hộ chiếu Việt Nam phải có 8 ký tự (1 chữ cái + 7 chữ số) "
            "hoặc 9 ký tự (2 chữ cái + 7 chữ số), "
            f"nhận {len(value)}",
            "Vietnamese passport number: must be 8 characters (1 letter + 7 digits) "
            "or 9 (2 letters + 7 digits), "
            f"got {len(value)}")
    letters = len(value) - 7
    if not _letters(value[:letters]):
        vi, en = positions(1, letters)
        raise InvalidValue("passport.vn_letters",
                           f"Số hộ chiếu Việt Nam: {vi} phải là chữ cái in hoa",
                           f"Vietnamese passport number: {en} must be capital letters", span=(1, letters))
    if not _digits(value[letters:]):
        vi, en = positions(letters + 1, len(value))
        raise InvalidValue("passport.vn_digits",
                           f"Số hộ chiếu Việt Nam: {vi} phải là 7 chữ số",
                           f"Vietnamese passport number: {en} must be 7 digits",
                           span=(letters + 1, len(value)))
