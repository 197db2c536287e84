"""Facility codes (mã cơ sở KCB) and department codes (mã khoa)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn.errors import InvalidValue
from benhan.vn.facility import (
    DepartmentCode,
    FacilityCode,
    is_department_number,
    parse_department_code,
    parse_facility_code,
)


def test_facility_code() -> None:
    code = parse_facility_code("01013")
    assert code == FacilityCode("01", "013")
    assert code.value == str(code) == "01013"
    assert code.province_name == "Hà Nội"
    assert not code.is_temporary_card_registration


def test_temporary_card_registration() -> None:
    assert parse_facility_code("79000").is_temporary_card_registration


@pytest.mark.parametrize(("value", "rule", "span", "en"), [
    ("0101", "facility.length", None, "Facility code: must be 5 digits (2-digit province + 3 digits), got 4"),
    ("010133", "facility.length", None, "Facility code: must be 5 digits"),
    ("03013", "facility.province", (1, 2), "Facility code: characters 1–2 (province code) invalid: '03'"),
    ("AB013", "facility.province", (1, 2), "Facility code: characters 1–2 (province code) invalid"),
    ("01A13", "facility.number", (3, 5), "Facility code: characters 3–5 (facility number) must be digits"),
    (1013, "facility.type", None, "Facility code: must be a string"),
])
def test_facility_code_invalid(value: str, rule: str, span: tuple[int, int] | None, en: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_facility_code(value)
    assert (caught.value.rule, caught.value.span) == (rule, span)
    assert caught.value.en.startswith(en)
    assert caught.value.vi.startswith("Mã cơ sở KCB")


def test_facility_code_label_names_the_field() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_facility_code("0101", label=("Nơi đăng ký KCB ban đầu", "Registered primary-care facility"))
    assert caught.value.vi.startswith("Nơi đăng ký KCB ban đầu phải gồm 5 chữ số")
    assert caught.value.en.startswith("Registered primary-care facility: must be 5 digits")


@pytest.mark.parametrize(("value", "expected"), [
    ("K01", DepartmentCode(("K01",))),
    ("K60", DepartmentCode(("K60",))),
    ("K99", DepartmentCode(("K99",))),
    ("K0809", DepartmentCode(("K08", "K09"))),
    ("K010203", DepartmentCode(("K01", "K02", "K03"))),
    ("K16.1", DepartmentCode(("K16",), sub_unit="1")),
    ("K16.12", DepartmentCode(("K16",), sub_unit="12")),
    ("K02.D35", DepartmentCode(("K02",), attached_unit="D35")),
    ("K0809.2", DepartmentCode(("K08", "K09"), sub_unit="2")),
])
def test_department_codes(value: str, expected: DepartmentCode) -> None:
    code = parse_department_code(value)
    assert code == expected
    assert code.value == str(code) == value


@pytest.mark.parametrize(("value", "rule", "span"), [
    ("01", "department.prefix", (1, 1)),
    ("k01", "department.prefix", (1, 1)),
    ("K", "department.number", (2, 2)),
    ("K1", "department.number", (2, 2)),
    ("K012", "department.number", (2, 4)),
    ("K00", "department.number", (2, 3)),
    ("K61", "department.number", (2, 3)),
    ("K98", "department.number", (2, 3)),
    ("K0861", "department.number", (4, 5)),
    ("K0A", "department.number", (2, 3)),
    ("K0808", "department.duplicate", (4, 5)),
    ("K16.", "department.suffix", (5, 5)),
    ("K16.123", "department.suffix", (5, 7)),
    ("K02.D", "department.suffix", (5, 5)),
    ("K02.D1234", "department.suffix", (5, 9)),
    ("K02.X35", "department.suffix", (5, 7)),
    ("K" + "01" * 30, "department.length", None),
    (None, "department.type", None),
])
def test_department_codes_invalid(value: str, rule: str, span: tuple[int, int] | None) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_department_code(value)
    assert (caught.value.rule, caught.value.span) == (rule, span)
    assert caught.value.vi.startswith("Mã khoa") and caught.value.en.startswith("Department code")


def test_out_of_range_message_names_the_pair() -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_department_code("K61")
    assert caught.value.en == "Department code: characters 2–3 ('61') must be 01–60 or 99"
    assert caught.value.vi == "Mã khoa: ký tự 2–3 ('61') phải thuộc 01–60 hoặc 99"


def test_department_numbers() -> None:
    assert [n for n in range(100) if is_department_number(f"{n:02d}")] == [*range(1, 61), 99]
    assert not is_department_number("1") and not is_department_number("١٢")


numbers = st.sampled_from([f"{n:02d}" for n in [*range(1, 61), 99]])


@given(st.lists(numbers, min_size=1, max_size=4, unique=True),
       st.one_of(st.none(), st.integers(0, 99).map(str), st.integers(0, 999).map(lambda n: f"D{n}")))
def test_generated_department_codes_round_trip(pairs: list[str], suffix: str | None) -> None:
    value = "K" + "".join(pairs) + (f".{suffix}" if suffix else "")
    code = parse_department_code(value)
    assert code.value == value
    assert code.departments == tuple("K" + p for p in pairs)
