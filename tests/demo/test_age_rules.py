"""Every diagnosis the demo can give fits the QĐ 4469 age annexes, at every age the demo gives it.

The write path refuses a diagnosis outside its annex's ages (terminology/diagnosis.py), so a demo code
drawn at a forbidden age stops a large ``benhan demo`` run (it did: I10 for a 2-day-old at 19,500 patients).
"""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from benhan.demo import diagnoses as dx
from benhan.terminology.diagnosis import rules

VERSION = "4469-2020"


def _flags() -> dict[str, int]:
    path = resources.files("benhan.terminology").joinpath(f"data/icd10-{VERSION}.json.gz")
    data = json.loads(gzip.decompress(path.read_bytes()))
    return {row[0]: int(row[-1]) for row in data["concepts"]}


def _years(offset: tuple[int, int]) -> float:
    return offset[0] + offset[1] / 365.0


def _demo_codes() -> list[tuple[str, int, int]]:
    """(code, youngest, oldest age in whole years) for every way the demo can diagnose."""
    codes = [(c.code, c.min_age, 120) for c in dx.CHRONIC]
    codes += [(c.code, c.ages[0], c.ages[1]) for c in (*dx.ACUTE, *dx.EMERGENCY)]
    codes += [(a.code, a.ages[0], a.ages[1]) for a in dx.ADMISSIONS.values()]
    return codes


@pytest.mark.parametrize(("code", "youngest", "oldest"), _demo_codes())
def test_demo_diagnosis_ages_fit_the_annexes(code: str, youngest: int, oldest: int) -> None:
    flags = _flags()
    assert code in flags, f"{code} is not in the ICD-10 list"
    for rule in rules(VERSION).age:
        if not flags[code] & rule.flag:
            continue
        if rule.min is not None:
            assert _years(rule.min) <= youngest, f"{code} given from age {youngest}, annex {rule.annex}: {rule.range}"
        if rule.max is not None:
            assert _years(rule.max) >= oldest + 1 - 1 / 365, f"{code} given up to {oldest}, annex {rule.annex}"


def test_the_check_can_fail() -> None:
    """I10 carries annex A3.6 (1 year and over): a demo giving it from birth would be refused."""
    flags = _flags()
    a36 = next(r for r in rules(VERSION).age if r.annex == "A3.6")
    assert flags["I10"] & a36.flag and _years(a36.min) > 0
