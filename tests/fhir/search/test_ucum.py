"""Quantity search across UCUM units of the same dimension (``search/ucum.py``'s table)."""

from __future__ import annotations

import pytest

from benhan.fhir.search.ucum import _DIMENSIONS, commensurable

from .conftest import VN_PATIENTS, find, observation, store

UCUM = "http://unitsofmeasure.org"


@pytest.fixture
def doses(engine):
    store(engine, *VN_PATIENTS,
          observation("g-half", "Patient/anh", "x", value=0.5, unit="g"),
          observation("mg-500", "Patient/anh", "x", value=500, unit="mg"),
          observation("ug-5e5", "Patient/anh", "x", value=500000, unit="ug"),
          observation("mg-560", "Patient/anh", "x", value=560, unit="mg"),
          observation("glu-mmol", "Patient/dao", "2345-7", value=5.5, unit="mmol/L"),
          observation("glu-mg", "Patient/dao", "2345-7", value=99, unit="mg/dL"),
          observation("temp", "Patient/duc", "8310-5", value=37.5, unit="Cel"),
          observation("bp-kpa", "Patient/duc", "8480-6", value=16, unit="kPa"),
          observation("bp-mmhg", "Patient/duc", "8480-6", value=120, unit="mm[Hg]"))
    return engine


@pytest.mark.parametrize(("query", "expected"), [
    (f"value-quantity=0.5|{UCUM}|g", {"g-half", "mg-500", "ug-5e5"}),
    (f"value-quantity=500|{UCUM}|mg", {"g-half", "mg-500", "ug-5e5"}),
    (f"value-quantity=0.0005|{UCUM}|kg", {"g-half", "mg-500", "ug-5e5"}),
    (f"value-quantity=gt0.52|{UCUM}|g", {"mg-560"}),
    (f"value-quantity=lt510|{UCUM}|mg", {"g-half", "mg-500", "ug-5e5"}),
    (f"value-quantity=ap550|{UCUM}|mg", {"g-half", "mg-500", "ug-5e5", "mg-560"}),
    (f"value-quantity=ne500|{UCUM}|mg", {"mg-560"}),
    (f"value-quantity=0.0055|{UCUM}|mol/L", {"glu-mmol"}),  # molar and mass concentrations never mix
    (f"value-quantity=990|{UCUM}|mg/L", {"glu-mg"}),
    (f"value-quantity=37.5|{UCUM}|Cel", {"temp"}),  # offset units: as written
    (f"value-quantity=16|{UCUM}|kPa", {"bp-kpa", "bp-mmhg"}),  # 120 mm[Hg] = 15.999 kPa
    ("value-quantity=500||mg", {"mg-500"}),  # without a system: the unit as written
    (f"code-value-quantity=http://loinc.org|x$0.5|{UCUM}|g", {"g-half", "mg-500", "ug-5e5"}),
])
def test_ucum_units_of_one_dimension_match(doses, query, expected):
    assert find(doses, "Observation", query) == expected


def test_table_ratios_are_consistent():
    for units in _DIMENSIONS.values():
        for code in units:
            ratios = dict(commensurable(code))
            assert ratios[code] == 1
            for other, ratio in ratios.items():  # a -> b -> a is the identity
                assert abs(ratio * dict(commensurable(other))[code] - 1) < 1e-20
    assert dict(commensurable("g"))["mg"] == 1000 and dict(commensurable("mmol/L"))["umol/L"] == 1000
    assert commensurable("Cel") == [] and commensurable("[degF]") == []
