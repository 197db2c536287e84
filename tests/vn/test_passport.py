"""Passport numbers: ICAO structure for any country, the 8/9-character format for Vietnamese ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn.errors import InvalidValue
from benhan.vn.passport import parse_passport


@pytest.mark.parametrize("value", ["123456789", "E12345678", "PA1234567", "C01X00T47", "N1234567", "AB123"])
def test_any_country_passport(value: str) -> None:
    passport = parse_passport(value)
    assert passport.value == value and not passport.vietnamese


@pytest.mark.parametrize(("value", "rule"), [
    ("AB12", "passport.length"),
    ("1234567890", "passport.length"),
    ("e12345678", "passport.format"),
    ("E1234-567", "passport.characters"),
    ("É1234567", "passport.characters"),
    ("E 1234 5678", "passport.format"),
    ("", "passport.characters"),
    (None, "passport.type"),
])
def test_any_country_passport_invalid(value: str, rule: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_passport(value)
    assert caught.value.rule == rule


@pytest.mark.parametrize("value", ["C1234567", "B7654321", "AB1234567", "PA0000001"])
def test_vietnamese_passport(value: str) -> None:
    assert parse_passport(value, vietnamese=True).vietnamese


@pytest.mark.parametrize(("value", "rule", "span", "en"), [
    ("C123456", "passport.vn_length", None, "Vietnamese passport number: must be 8 characters"),
    ("1C234567", "passport.vn_letters", (1, 1), "Vietnamese passport number: character 1 must be capital"),
    ("C12345678", "passport.vn_letters", (1, 2),
     "Vietnamese passport number: characters 1–2 must be capital"),
    ("CA123456B", "passport.vn_digits", (3, 9),
     "Vietnamese passport number: characters 3–9 must be 7 digits"),
    ("C123456X", "passport.vn_digits", (2, 8), "Vietnamese passport number: characters 2–8 must be 7 digits"),
])
def test_vietnamese_passport_invalid(value: str, rule: str, span: tuple[int, int] | None, en: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_passport(value, vietnamese=True)
    assert (caught.value.rule, caught.value.span) == (rule, span)
    assert caught.value.en.startswith(en)
    assert caught.value.vi.startswith("Số hộ chiếu Việt Nam")


@given(letters=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=2),
       digits=st.text("0123456789", min_size=7, max_size=7))
def test_every_vietnamese_shape_is_valid_for_both_rules(letters: str, digits: str) -> None:
    value = letters + digits
    assert parse_passport(value, vietnamese=True).value == value
    assert parse_passport(value).value == value
