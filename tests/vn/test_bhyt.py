"""BHYT card: code structure, groups data, benefit level, validity."""

from __future__ import annotations

import json
from datetime import date
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn import bhyt
from benhan.vn.bhyt import BhytCard, CardValidity
from benhan.vn.errors import InvalidValue
from benhan.vn.provinces import BHXH_SPECIAL_ISSUERS, PROVINCES

VALID = "DN4791234567890"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ISSUERS = sorted(PROVINCES) + sorted(BHXH_SPECIAL_ISSUERS)


def test_parse_card_splits_the_parts() -> None:
    card = bhyt.parse_card(VALID)
    assert card == BhytCard("1234567890", "DN", 4, "79")
    assert card.is_full_code and card.value == str(card) == VALID


def test_parse_number_accepts_the_ten_digit_number_alone() -> None:
    card = bhyt.parse_number("0120878811")
    assert card == BhytCard("0120878811")
    assert not card.is_full_code and card.value == "0120878811"
    assert bhyt.parse_number(VALID) == bhyt.parse_card(VALID)


@pytest.mark.parametrize("issuer", sorted(BHXH_SPECIAL_ISSUERS))
def test_cards_of_the_forces_bhxh_are_accepted(issuer: str) -> None:
    assert bhyt.parse_card(f"QN5{issuer}1234567890").province == issuer


