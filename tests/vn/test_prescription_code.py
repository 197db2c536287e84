"""Prescription code (mã đơn thuốc, TT 26/2025): format, randomness source, type letter."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn import prescription_code as rx
from benhan.vn.errors import InvalidValue

facility = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=5, max_size=5)


@given(facility, st.sampled_from(["c", "h", "n", "C", "H", "N"]))
def test_generated_codes_have_the_tt26_layout(code: str, kind: str) -> None:
    value = rx.generate(code, kind)
    assert re.fullmatch(r"[0-9a-z]{5}[0-9a-z]{7}-[chn]", value)
    assert value[:5] == code.lower() and value[-1] == kind.lower()
    assert rx.validate(value) == value and rx.kind_of(value) == kind.lower()


@given(st.text(max_size=20))
def test_validate_accepts_exactly_the_layout(text: str) -> None:
    expected = re.fullmatch(r"[0-9A-Za-z]{12}-[cChHnN]", text) is not None
    assert rx.is_valid(text) is expected


def test_the_random_part_comes_from_the_injected_source() -> None:
    picks = iter("abc1234")
    assert rx.generate("79001", choice=lambda _alphabet: next(picks)) == "79001abc1234-c"


def test_default_source_is_not_repeating() -> None:
    codes = {rx.generate("79001") for _ in range(200)}
    assert len(codes) == 200  # 36^7 possibilities: a repeat here would mean a broken source


@pytest.mark.parametrize(("code", "rule", "span"), [
    ("79001abc1234c", "rx-code.length", None),
    ("7900!abc1234-c", "rx-code.facility", (1, 5)),
    ("79001abc12.4-c", "rx-code.random", (6, 12)),
    ("79001abc1234_c", "rx-code.separator", (13, 13)),
    ("79001abc1234-x", "rx-code.type", (14, 14)),
])
def test_errors_name_the_wrong_part(code: str, rule: str, span: tuple[int, int] | None) -> None:
    with pytest.raises(InvalidValue) as err:
        rx.validate(code)
    assert err.value.rule == rule and err.value.span == span


def test_bad_facility_code_or_type_is_refused() -> None:
    with pytest.raises(InvalidValue):
        rx.generate("7900")
    with pytest.raises(InvalidValue):
        rx.generate("79001", "t")


def test_type_letter_is_the_most_restrictive_class() -> None:
    assert rx.most_restrictive([]) == "c"
    assert rx.most_restrictive(["C", "H"]) == "h"
    assert rx.most_restrictive(["c", "N", "H"]) == "n"
    assert rx.with_type("79001abc1234-c", "N") == "79001abc1234-n"
