"""Property-based: ``_contained`` searches equal a brute-force filter over the contained resources.

Random prescriptions (MedicationRequest) each contain 0-3 Medications with a random code and form, some
stored Medications stand alone; random code/form/``:missing`` queries with every ``_contained`` /
``_containedType`` combination are checked against plain Python over the same data.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import VN_PATIENTS, run, store

DRUGS = "http://benhan.test/thuoc"
CODES = ["PARA500", "AMOX250", "IBU400", "CEFU500"]
FORMS = ["TAB", "CAP", "SYR"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _med(mid: str, rnd: random.Random) -> dict[str, Any]:
    med: dict[str, Any] = {"resourceType": "Medication", "id": mid,
                           "code": {"coding": [{"system": DRUGS, "code": rnd.choice(CODES)}]}}
    if rnd.random() < 0.7:
        med["form"] = {"coding": [{"system": DRUGS, "code": rnd.choice(FORMS)}]}
    return med


def make_dataset(seed: int = 11) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rnd = random.Random(seed)
    orders = []
    for i in range(25):
        contained = [_med(f"m{j}", rnd) for j in range(rnd.randint(0, 3))]
        order: dict[str, Any] = {"resourceType": "MedicationRequest", "id": f"don-{i}", "status": "active",
                                 "intent": "order", "subject": {"reference": "Patient/anh"}}
        if contained:
            order["contained"] = contained
            order["medicationReference"] = {"reference": "#m0"}
        else:
            order["medicationCodeableConcept"] = {"text": "không rõ"}
        orders.append(order)
    stored = [_med(f"kho-{i}", rnd) for i in range(8)]
    return orders, stored


ORDERS, STORED = make_dataset()


def _coded(med: dict[str, Any], key: str) -> str | None:
    return med[key]["coding"][0]["code"] if key in med else None


def _matches(med: dict[str, Any], codes: list[str], forms: list[str] | None, form_missing: bool | None) -> bool:
    if codes and _coded(med, "code") not in codes:
        return False
    if forms is not None and _coded(med, "form") not in forms:
        return False
    return form_missing is None or (("form" in med) is not form_missing)


def test_contained_search_equals_brute_force(engine):
    store(engine, *VN_PATIENTS, *ORDERS, *STORED)

    @SETTINGS
    @given(codes=st.lists(st.sampled_from(CODES), max_size=2, unique=True),
           forms=st.one_of(st.none(), st.lists(st.sampled_from(FORMS), min_size=1, max_size=2, unique=True)),
           form_missing=st.sampled_from([None, True, False]), scope=st.sampled_from(["true", "both"]),
           returns=st.sampled_from(["container", "contained"]))
    def check(codes, forms, form_missing, scope, returns):
        parts = [f"_contained={scope}", f"_containedType={returns}", "_count=1000"]
        if codes:
            parts.append("code=" + ",".join(f"{DRUGS}|{c}" for c in codes))
        if forms is not None:
            parts.append("form=" + ",".join(forms))
        if form_missing is not None:
            parts.append(f"form:missing={str(form_missing).lower()}")
        expected: set[str] = set()
        for order in ORDERS:
            for med in order.get("contained", []):
                if _matches(med, codes, forms, form_missing):
                    expected.add(order["id"] if returns == "container" else f"{order['id']}#{med['id']}")
        if scope == "both":
            expected |= {m["id"] for m in STORED if _matches(m, codes, forms, form_missing)}
        bundle = run(engine, "Medication", "&".join(parts))
        got = {e["fullUrl"].rsplit("/", 1)[1] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"}
        assert got == expected, "&".join(parts)
        assert bundle["total"] == len(expected)

    check()
