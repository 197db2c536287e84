"""Finding and rewriting references inside a resource (fhir/references.py)."""

from __future__ import annotations

from benhan.fhir.references import iter_references, local_references, rewrite_references

BASE = "http://benhan.test/fhir"

OBSERVATION = {
    "resourceType": "Observation", "status": "final",
    "subject": {"reference": "urn:uuid:p1"},
    "performer": [{"reference": "Practitioner/bs1"}, {"display": "Điều dưỡng Lan"},
                  {"reference": f"{BASE}/Organization/bv"}],
    "basedOn": [{"reference": "ServiceRequest?identifier=XN-7"}],
    "hasMember": [{"reference": "#inner"}],
    "contained": [{"resourceType": "Observation", "id": "inner", "status": "final",
                   "subject": {"reference": "urn:uuid:p1"}}],
    "extension": [{"url": "http://example.org/x", "valueReference": {"reference": "Encounter/e1"}}],
    "note": [{"text": "không có tham chiếu"}],
}


def test_every_reference_with_its_location() -> None:
    assert list(iter_references(OBSERVATION)) == [
        ("urn:uuid:p1", "Observation.subject.reference"),
        ("Practitioner/bs1", "Observation.performer[0].reference"),
        (f"{BASE}/Organization/bv", "Observation.performer[2].reference"),
        ("ServiceRequest?identifier=XN-7", "Observation.basedOn[0].reference"),
        ("#inner", "Observation.hasMember[0].reference"),
        ("urn:uuid:p1", "Observation.contained[0].subject.reference"),
        ("Encounter/e1", "Observation.extension[0].valueReference.reference"),
    ]


def test_local_references_are_those_on_this_server() -> None:
    found = [(r.type, r.id, r.expression) for r in local_references(OBSERVATION, BASE, lambda t: t[0].isupper())]
    assert found == [("Practitioner", "bs1", "Observation.performer[0].reference"),
                     ("Organization", "bv", "Observation.performer[2].reference"),
                     ("Encounter", "e1", "Observation.extension[0].valueReference.reference")]


def test_rewrite_in_place_and_report_conditional_references() -> None:
    resource = {**OBSERVATION, "contained": [dict(OBSERVATION["contained"][0], subject={"reference": "urn:uuid:p1"})],
                "subject": {"reference": "urn:uuid:p1"}}
    conditional = rewrite_references(resource, {"urn:uuid:p1": "Patient/42"})
    assert conditional == {"ServiceRequest?identifier=XN-7"}
    assert resource["subject"] == {"reference": "Patient/42"}
    assert resource["contained"][0]["subject"] == {"reference": "Patient/42"}
    assert resource["hasMember"] == [{"reference": "#inner"}]
    entries = [{"resource": {"subject": {"reference": "urn:uuid:p1"}}}]
    assert rewrite_references(entries, {"urn:uuid:p1": "Patient/42"}) == set()
    assert entries[0]["resource"]["subject"] == {"reference": "Patient/42"}
