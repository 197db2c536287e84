"""Composites answered by other rows (fhir/composites.py) give what their own rows would have given.

``code-value-*`` (the resource is the root) read the ``code`` and ``value-*`` rows; ``combo-code-value-*`` read
those for the resource and ``component-code-value-*``'s rows for the components. Results are checked against a
brute-force reading of the composite's definition over random Observations: a component pairs only with its own
value, the resource's code only with the resource's value.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from benhan.fhir.composites import own_branches, roots
from benhan.fhir.indexing import extract_index

from .conftest import LOINC, VN_PATIENTS, find, store

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
CODES = ("8480-6", "8462-4", "8867-4")
CONCEPTS = ("10828004", "260385009")


def _quantity(value: float) -> dict[str, Any]:
    return {"value": value, "system": UCUM, "code": "mm[Hg]"}


def _concept(code: str) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": code}]}


def _random_observations(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        obs: dict[str, Any] = {"resourceType": "Observation", "id": f"o{index}", "status": "final",
                               "subject": {"reference": "Patient/anh"},
                               "code": {"coding": [{"system": LOINC, "code": rng.choice(CODES)}]}}
        kind = rng.choice(("quantity", "concept", "none"))
        if kind == "quantity":
            obs["valueQuantity"] = _quantity(rng.choice((60, 90, 120, 140)))
        elif kind == "concept":
            obs["valueCodeableConcept"] = _concept(rng.choice(CONCEPTS))
        components = []
        for _ in range(rng.randint(0, 2)):
            part: dict[str, Any] = {"code": {"coding": [{"system": LOINC, "code": rng.choice(CODES)}]}}
            if rng.random() < 0.5:
                part["valueQuantity"] = _quantity(rng.choice((60, 90, 120, 140)))
            elif rng.random() < 0.5:
                part["valueCodeableConcept"] = _concept(rng.choice(CONCEPTS))
            components.append(part)
        if components:
            obs["component"] = components
        out.append(obs)
    return out


def _pairs(element: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(code, quantity value, concept code) of one root element."""
    codes = [coding["code"] for coding in element.get("code", {}).get("coding", [])]
    quantity = element.get("valueQuantity", {}).get("value")
    concept = [c["code"] for c in element.get("valueCodeableConcept", {}).get("coding", [])]
    return [(code, quantity, concept) for code in codes]


def _expected(observations: list[dict[str, Any]], param: str, code: str, test: Any) -> set[str]:
    found = set()
    for obs in observations:
        elements = {"code-value": [obs], "component-code-value": obs.get("component", []),
                    "combo-code-value": [obs, *obs.get("component", [])]}[param]
        if any(c == code and test(q, concept) for element in elements for c, q, concept in _pairs(element)):
            found.add(obs["id"])
    return found


QUERIES = [
    (prefix, "quantity", f"{code}$gt100", code, lambda q, _c: q is not None and q > 100)
    for prefix in ("code-value", "component-code-value", "combo-code-value") for code in CODES
] + [
    (prefix, "quantity", f"{LOINC}|{code}$90|{UCUM}|mm[Hg]", code, lambda q, _c: q == 90)
    for prefix in ("code-value", "combo-code-value") for code in CODES
] + [
    (prefix, "concept", f"{code}${SNOMED}|10828004", code, lambda _q, c: "10828004" in c)
    for prefix in ("code-value", "component-code-value", "combo-code-value") for code in CODES
]


@pytest.mark.parametrize("seed", [1, 2])
def test_composites_match_their_definition(engine, seed):  # type: ignore[no-untyped-def]
    observations = _random_observations(seed, 40)
    store(engine, *VN_PATIENTS, *observations)
    checked = 0
    for prefix, kind, value, code, test in QUERIES:
        expected = _expected(observations, prefix, code, test)
        assert find(engine, "Observation", f"{prefix}-{kind}={value}") == expected, (prefix, kind, value)
        checked += len(expected)
    assert checked > 20  # the random data exercises the queries


def test_or_values_missing_and_filter_pr(engine):  # type: ignore[no-untyped-def]
    panel = {"resourceType": "Observation", "id": "bp", "status": "final", "subject": {"reference": "Patient/anh"},
             "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
             "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                            "valueQuantity": _quantity(140)}]}
    single = {"resourceType": "Observation", "id": "sys", "status": "final", "subject": {"reference": "Patient/anh"},
              "code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": _quantity(120)}
    bare = {"resourceType": "Observation", "id": "bare", "status": "final", "subject": {"reference": "Patient/anh"},
            "code": {"coding": [{"system": LOINC, "code": "8480-6"}]}}
    store(engine, *VN_PATIENTS, panel, single, bare)
    assert find(engine, "Observation", "code-value-quantity=8480-6$120,85354-9$140") == {"sys"}
    assert find(engine, "Observation", "combo-code-value-quantity=8480-6$140,8480-6$120") == {"bp", "sys"}
    assert find(engine, "Observation", "code-value-quantity:missing=false") == {"sys"}
    assert find(engine, "Observation", "code-value-quantity:missing=true") == {"bp", "bare"}
    assert find(engine, "Observation", "combo-code-value-quantity:missing=false") == {"bp", "sys"}
    assert find(engine, "Observation", "combo-code-value-quantity:missing=true") == {"bare"}
    assert find(engine, "Observation", "_filter=code-value-quantity pr true") == {"sys"}
    assert find(engine, "Observation", "code-value-quantity=8480-6$gt100&code=8480-6") == {"sys"}
    assert find(engine, "Patient", "_has:Observation:subject:combo-code-value-quantity=8480-6$140") == {"anh"}
    assert find(engine, "Observation", "subject.name=nguyen&code-value-quantity=8480-6$120") == {"sys"}


def test_where_each_root_is_answered():
    assert roots("Observation", "code-value-quantity")[0].params == ("code", "value-quantity")
    combo = roots("Observation", "combo-code-value-concept")
    assert [(r.branch, r.composite, r.params) for r in combo] == [
        ("Observation", None, ("code", "value-concept")),
        ("Observation.component", "component-code-value-concept", ())]
    # value-string also indexes valueCodeableConcept.text: not the same rows, so the composite keeps its own
    assert own_branches("Observation", "code-value-string") == ("Observation",)
    assert own_branches("Observation", "component-code-value-quantity") == ("Observation.component",)
    assert own_branches("Observation", "combo-code-value-quantity") == ()
    assert own_branches("Group", "characteristic-value") == ("Group.characteristic",)


def test_answered_roots_write_no_rows():
    obs = {"resourceType": "Observation", "status": "final",
           "code": {"coding": [{"system": LOINC, "code": "85354-9"}], "text": "Huyết áp"},
           "valueString": "bình thường",
           "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": _quantity(140)}]}
    rows = extract_index(obs).rows
    params = {row["param"].split("$")[0] for kind in rows.values() for row in kind if "$" in row["param"]}
    assert params == {"code-value-string", "component-code-value-quantity"}
