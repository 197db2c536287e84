"""Opening an outpatient visit: the Encounter written, its numbers, and the form's errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine

from benhan.clinical.queue import EXT_QUEUE_PRIORITY, QUEUE_NUMBER
from benhan.clinical.visits import (
    EXT_PAYMENT_CATEGORY,
    VisitForm,
    open_visit,
    suggested_priorities,
)
from benhan.fhir.errors import FhirError
from benhan.vn import systems

from .conftest import count, form, make_bhyt, registration, transaction

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def hospital(engine: Engine) -> dict[str, str]:
    """A department with two exam rooms and a ward bed, a patient with a valid BHYT card, one without."""
    with transaction(engine) as repo:
        dept = repo.create({"resourceType": "Organization", "name": "Khoa Khám bệnh"}).stored.id
        other = repo.create({"resourceType": "Organization", "name": "Khoa Nội"}).stored.id

        def location(name: str, kind: str, org: str) -> str:
            return repo.create({"resourceType": "Location", "status": "active", "name": name,
                                "physicalType": {"coding": [{"code": kind}]},
                                "managingOrganization": {"reference": f"Organization/{org}"}}).stored.id

        ids = {"dept": dept, "other": other, "room1": location("Phòng khám Nội 1", "ro", dept),
               "room2": location("Phòng khám Nhi", "ro", dept), "bed": location("Giường 01", "bd", other),
               "foreign_room": location("Phòng khám Nội trú", "ro", other)}
        card = make_bhyt("DN", 4, "79", "7912345678")
        insured = form("Trần Thị Bình", "1990-05-01", "female", card=card)
        ids["insured"] = registration(repo).register(insured).patient["id"]
        ids["man"] = registration(repo).register(form("Lê Văn Cường", "1960-02-02")).patient["id"]
    return ids


def visit(ids: dict[str, str], patient: str = "insured", **kw: Any) -> VisitForm:
    values: dict[str, Any] = {"patient_id": ids[patient], "department_id": ids["dept"], "room_id": ids["room1"],
                              "payer": "bhyt", "reason": "Sốt  2 ngày", "priorities": []}
    values.update(kw)
    return VisitForm(**values)


def test_an_insured_visit_is_an_arrived_ambulatory_encounter_with_its_numbers(engine):
    ids = hospital(engine)
    with transaction(engine) as repo:
        enc = open_visit(repo, visit(ids, priorities=["pregnant"]), NOW)
    assert enc["status"] == "arrived" and enc["class"]["code"] == "AMB"
    assert enc["subject"]["reference"] == f"Patient/{ids['insured']}"
    assert enc["serviceProvider"]["reference"] == f"Organization/{ids['dept']}"
    assert enc["location"][0]["location"]["reference"] == f"Location/{ids['room1']}"
    assert enc["reasonCode"][0]["text"] == "Sốt 2 ngày"
    assert enc["period"]["start"] == "2026-11-23T09:00:00+07:00"
    ext = {e["url"]: e for e in enc["extension"]}
    assert ext[EXT_PAYMENT_CATEGORY]["valueCode"] == "bhyt"
    assert ext[EXT_QUEUE_PRIORITY]["valueCoding"]["code"] == "pregnant"
    assert enc["priority"]["coding"][0]["code"] == "UR"
    idents = {i["system"]: i["value"] for i in enc["identifier"]}
    assert idents[QUEUE_NUMBER] == "1" and idents[systems.ENCOUNTER_VISIT_NUMBER] == "LK26112300001"
    assert "participant" not in enc


def test_queue_numbers_count_per_room_and_restart_the_next_day(engine):
    ids = hospital(engine)
    numbers = []
    for room, when in (("room1", NOW), ("room1", NOW), ("room2", NOW), ("room1", NOW.replace(day=24))):
        with transaction(engine) as repo:
            enc = open_visit(repo, visit(ids, "man", room_id=ids[room], payer="fee"), when)
            numbers.append(next(i["value"] for i in enc["identifier"] if i["system"] == QUEUE_NUMBER))
    assert numbers == ["1", "2", "1", "1"]


def test_a_failed_visit_gives_back_its_queue_number(engine):
    ids = hospital(engine)
    with pytest.raises(RuntimeError), transaction(engine) as repo:
        open_visit(repo, visit(ids), NOW)
        raise RuntimeError("the request failed after the visit was written")
    with transaction(engine) as repo:
        enc = open_visit(repo, visit(ids), NOW)
    assert next(i["value"] for i in enc["identifier"] if i["system"] == QUEUE_NUMBER) == "1"
    assert count(engine, "Encounter") == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"room_id": "bed"}, "room"), ({"room_id": "foreign_room"}, "room"), ({"department_id": ""}, "department"),
    ({"payer": "cash"}, "payer"), ({"reason": "  "}, "reason"), ({"priorities": ["vip"]}, "priority"),
])
def test_wrong_input_names_the_field_and_writes_nothing(engine, change, field):
    ids = hospital(engine)
    values = {"payer": "fee", **{k: (ids[v] if k.endswith("_id") and v in ids else v) for k, v in change.items()}}
    with pytest.raises(FhirError) as caught, transaction(engine) as repo:
        open_visit(repo, visit(ids, **values), NOW)
    assert caught.value.status == 422
    assert [i.expression for i in caught.value.issues] == [field]
    assert count(engine, "Encounter") == 0


def test_bhyt_needs_a_card_valid_today_and_pregnancy_a_woman(engine):
    ids = hospital(engine)
    with pytest.raises(FhirError) as caught, transaction(engine) as repo:
        open_visit(repo, visit(ids, "man", priorities=["pregnant"]), NOW)
    assert sorted(i.expression for i in caught.value.issues) == ["payer", "priority"]
    with pytest.raises(FhirError) as caught, transaction(engine) as repo:  # the card ends 31/12/2026
        open_visit(repo, visit(ids), datetime(2027, 1, 2, 2, 0, tzinfo=UTC))
    assert [i.expression for i in caught.value.issues] == ["payer"]


def test_child_and_elderly_priority_is_suggested_from_the_birth_date():
    day = date(2026, 11, 23)
    assert suggested_priorities({"birthDate": "2020-11-24"}, day) == ["child-under-6"]
    assert suggested_priorities({"birthDate": "2020-11-23"}, day) == []
    assert suggested_priorities({"birthDate": "1951-11-23"}, day) == ["age-75"]
    assert suggested_priorities({"birthDate": "1951"}, day) == ["age-75"]
    assert suggested_priorities({"birthDate": "1952"}, day) == []
    assert suggested_priorities({}, day) == []
