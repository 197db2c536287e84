"""Today's queue of an exam room: priority order, numbers never issued twice, calling the next patient."""

from __future__ import annotations

from datetime import timedelta

import pytest

from benhan.clinical.queue import call_next, next_queue_number, queue_number, recall, skip, today_queue
from benhan.clinical.visits import open_visit
from benhan.fhir.errors import FhirError

from .conftest import form, registration, transaction
from .test_visits import NOW, hospital, visit


def arrive(engine, ids, name: str, minutes: int, priorities=(), room: str = "room1", birth: str = "1980-01-01",
           gender: str = "female") -> str:
    with transaction(engine) as repo:
        pid = registration(repo).register(form(name, birth, gender), confirmed_new=True).patient["id"]
        enc = open_visit(repo, visit({**ids, "p": pid}, "p", payer="fee", room_id=ids[room],
                                     priorities=list(priorities)), NOW + timedelta(minutes=minutes))
    return enc["id"]


def test_emergency_first_then_legal_priority_groups_then_the_rest_each_by_arrival(engine):
    ids = hospital(engine)
    a = arrive(engine, ids, "Phạm Văn An", 0)
    b = arrive(engine, ids, "Đỗ Thị Bích", 1, ["age-75"])
    c = arrive(engine, ids, "Hoàng Văn Chung", 2)
    d = arrive(engine, ids, "Vũ Thị Dung", 3, ["emergency"])
    e = arrive(engine, ids, "Bùi Thị Én", 4, ["pregnant"])
    other_room = arrive(engine, ids, "Ngô Văn Phúc", 5, ["emergency"], room="room2")
    with transaction(engine) as repo:
        queue = today_queue(repo, ids["room1"], NOW + timedelta(minutes=10))
        other = today_queue(repo, ids["room2"], NOW + timedelta(minutes=10))
        tomorrow = today_queue(repo, ids["room1"], NOW + timedelta(days=1))
    assert [x["id"] for x in queue.waiting] == [d, b, e, a, c]
    assert [queue_number(x) for x in queue.waiting] == ["4", "2", "5", "1", "3"]
    assert [x["id"] for x in other.waiting] == [other_room]
    assert tomorrow.waiting == [] and queue.in_progress == []


def test_call_next_starts_the_first_waiting_visit_with_the_doctor(engine):
    ids = hospital(engine)
    with transaction(engine) as repo:
        doctor = repo.create({"resourceType": "Practitioner", "name": [{"text": "BS Lan"}]}).stored.id
    first = arrive(engine, ids, "Phạm Văn An", 0)
    urgent = arrive(engine, ids, "Bé Na", 1, ["child-under-6"], birth="2023-01-01")
    with transaction(engine) as repo:
        called = call_next(repo, ids["room1"], doctor, NOW + timedelta(minutes=5))
    assert called is not None and called["id"] == urgent
    with transaction(engine) as repo:
        stored = repo.read("Encounter", urgent).resource()
        queue = today_queue(repo, ids["room1"], NOW + timedelta(minutes=6))
    assert stored["status"] == "in-progress"
    attender = stored["participant"][0]
    assert attender["type"][0]["coding"][0]["code"] == "ATND"
    assert attender["individual"]["reference"] == f"Practitioner/{doctor}"
    assert stored["statusHistory"][0]["status"] == "arrived"
    assert [x["id"] for x in queue.waiting] == [first] and [x["id"] for x in queue.in_progress] == [urgent]
    with transaction(engine) as repo:
        assert call_next(repo, ids["room1"], doctor, NOW + timedelta(minutes=7))["id"] == first
    with transaction(engine) as repo:
        assert call_next(repo, ids["room1"], doctor, NOW + timedelta(minutes=8)) is None
    with pytest.raises(FhirError) as caught, transaction(engine) as repo:
        recall(repo, first, doctor, NOW + timedelta(minutes=9))
    assert caught.value.status == 409


def test_a_queue_number_is_never_issued_twice(engine):
    ids = hospital(engine)
    day = NOW.date()
    issued = []
    for _ in range(5):
        with transaction(engine) as repo:
            issued.append(next_queue_number(repo, ids["room1"], day))
    with pytest.raises(RuntimeError), transaction(engine) as repo:
        next_queue_number(repo, ids["room1"], day)
        raise RuntimeError("rolled back")
    with transaction(engine) as repo:
        issued.append(next_queue_number(repo, ids["room1"], day))
    assert issued == [1, 2, 3, 4, 5, 6]


def test_concurrent_workers_never_share_a_queue_number_or_a_called_patient(engine):
    from concurrent.futures import ThreadPoolExecutor

    ids = hospital(engine)
    with transaction(engine) as repo:
        patients = [registration(repo).register(form(f"Người Thứ W{i}", f"19{50 + i}-01-01"),
                                                confirmed_new=True).patient["id"] for i in range(4)]

    def register_visits(worker: int) -> list[str]:
        numbers = []
        for i in range(4):
            with transaction(engine) as repo:
                enc = open_visit(repo, visit({**ids, "p": patients[worker]}, "p", payer="fee"),
                                 NOW + timedelta(seconds=worker * 10 + i))
                numbers.append(queue_number(enc))
        return numbers

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for chunk in pool.map(register_visits, range(4)) for n in chunk]
    assert sorted(int(n) for n in numbers) == list(range(1, 17))

    def call(_worker: int) -> list[str]:
        called = []
        for _ in range(4):
            with transaction(engine) as repo:
                enc = call_next(repo, ids["room1"], None, NOW + timedelta(minutes=5))
                called.append(enc["id"])
        return called

    with ThreadPoolExecutor(4) as pool:
        called = [e for chunk in pool.map(call, range(4)) for e in chunk]
    assert len(set(called)) == 16


def test_a_called_patient_who_does_not_come_goes_back_behind_those_waiting(engine):
    ids = hospital(engine)
    first = arrive(engine, ids, "Phạm Văn An", 0)
    second = arrive(engine, ids, "Đỗ Văn Bình", 1)
    third = arrive(engine, ids, "Hoàng Văn Chung", 2)
    elderly = arrive(engine, ids, "Lý Thị Dậu", 3, ["age-75"], birth="1940-01-01")
    with transaction(engine) as repo:
        assert call_next(repo, ids["room1"], None, NOW + timedelta(minutes=5))["id"] == elderly
        assert call_next(repo, ids["room1"], None, NOW + timedelta(minutes=6))["id"] == first
    with transaction(engine) as repo:
        skip(repo, elderly, NOW + timedelta(minutes=7))
        skip(repo, first, NOW + timedelta(minutes=8))
    with transaction(engine) as repo:
        queue = today_queue(repo, ids["room1"], NOW + timedelta(minutes=9))
        sent_back = repo.read("Encounter", first).resource()
    assert [e["id"] for e in queue.waiting] == [elderly, second, third, first]  # the priority band is kept
    assert sent_back["status"] == "arrived" and [h["status"] for h in sent_back["statusHistory"]] == [
        "arrived", "in-progress"]
    with pytest.raises(FhirError), transaction(engine) as repo:
        skip(repo, second, NOW + timedelta(minutes=10))
