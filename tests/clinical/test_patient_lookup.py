"""The one patient lookup (clinical/mpi/lookup.py) that the chart search and the SMART picker share."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from benhan.clinical import chart
from benhan.clinical.mpi.lookup import lookup_patients, search_query
from benhan.security import patient_picker

from .conftest import form, make_bhyt, make_cccd, transaction

CARD = make_bhyt("DN", 4, 79, 1234567890)
CCCD = make_cccd("079", "male", 1985, 1)


@pytest.fixture
def people(engine: Engine, register) -> dict[str, str]:  # type: ignore[no-untyped-def]
    an = register(form("Nguyễn Văn An", "1985-03-12", cccd=CCCD, card=CARD, phone="0912345678")).patient
    binh = register(form("Trần Thị Bình", "1990-07-01", "female", phone="0987654321")).patient
    return {"an": an["id"], "binh": binh["id"]}


@pytest.mark.parametrize(("typed", "who"), [
    ("nguyen van an", "an"),  # no diacritics
    ("NGUYỄN an", "an"),  # case, some words
    ("tran binh", "binh"),
    (CCCD, "an"),  # CCCD
    ("1234567890", "an"),  # BHXH number (Patient identifier)
    (CARD.lower(), "an"),  # BHYT card code (Coverage identifier -> beneficiary)
    ("+84 912 345 678", "an"),  # phone, +84 folded
    ("0987.654.321", "binh"),
    ("00000002", "binh"),  # patient code (mã bệnh nhân)
])
def test_one_lookup_finds_by_name_cccd_bhyt_phone_code(engine, people, typed, who) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as repo:
        found = lookup_patients(repo.conn, typed, base_url="")
        assert [p["id"] for p in found] == [people[who]]
        assert [h.id for h in chart.find_patients(repo, typed, date(2026, 1, 1))] == [people[who]]


def test_nothing_found_and_empty_text(engine, people) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as repo:
        assert lookup_patients(repo.conn, "le van", base_url="") == []
        assert lookup_patients(repo.conn, "   ", base_url="") == []
        recent = lookup_patients(repo.conn, "", base_url="", recent_when_empty=True)
        assert {p["id"] for p in recent} == set(people.values())


def test_picker_uses_the_same_lookup_and_also_takes_a_record_id(engine, people) -> None:  # type: ignore[no-untyped-def]
    assert ("Patient", [("_id", "abc-1")]) in search_query("abc-1", by_id=True)
    assert ("Patient", [("_id", "abc-1")]) not in search_query("abc-1")

    with transaction(engine) as repo:  # no guard: a trusted caller (the real picker passes the user's FhirGuard)
        repo.flush()
        choices = patient_picker.find_patients(repo.conn, None, "tran binh", base_url="")  # type: ignore[arg-type]
        assert [(c.id, c.name) for c in choices] == [(people["binh"], "Trần Thị Bình")]
        assert [c.id for c in patient_picker.find_patients(repo.conn, None, CARD, base_url="")] == [people["an"]]