@pytest.mark.parametrize(("value", "rule", "span", "vi", "en"), [
    ("DN4031234567890", "bhyt.province", (4, 5), "Mã thẻ BHYT: ký tự 4–5 (mã tỉnh) không hợp lệ",
     "BHYT card: characters 4–5 (province code) invalid"),
    ("DN4A91234567890", "bhyt.province", (4, 5), "Mã thẻ BHYT: ký tự 4–5 (mã tỉnh) không hợp lệ",
     "BHYT card: characters 4–5 (province code) invalid"),
    ("DN4001234567890", "bhyt.province", (4, 5), "Mã thẻ BHYT: ký tự 4–5 (mã tỉnh) không hợp lệ",
     "BHYT card: characters 4–5 (province code) invalid"),
    ("DN6791234567890", "bhyt.benefit", (3, 3), "Mã thẻ BHYT: ký tự 3 (mã quyền lợi) phải là chữ số 1–5",
     "BHYT card: character 3 (benefit level) must be a digit 1–5"),
    ("DN0791234567890", "bhyt.benefit", (3, 3), "Mã thẻ BHYT: ký tự 3", "BHYT card: character 3"),
    ("DNX791234567890", "bhyt.benefit", (3, 3), "Mã thẻ BHYT: ký tự 3", "BHYT card: character 3"),
    ("D14791234567890", "bhyt.group", (1, 2),
     "Mã thẻ BHYT: ký tự 1–2 (mã đối tượng) phải là 2 chữ cái in hoa",
     "BHYT card: characters 1–2 (beneficiary group code) must be two capital letters"),
    ("dn4791234567890", "bhyt.group", (1, 2), "Mã thẻ BHYT: ký tự 1–2", "BHYT card: characters 1–2"),
    ("ĐN4791234567890", "bhyt.group", (1, 2), "Mã thẻ BHYT: ký tự 1–2", "BHYT card: characters 1–2"),
    ("DN479123456789O", "bhyt.number", (6, 15), "Mã thẻ BHYT: ký tự 6–15 (mã số BHXH) phải là 10 chữ số",
     "BHYT card: characters 6–15 (BHXH number) must be 10 digits"),
])
def test_parse_card_names_the_wrong_part(value: str, rule: str, span: tuple[int, int], vi: str,
                                         en: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_card(value)
    assert (caught.value.rule, caught.value.span) == (rule, span)
    assert caught.value.vi.startswith(vi)
    assert caught.value.en.startswith(en)
    assert caught.value.code == "value"


@pytest.mark.parametrize(("value", "rule", "en"), [
    ("DN479123456789", "bhyt.length",
     "BHYT card: must be 15 characters (or the 10-digit BHXH number), got 14"),
    ("", "bhyt.length", "BHYT card: must be 15 characters (or the 10-digit BHXH number), got 0"),
    ("DN 4 79 1234567890", "bhyt.format", "BHYT card: write the code in capitals without spaces"),
    ("dn-4-79-1234567890", "bhyt.format", "BHYT card: write the code in capitals without spaces"),
    ("0120 878 811", "bhyt.format", "BHYT card: write the code in capitals without spaces"),
    ("DN 4 03 1234567890", "bhyt.length", "BHYT card: must be 15 characters"),  # cleaned is still invalid
    ("012087881X", "bhyt.number", "BHXH number: must contain digits only"),
    (1234567890, "bhyt.type", "BHYT card: must be a string"),
])
def test_parse_number_invalid(value: str, rule: str, en: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_number(value)
    assert caught.value.rule == rule
    assert caught.value.en.startswith(en)


def test_parse_card_requires_fifteen_characters() -> None:
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_card("0120878811")
    assert caught.value.en == "BHYT card: must be 15 characters, got 10"


def test_parse_social_insurance_number() -> None:
    assert bhyt.parse_social_insurance_number("0120878811") == "0120878811"
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_social_insurance_number("012087881")
    assert caught.value.en == "BHXH number: must be 10 digits, got 9 characters"


def test_normalize() -> None:
    assert bhyt.normalize(" dn 4 79 1234-567-890 ") == VALID


# --- generator and properties --------------------------------------------------------------------

def test_make_bhyt() -> None:
    assert bhyt.make_bhyt("DN", 4, 79, 1234567890) == VALID
    assert bhyt.make_bhyt("TE", 1, "01", "0000000001") == "TE1010000000001"
    assert bhyt.make_bhyt("HS", 4, 1, 42) == "HS4010000000042"


@pytest.mark.parametrize("args", [("D", 4, 79, 1), ("DN", 6, 79, 1), ("DN", 4, 3, 1), ("DN", 4, 79, 10**10)])
def test_make_bhyt_rejects_invalid_parts(args: tuple) -> None:
    with pytest.raises(ValueError):
        bhyt.make_bhyt(*args)


card_parts = st.tuples(st.text(LETTERS, min_size=2, max_size=2), st.integers(1, 5), st.sampled_from(ISSUERS),
                       st.integers(0, 10**10 - 1))


@given(card_parts)
def test_generated_cards_round_trip(parts: tuple[str, int, str, int]) -> None:
    group, digit, province, number = parts
    value = bhyt.make_bhyt(group, digit, province, number)
    card = bhyt.parse_card(value)
    assert (card.group, card.benefit_digit, card.province, int(card.social_insurance_number)) == parts
    assert card.value == value
    number = card.social_insurance_number
    assert bhyt.parse_number(number).social_insurance_number == number


@given(card_parts, st.integers(0, 14), st.characters(codec="utf-8"))
def test_single_character_substitution_is_valid_or_names_its_part(parts: tuple[str, int, str, int],
                                                                   index: int, char: str) -> None:
    original = bhyt.make_bhyt(*parts)
    mutated = original[:index] + char + original[index + 1:]
    position = index + 1
    try:
        card = bhyt.parse_card(mutated)
    except InvalidValue as problem:
        assert problem.span is not None, problem
        start, end = problem.span
        assert start <= position <= end, (mutated, problem)
        assert problem.en.startswith("BHYT card: character")
    else:  # still structurally valid: only the part holding the mutation changed
        assert card.value == mutated
        parsed = bhyt.parse_card(original)
        same = {"group": position <= 2, "benefit_digit": position == 3, "province": position in (4, 5),
                "social_insurance_number": position >= 6}
        for name, touched in same.items():
            if not touched:
                assert getattr(card, name) == getattr(parsed, name)


@given(card_parts, st.integers(0, 15), st.characters(codec="utf-8"))
def test_insertion_or_deletion_is_a_length_or_format_error(parts: tuple[str, int, str, int], index: int,
                                                           char: str) -> None:
    original = bhyt.make_bhyt(*parts)
    deleted = index % 15
    for mutated in (original[:index] + char + original[index:], original[:deleted] + original[deleted + 1:]):
        with pytest.raises(InvalidValue) as caught:
            bhyt.parse_card(mutated)
        assert caught.value.rule in ("bhyt.length", "bhyt.format")


# --- groups (unverified data) --------------------------------------------------------------------

def test_group_data_declares_it_is_unverified() -> None:
    raw = json.loads(resources.files("benhan.vn").joinpath("data/bhyt_groups.json").read_text("utf-8"))
    assert raw["status"] == "unverified"
    assert "UNVERIFIED" in raw["source"] and "medconnect" in raw["source"]
    codes = [g["code"] for g in raw["groups"]]
    assert len(codes) == len(set(codes))
    for group in raw["groups"]:
        assert len(group["code"]) == 2 and group["code"].isalpha() and group["code"].isupper()
        assert group["benefit_digit"] in bhyt.BENEFITS


@pytest.mark.parametrize(("code", "digit"),
                         [("DN", 4), ("TE", 1), ("HT", 3), ("HN", 2), ("QN", 5), ("GD", 4)])
def test_group_info(code: str, digit: int) -> None:
    info = bhyt.group_info(code)
    assert info is not None and info.benefit_digit == digit


def test_unknown_group_is_a_warning_value() -> None:
    assert bhyt.group_info("ZZ") is None
    warning = bhyt.unknown_group(bhyt.parse_card("ZZ4791234567890"))
    assert warning is not None and warning.span == (1, 2) and "'ZZ'" in warning.en
    assert bhyt.unknown_group(bhyt.parse_card(VALID)) is None
    assert bhyt.unknown_group(bhyt.parse_number("1234567890")) is None


# --- benefit level -------------------------------------------------------------------------------

@pytest.mark.parametrize(("digit", "percent"), [(1, 100), (2, 100), (3, 95), (4, 80), (5, 100)])
def test_base_benefit_levels(digit: int, percent: int) -> None:
    assert bhyt.benefit_level(digit) == percent
    assert bhyt.benefit_level(bhyt.parse_card(f"DN{digit}791234567890")) == percent


def test_digit_1_and_5_nuances() -> None:
    assert bhyt.benefit(1).without_rate_limits and not bhyt.benefit(1).beyond_scope
    assert bhyt.benefit(5).beyond_scope
    assert [d for d, b in bhyt.BENEFITS.items() if b.transport] == [1, 2, 5]
    assert not any(bhyt.benefit(d).without_rate_limits or bhyt.benefit(d).beyond_scope for d in (2, 3, 4))


def test_benefit_needs_the_full_code() -> None:
    with pytest.raises(InvalidValue) as caught:
        bhyt.benefit_level(bhyt.parse_number("1234567890"))
    assert caught.value.rule == "bhyt.benefit_unknown"
    with pytest.raises(InvalidValue):
        bhyt.benefit(6)


SALARY = 2_340_000  # lương cơ sở from 01/07/2024: threshold 351,000


@pytest.mark.parametrize(("cost", "level"), [(350_999, 100), (351_000, 80), (2_000_000, 80), (0, 100)])
def test_small_bill_rule(cost: int, level: int) -> None:
    assert bhyt.benefit_level(4, visit_cost=cost, reference_salary=SALARY) == level
    assert bhyt.benefit_level(3, visit_cost=cost, reference_salary=SALARY) == (100 if level == 100 else 95)


def test_small_bill_needs_the_reference_salary() -> None:
    with pytest.raises(ValueError):
        bhyt.benefit_level(4, visit_cost=1)


@pytest.mark.parametrize(("five_years_from", "copayment", "level"), [
    (date(2024, 1, 1), 6 * SALARY + 1, 100),
    (date(2024, 1, 1), 6 * SALARY, 80),  # must exceed 6 months
    (date(2025, 7, 1), 6 * SALARY + 1, 100),  # reached that very day
    (date(2025, 7, 2), 6 * SALARY + 1, 80),  # not yet 5 years
])
def test_five_continuous_years_rule(five_years_from: date, copayment: int, level: int) -> None:
    assert bhyt.benefit_level(4, five_years_from=five_years_from, copayment_this_year=copayment,
                              reference_salary=SALARY, on=date(2025, 7, 1)) == level


def test_five_year_rule_needs_salary_and_date() -> None:
    with pytest.raises(ValueError):
        bhyt.benefit_level(4, five_years_from=date(2020, 1, 1), copayment_this_year=1)


def test_five_years_reached() -> None:
    assert bhyt.five_years_reached(date(2020, 1, 1), date(2020, 1, 1))
    assert not bhyt.five_years_reached(date(2020, 1, 2), date(2020, 1, 1))
    assert not bhyt.five_years_reached(None, date(2020, 1, 1))


# --- validity ------------------------------------------------------------------------------------

def test_validity() -> None:
    validity = CardValidity(date(2025, 1, 1), date(2025, 12, 31))
    assert validity.covers(date(2025, 1, 1)) and validity.covers(date(2025, 12, 31))
    assert not validity.covers(date(2024, 12, 31)) and not validity.covers(date(2026, 1, 1))
    assert validity.is_expired(date(2026, 1, 1)) and not validity.is_expired(date(2025, 12, 31))
    assert not validity.is_expired(date(2024, 1, 1))  # not yet valid is not expired
    open_ended = CardValidity(date(2025, 1, 1), None)
    assert open_ended.covers(date(2099, 1, 1)) and not open_ended.is_expired(date(2099, 1, 1))


def test_validity_order() -> None:
    with pytest.raises(InvalidValue) as caught:
        CardValidity(date(2025, 2, 1), date(2025, 1, 31))
    assert caught.value.rule == "bhyt.validity_order"


def test_inpatient_grace_of_fifteen_days() -> None:
    validity = CardValidity(date(2025, 1, 1), date(2025, 6, 30))
    assert validity.covers_inpatient(date(2025, 6, 20), date(2025, 7, 15))
    assert not validity.covers_inpatient(date(2025, 6, 20), date(2025, 7, 16))
    assert not validity.covers_inpatient(date(2025, 7, 1), date(2025, 7, 2))  # admitted after expiry


@pytest.mark.parametrize(("value", "expected"),
                         [("20250131", date(2025, 1, 31)), ("31/01/2025", date(2025, 1, 31))])
def test_parse_card_date(value: str, expected: date) -> None:
    assert bhyt.parse_card_date(value) == expected


@pytest.mark.parametrize("value", ["2025-01-31", "20251332", "31/13/2025", "", "2025013"])
def test_parse_card_date_invalid(value: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_card_date(value)
    assert caught.value.rule == "bhyt.date"


def test_registered_facility() -> None:
    assert bhyt.parse_registered_facility("01013").province == "01"
    assert bhyt.parse_registered_facility("79000").is_temporary_card_registration
    with pytest.raises(InvalidValue) as caught:
        bhyt.parse_registered_facility("0101X")
    assert caught.value.en == ("Registered primary-care facility: characters 3–5 (facility number) "
                               "must be digits")
