"""CCCD (personal ID number) and CMND rules."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn.cccd import (
    Cccd,
    birth_year_of,
    check_consistency,
    check_not_future,
    make_cccd,
    normalize,
    parse_cccd,
    parse_cmnd,
    unknown_province,
)
from benhan.vn.errors import InvalidValue
from benhan.vn.provinces import PROVINCES


def test_parse_splits_the_four_parts() -> None:
    number = parse_cccd("079185012345")
    assert number == Cccd(province="079", century_sex=1, year2="85", serial="012345")
    assert (number.sex, number.birth_year, number.province_name) == ("female", 1985, "Hồ Chí Minh")
    assert number.value == str(number) == "079185012345"


@pytest.mark.parametrize(("digit", "sex", "century"), [
    (0, "male", 1900), (1, "female", 1900), (2, "male", 2000), (3, "female", 2000), (4, "male", 2100),
    (5, "female", 2100), (6, "male", 2200), (7, "female", 2200), (8, "male", 2300), (9, "female", 2300),
])
def test_century_sex_digit_table(digit: int, sex: str, century: int) -> None:
    number = parse_cccd(f"001{digit}07123456")
    assert number.sex == sex
    assert number.birth_year == century + 7


@pytest.mark.parametrize(("value", "rule", "span", "en"), [
    ("07918501234", "cccd.length", None, "CCCD: must be exactly 12 digits, got 11 characters"),
    ("0791850123456", "cccd.length", None, "CCCD: must be exactly 12 digits, got 13 characters"),
    ("", "cccd.length", None, "CCCD: must be exactly 12 digits, got 0 characters"),
    ("07A185012345", "cccd.digits", (1, 3), "CCCD: digits 1–3 (birth-registration province code) contain"),
    ("079X85012345", "cccd.digits", (4, 4), "CCCD: digit 4 (century/sex) contain"),
    ("0791 5012345", "cccd.digits", (5, 6), "CCCD: digits 5–6 (birth year) contain"),
    ("07918501234O", "cccd.digits", (7, 12), "CCCD: digits 7–12 (serial number) contain"),
    ("٠79185012345", "cccd.digits", (1, 3), "CCCD: digits 1–3"),  # Arabic-Indic zero is not an ASCII digit
    ("079 185 012 345", "cccd.format", None, "CCCD: write the 12 digits without spaces"),
    ("079.185.012.345", "cccd.format", None, "CCCD: write the 12 digits without spaces"),
])
def test_parse_names_the_wrong_part(value: str, rule: str, span: tuple[int, int] | None, en: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_cccd(value)
    assert caught.value.rule == rule
    assert caught.value.span == span
    assert caught.value.en.startswith(en)
    assert caught.value.vi.startswith("Số CCCD")


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_cccd(79185012345)  # type: ignore[arg-type]
    assert caught.value.rule == "cccd.type"


def test_messages_do_not_echo_the_number() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_cccd("07918501234X")
    assert "07918501234" not in str(caught.value)


def test_normalize_removes_typed_separators() -> None:
    assert normalize(" 079-185.012 345 ") == "079185012345"


# --- consistency with sex and birth date ---------------------------------------------------------

def test_consistent_number_has_no_problem() -> None:
    assert check_consistency(parse_cccd("079185012345"), "female", "1985-03-02") == []
    assert check_consistency(parse_cccd("001203012345"), "male", date(2003, 1, 1)) == []


def test_sex_mismatch_names_digit_4_and_the_gender() -> None:
    [problem] = check_consistency(parse_cccd("079085012345"), "female", "1985")
    assert problem.rule == "cccd.century_sex"
    assert problem.span == (4, 4)
    assert problem.code == "business-rule"
    assert problem.vi == "Số CCCD: chữ số thứ 4 (thế kỷ/giới tính) không khớp với giới tính nữ (phải là 1)"
    assert problem.en == "CCCD: digit 4 (century/sex) does not match gender female (expected 1)"


def test_male_mismatch() -> None:
    [problem] = check_consistency(parse_cccd("079385012345"), "male", None)
    assert problem.en == "CCCD: digit 4 (century/sex) does not match gender male (expected 2)"


def test_century_mismatch_names_the_birth_year() -> None:
    [problem] = check_consistency(parse_cccd("079285012345"), "male", "1985-06")
    assert problem.en == "CCCD: digit 4 (century/sex) does not match birth year 1985 (expected 0)"
    assert problem.vi == "Số CCCD: chữ số thứ 4 (thế kỷ/giới tính) không khớp với năm sinh 1985 (phải là 0)"


def test_both_sex_and_century_wrong_in_one_message() -> None:
    [problem] = check_consistency(parse_cccd("079385012345"), "male", "1985")
    assert problem.en == ("CCCD: digit 4 (century/sex) does not match gender male and birth year 1985 "
                          "(expected 0)")
    assert "giới tính nam và năm sinh 1985" in problem.vi


def test_year_digits_mismatch() -> None:
    [problem] = check_consistency(parse_cccd("079186012345"), "female", "1985-01-01")
    assert problem.rule == "cccd.birth_year"
    assert problem.span == (5, 6)
    assert problem.en == "CCCD: digits 5–6 (birth year) do not match birth year 1985 (expected 85)"
    assert problem.vi == "Số CCCD: chữ số 5–6 (năm sinh) không khớp với năm sinh 1985 (phải là 85)"


def test_century_and_year_both_wrong_give_two_problems() -> None:
    problems = check_consistency(parse_cccd("079203012345"), "male", "1985")
    assert [p.rule for p in problems] == ["cccd.century_sex", "cccd.birth_year"]


def test_year_before_1900_cannot_suggest_a_digit() -> None:
    [problem, _] = check_consistency(parse_cccd("079085012345"), "male", "1899")
    assert "expected" not in problem.en


@pytest.mark.parametrize("gender", ["other", "unknown", None, ""])
def test_gender_that_digit_4_cannot_encode_is_not_checked(gender: str | None) -> None:
    assert check_consistency(parse_cccd("079185012345"), gender, "1985") == []


@pytest.mark.parametrize(("birth", "year"), [
    ("1985", 1985), ("1985-03", 1985), ("1985-03-02", 1985), (date(1985, 3, 2), 1985), (1985, 1985),
    (None, None), ("85", None), ("abcd-01-01", None), ("", None),
])
def test_birth_year_of(birth: object, year: int | None) -> None:
    assert birth_year_of(birth) == year  # type: ignore[arg-type]


def test_future_birth_year() -> None:
    number = parse_cccd("079434012345")  # digit 4 = 4: born 2134
    problem = check_not_future(number, date(2026, 11, 22))
    assert problem is not None and problem.span == (4, 6)
    assert problem.en == "CCCD: digits 4–6 give birth year 2134, which is in the future"
    assert check_not_future(parse_cccd("079226012345"), date(2026, 11, 22)) is None


def test_unknown_province_is_only_a_warning_value() -> None:
    number = parse_cccd("099185012345")  # 099 is not in TT 07/2016 Annex I, but the number parses
    assert number.province_name is None
    warning = unknown_province(number)
    assert warning is not None and warning.span == (1, 3) and "099" in warning.en
    assert unknown_province(parse_cccd("001185012345")) is None


# --- generator -----------------------------------------------------------------------------------

def test_make_cccd_examples() -> None:
    assert make_cccd("079", "female", 1990, 1) == "079190000001"
    assert make_cccd(1, "male", date(2005, 7, 1), "123456") == "001205123456"
    assert make_cccd("48", "male", 2100, 999999) == "048400999999"


@pytest.mark.parametrize(("args", "message"), [
    (("7900", "male", 1990, 1), "province"),
    (("0A1", "male", 1990, 1), "province"),
    (("079", "other", 1990, 1), "sex"),
    (("079", "male", 1899, 1), "birth year"),
    (("079", "male", 2400, 1), "birth year"),
    (("079", "male", 1990, 1_000_000), "serial"),
    (("079", "male", 1990, "12345"), "serial"),
])
def test_make_cccd_rejects_out_of_range(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_cccd(*args)


@given(
    province=st.sampled_from(sorted(PROVINCES)),
    sex=st.sampled_from(["male", "female"]),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31)),
    serial=st.integers(0, 999_999),
)
def test_any_generated_number_parses_back_and_is_consistent(province: str, sex: str, birth: date,
                                                            serial: int) -> None:
    value = make_cccd(province, sex, birth, serial)  # type: ignore[arg-type]
    number = parse_cccd(value)
    assert (number.province, number.sex, number.birth_year, int(number.serial)) == ("0" + province, sex,
                                                                                   birth.year, serial)
    assert number.province_name == PROVINCES[province]
    assert number.value == value
    assert check_consistency(number, sex, birth.isoformat()) == []
    other = "female" if sex == "male" else "male"
    assert [p.rule for p in check_consistency(number, other, birth.isoformat())] == ["cccd.century_sex"]


@given(value=st.text(max_size=14))
def test_parse_never_fails_with_anything_but_invalid_value(value: str) -> None:
    try:
        number = parse_cccd(value)
    except InvalidValue as problem:
        assert problem.vi and problem.en
    else:
        assert number.value == value


# --- CMND ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["012345678", "025123456789"])
def test_cmnd_nine_or_twelve_digits(value: str) -> None:
    cmnd = parse_cmnd(value)
    assert cmnd.value == value
    assert cmnd.is_nine_digit is (len(value) == 9)


@pytest.mark.parametrize(("value", "rule"), [
    ("0123456789", "cmnd.length"),
    ("01234567", "cmnd.length"),
    ("01234567A", "cmnd.digits"),
    ("012 345 678", "cmnd.format"),
    (12345678, "cmnd.type"),
])
def test_cmnd_invalid(value: str, rule: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_cmnd(value)
    assert caught.value.rule == rule
    assert caught.value.vi.startswith("Số CMND") and caught.value.en.startswith("CMND")
