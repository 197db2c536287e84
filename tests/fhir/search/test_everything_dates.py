"""``Patient/[id]/$everything?start=&end=``: care dates, not record dates (R4 Patient-everything)."""

from __future__ import annotations

from typing import Any

import pytest

from benhan.fhir.errors import FhirError
from benhan.fhir.search import everything

from .conftest import BASE, observation, patient, store


def _record(engine: Any) -> None:
    subject = {"reference": "Patient/an"}
    store(engine, patient("an", "Nguyễn", ["An"]),
          observation("obs-2023", "Patient/an", "8480-6", value=130, date="2023-12-31T23:00:00+07:00"),
          observation("obs-2024", "Patient/an", "8480-6", value=120, date="2024-03-05"),
          observation("obs-2025", "Patient/an", "8480-6", value=125, date="2025-01-10"),
          {"resourceType": "Encounter", "id": "enc-long", "status": "finished", "subject": subject,
           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
           "period": {"start": "2023-12-20", "end": "2024-01-03"}},  # overlaps the start of 2024
          {"resourceType": "Condition", "id": "cond-2022", "subject": subject, "onsetDateTime": "2022-02-01",
           "code": {"text": "Tăng huyết áp"}},
          {"resourceType": "Condition", "id": "cond-undated", "subject": subject, "code": {"text": "Hen"}},
          {"resourceType": "MedicationRequest", "id": "med-2024", "status": "active", "intent": "order",
           "subject": subject, "authoredOn": "2024-06-30", "medicationCodeableConcept": {"text": "Amlodipin"}},
          {"resourceType": "RelatedPerson", "id": "wife", "patient": subject, "name": [{"text": "Lê Thị Mai"}]})


def _ids(engine: Any, params: list[tuple[str, str]]) -> set[str]:
    with engine.connect() as conn:
        bundle = everything(conn, "an", [*params, ("_count", "100")], base_url=BASE)
    assert not any(e["search"]["mode"] == "outcome" for e in bundle.get("entry", []))  # start/end are known
    return {e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"}


UNDATED = {"an", "wife"}  # no care date: never dropped by start/end


@pytest.mark.parametrize(("params", "expected"), [
    ([("start", "2024-01-01"), ("end", "2024-06-30")], UNDATED | {"obs-2024", "enc-long", "med-2024"}),
    ([("start", "2024")], UNDATED | {"obs-2024", "obs-2025", "enc-long", "med-2024"}),
    ([("end", "2023-12-31")], UNDATED | {"obs-2023", "enc-long", "cond-2022"}),
    ([("start", "2024-07"), ("end", "2024-12")], UNDATED),
    ([("start", "2024-01-01"), ("end", "2024-06-30"), ("_type", "Observation,Patient")], {"an", "obs-2024"}),
])
def test_start_and_end_select_by_care_date(engine, params, expected):
    _record(engine)
    assert _ids(engine, params) == expected


def test_without_start_and_end_everything_is_returned(engine):
    _record(engine)
    assert _ids(engine, []) == UNDATED | {"obs-2023", "obs-2024", "obs-2025", "enc-long", "cond-2022",
                                          "cond-undated", "med-2024"}


def test_a_malformed_date_is_a_400(engine):
    _record(engine)
    with pytest.raises(FhirError) as err:
        _ids(engine, [("start", "01/02/2024")])
    assert err.value.status == 400 and err.value.issues[0].expression == "start"
