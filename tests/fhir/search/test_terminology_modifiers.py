"""Token :below / :above / :in / :not-in against the terminology service (ICD-10 QĐ 4469 loaded).

Semantics checked against https://hl7.org/fhir/R4/search.html#token: ``:below`` matches codings subsumed by
the given concept (the concept itself included), ``:above`` codings that subsume it, ``:in`` codings in the
value set (literal reference or canonical URL), ``:not-in`` resources with no coding in it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from benhan.fhir.errors import FhirError

from .conftest import BASE, find, patient, store

ICD = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
GENDER = "http://hl7.org/fhir/administrative-gender"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def condition(cid: str, *codings: tuple[str, str], clinical: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p"},
                           "code": {"coding": [{"system": s, "code": c} for s, c in codings]}}
    if clinical:
        res["clinicalStatus"] = {"coding": [{"system": CLINICAL, "code": clinical}]}
    return res


CONDITIONS = [
    condition("i10", (ICD, "I10"), clinical="active"),
    condition("i11", (ICD, "I11")),
    condition("i11-0", (ICD, "I11.0"), clinical="resolved"),
    condition("i11-9", (ICD, "I11.9")),
    condition("m01", (ICD, "M01")),
    condition("m01-0", (ICD, "M01.0")),
    condition("m01-00", (ICD, "M01.00")),
    condition("m01-1", (ICD, "M01.1")),
    condition("j45-0", (ICD, "J45.0"), (SNOMED, "195967001")),
    condition("sct", (SNOMED, "I11.0")),  # same code, other system: never subsumed by ICD-10 I11
    condition("bogus", (ICD, "XYZ")),  # not an ICD-10 code: in no ICD-10 value set
]


@pytest.fixture
def icd(term_engine):
    store(term_engine, patient("p", "Nguyễn", ["An"]), *CONDITIONS)
    return term_engine


@pytest.mark.parametrize(("query", "expected"), [
    (f"code:below={ICD}|I11", {"i11", "i11-0", "i11-9"}),
    (f"code:below={ICD}|I10", {"i10"}),
    (f"code:below={ICD}|M01", {"m01", "m01-0", "m01-00", "m01-1"}),  # three levels: category, code, sub-code
    (f"code:below={ICD}|M01.0", {"m01-0", "m01-00"}),
    (f"code:below={ICD}|I11,{ICD}|I10", {"i10", "i11", "i11-0", "i11-9"}),
    (f"code:above={ICD}|M01.00", {"m01", "m01-0", "m01-00"}),
    (f"code:above={ICD}|I11.0", {"i11", "i11-0"}),
    (f"code:above={ICD}|I10", {"i10"}),
])
def test_below_and_above_follow_the_icd10_hierarchy(icd, query, expected):
    assert find(icd, "Condition", query) == expected


def test_below_and_above_combine_with_other_criteria(icd):
    assert find(icd, "Condition", f"code:below={ICD}|I11&clinical-status=resolved") == {"i11-0"}
    assert find(icd, "Condition", f"code:below={ICD}|I11&code:below={ICD}|I11.0") == {"i11-0"}
    assert find(icd, "Patient", f"_has:Condition:subject:code:below={ICD}|M01.0") == {"p"}


ALL_ICD = {"i10", "i11", "i11-0", "i11-9", "m01", "m01-0", "m01-00", "m01-1", "j45-0"}


def test_in_a_shipped_value_set_uses_the_concept_index(icd):
    vs = "urn:benhan:fhir:ValueSet:icd-10-vn"
    assert find(icd, "Condition", f"code:in={vs}") == ALL_ICD  # XYZ is not an ICD-10 code
    assert find(icd, "Condition", f"code:not-in={vs}") == {"sct", "bogus"}


def _custom_valueset(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "ValueSet", "id": "tim-mach", "url": "urn:benhan-test:vs:tim-mach", "version": "2",
            "status": "active",
            "compose": {"include": [{"system": ICD, "filter": [{"property": "concept", "op": "is-a", "value": "I11"}]},
                                    {"system": ICD, "concept": [{"code": "J45.0"}]},
                                    {"system": ICD, "filter": [{"property": "concept", "op": "descendent-of",
                                                                "value": "M01"}]}],
                        "exclude": [{"system": ICD, "concept": [{"code": "I11.9"}]}]}, **extra}


@pytest.mark.parametrize("ref", [
    "urn:benhan-test:vs:tim-mach", "urn:benhan-test:vs:tim-mach|2", "ValueSet/tim-mach", f"{BASE}/ValueSet/tim-mach",
])
def test_in_a_stored_value_set_by_canonical_or_reference(icd, ref):
    store(icd, _custom_valueset())
    expected = {"i11", "i11-0", "j45-0", "m01-0", "m01-00", "m01-1"}
    assert find(icd, "Condition", f"code:in={ref}") == expected
    everything = {c["id"] for c in CONDITIONS}
    assert find(icd, "Condition", f"code:not-in={ref}") == everything - expected


def test_in_with_a_value_set_that_nests_another_and_an_expansion(icd):
    store(icd, _custom_valueset(),
          {"resourceType": "ValueSet", "id": "nested", "url": "urn:benhan-test:vs:nested", "status": "active",
           "compose": {"include": [{"valueSet": ["urn:benhan-test:vs:tim-mach"], "system": ICD,
                                    "filter": [{"property": "concept", "op": "generalizes", "value": "M01.00"}]}]}},
          {"resourceType": "ValueSet", "id": "expanded", "url": "urn:benhan-test:vs:expanded", "status": "active",
           "expansion": {"timestamp": "2026-01-01T00:00:00Z",
                         "contains": [{"system": SNOMED, "code": "I11.0"},
                                      {"system": ICD, "code": "M01", "contains": [{"system": ICD, "code": "I10"}]}]}})
    # the nested value set AND the generalizes filter: M01.0 and M01.00 (M01 itself is only "descendent-of")
    assert find(icd, "Condition", "code:in=urn:benhan-test:vs:nested") == {"m01-0", "m01-00"}
    assert find(icd, "Condition", "code:in=urn:benhan-test:vs:expanded") == {"sct", "m01", "i10"}


def test_value_set_filters_is_not_a_equals_and_in(icd):
    def vs(vid: str, op: str, value: str) -> dict[str, Any]:
        return {"resourceType": "ValueSet", "id": vid, "url": f"urn:benhan-test:vs:{vid}", "status": "active",
                "compose": {"include": [{"system": ICD, "filter": [{"property": "concept", "op": op,
                                                                    "value": value}]}]}}

    store(icd, vs("not-m01", "is-not-a", "M01"), vs("eq", "=", "I10"), vs("list", "in", "I10,M01.1"))
    assert find(icd, "Condition", "code:in=urn:benhan-test:vs:not-m01") == {"i10", "i11", "i11-0", "i11-9", "j45-0"}
    assert find(icd, "Condition", "code:in=urn:benhan-test:vs:eq") == {"i10"}
    assert find(icd, "Condition", "code:in=urn:benhan-test:vs:list") == {"i10", "m01-1"}


def test_in_a_fhir_core_value_set(icd):
    vs = "http://hl7.org/fhir/ValueSet/condition-clinical"
    assert find(icd, "Condition", f"clinical-status:in={vs}") == {"i10", "i11-0"}
    assert find(icd, "Condition", f"clinical-status:not-in={vs}") == {c["id"] for c in CONDITIONS} - {"i10", "i11-0"}


def test_lookups_are_one_statement_per_value_and_the_hierarchy_is_walked_in_sql(icd):
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(icd, "before_cursor_execute", seen)
    try:
        assert find(icd, "Condition", f"code:below={ICD}|I11") == {"i11", "i11-0", "i11-9"}
    finally:
        event.remove(icd, "before_cursor_execute", seen)
    selects = [st for st in statements if st.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert len(selects) == 2, selects  # the code-system lookup, then the page (with its recursive CTE)
    assert "RECURSIVE" in selects[1].upper()


@pytest.mark.parametrize(("query", "code", "words"), [
    ("code:in=urn:benhan-test:vs:none", "not-found", "unknown value set"),
    ("code:in=ValueSet/none", "not-found", "unknown value set"),
    ("code:in=urn:benhan-test:vs:tim-mach|9", "not-found", "unknown value set"),
    (f"code:below={ICD}|I99.99", "not-found", "not in the code system"),
    (f"code:above={ICD}|I10-I15", "not-found", "not in the code system"),  # a block is not a concept
    ("code:below=http://loinc.org|8480-6", "not-supported", "not loaded"),
    ("code:below=I10", "invalid", "system|code"),
    (f"code:below={ICD}|", "invalid", "system|code"),
])
def test_what_the_service_cannot_answer_is_a_400(icd, query, code, words):
    store(icd, _custom_valueset())
    with pytest.raises(FhirError) as err:
        find(icd, "Condition", query)
    issue = err.value.issues[0]
    assert err.value.status == 400 and issue.code == code and words in issue.en, issue
    assert issue.expression == query.split("=")[0]


def test_a_code_system_without_hierarchy_is_a_400(icd):
    store(icd, patient("x", "Trần", ["Bình"], gender="male"))
    with pytest.raises(FhirError) as err:
        find(icd, "Patient", f"gender:below={GENDER}|male")
    assert err.value.status == 400 and "no hierarchy" in err.value.issues[0].en
    assert find(icd, "Patient", "gender:in=http://hl7.org/fhir/ValueSet/administrative-gender") == {"x"}


def test_unsupported_value_set_filters_are_a_400(icd):
    store(icd, {"resourceType": "ValueSet", "id": "regex", "url": "urn:benhan-test:vs:regex", "status": "active",
                "compose": {"include": [{"system": ICD, "filter": [{"property": "code", "op": "regex",
                                                                    "value": "I1.*"}]}]}})
    with pytest.raises(FhirError) as err:
        find(icd, "Condition", "code:in=urn:benhan-test:vs:regex")
    assert err.value.status == 400 and "not supported" in err.value.issues[0].en
