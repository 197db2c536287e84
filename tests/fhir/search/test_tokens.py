"""Token search: system|code forms, :not, :text, :of-type, :missing, booleans, _id, _tag."""

from __future__ import annotations

import pytest

from benhan.fhir.errors import FhirError

from .conftest import BHYT, CCCD, find, patient, store

V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"


@pytest.mark.parametrize(("query", "expected"), [
    (f"identifier={CCCD}|001090000001", {"anh"}),
    (f"identifier={BHYT}|001090000001", set()),
    ("identifier=001090000001", {"anh"}),
    (f"identifier={CCCD}|", {"anh", "dao", "duc"}),
    (f"identifier={BHYT}|", {"anh", "dao", "hoa"}),
    (f"identifier={CCCD}|001090000001,{BHYT}|GD4010000000004", {"anh", "hoa"}),
    ("gender=female", {"dao", "hoa"}),
    ("gender:not=female", {"anh", "duc"}),
    ("gender:not=male,female", set()),
    ("active=true", {"anh", "dao"}),
    ("active=false", {"duc"}),
    ("active:not=true", {"duc", "hoa"}),
    ("active:missing=true", {"hoa"}),
    ("active:missing=false", {"anh", "dao", "duc"}),
    ("_id=anh,hoa", {"anh", "hoa"}),
    ("_id=nobody", set()),
])
def test_token_forms(vn, query, expected):
    assert find(vn, "Patient", query) == expected


def test_no_system_and_text_and_of_type(engine):
    store(engine,
          patient("a", "A", ["x"], identifier=[{"value": "123"}]),
          patient("b", "B", ["x"], identifier=[{"system": "urn:x", "value": "123"}]),
          patient("c", "C", ["x"], identifier=[{"system": "urn:benhan-test:ni", "value": "999",
                                                "type": {"coding": [{"system": V2, "code": "NI"}],
                                                         "text": "Căn cước công dân"}}]),
          patient("d", "D", ["x"], communication=[{"language": {"coding": [
              {"system": "urn:ietf:bcp:47", "code": "vi", "display": "Tiếng Việt"}]}}]))
    assert find(engine, "Patient", "identifier=|123") == {"a"}
    assert find(engine, "Patient", "identifier=123") == {"a", "b"}
    assert find(engine, "Patient", f"identifier:of-type={V2}|NI|999") == {"c"}
    assert find(engine, "Patient", f"identifier:of-type={V2}|NI|123") == set()
    assert find(engine, "Patient", "language:text=tieng viet") == {"d"}
    assert find(engine, "Patient", "language:text=TIẾNG") == {"d"}
    assert find(engine, "Patient", "language:text=viet") == set()
    assert find(engine, "Patient", "language:not=vi") == {"a", "b", "c"}
    assert find(engine, "Patient", "language=urn:ietf:bcp:47|vi") == {"d"}


VN_PROFILE = "http://fhir.ehealth.gov.vn/core/StructureDefinition/vn-core-patient"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


def test_tags_and_profile_and_source(engine):
    store(engine,
          patient("a", "A", ["x"], meta={"tag": [{"system": "urn:benhan:khoa", "code": "noi"}],
                                          "profile": [VN_PROFILE],
                                          "source": "http://his.bv.vn"}),
          patient("b", "B", ["x"], meta={"security": [{"system": CONFIDENTIALITY, "code": "R"}]}))
    assert find(engine, "Patient", "_tag=urn:benhan:khoa|noi") == {"a"}
    assert find(engine, "Patient", "_tag:not=noi") == {"b"}
    assert find(engine, "Patient", f"_profile={VN_PROFILE}") == {"a"}
    assert find(engine, "Patient", "_security=R") == {"b"}
    assert find(engine, "Patient", "_source=http://his.bv.vn") == {"a"}
    assert find(engine, "Patient", "_tag:missing=true") == {"b"}


@pytest.mark.parametrize("query", ["gender:in=http://x", "gender:below=x", "gender:above=x", "gender:exact=x",
                                   "identifier:of-type=a|b", "identifier=a|b|c", "active:missing=maybe",
                                   "_id:exact=x"])
def test_bad_token_queries_are_400(vn, query):
    with pytest.raises(FhirError) as err:
        find(vn, "Patient", query)
    assert err.value.status == 400
