"""Registration on both backends: resources written, codes issued, duplicates found, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from benhan.clinical.mpi.candidates import blocking_queries
from benhan.clinical.mpi.scoring import PersonKey
from benhan.clinical.patient_form import BhytCardForm, Coded, to_patient
from benhan.fhir.errors import FhirError
from benhan.vn import systems

from .conftest import ContactForm, count, form, make_bhyt, make_cccd, registration, transaction

CARD = make_bhyt("DN", 4, 79, 1234567890)
CCCD = make_cccd("079", "male", 1985, 1)


def next_code(engine: Engine) -> str:
    """The code the next registration would get (taken in a transaction that commits)."""
    with transaction(engine) as repo:
        return registration(repo).codes.next_code(repo)


def _ident(patient: dict, system: str) -> str | None:
    return next((i["value"] for i in patient.get("identifier", []) if i["system"] == system), None)


def test_register_writes_patient_and_coverage(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    f = form(cccd=CCCD, card=CARD, phone="+84 912 345 678", commune="26743",
             ethnicity=Coded("01", "Kinh"), occupation=Coded("00000"), nationality=Coded("VN", "Việt Nam"),
             contacts=[ContactForm("Trần Thị Bình", "Vợ", "WIFE", "0901234567")])
    result = register(f)
    assert result.outcome == "created"
    p = result.patient
    assert p["name"][0] == {"use": "official", "text": "Nguyễn Văn An", "family": "Nguyễn", "given": ["Văn", "An"]}
    assert _ident(p, systems.PATIENT_INTERNAL_ID) == "00000001"
    assert _ident(p, systems.NATIONAL_ID) == CCCD and _ident(p, systems.INSURANCE_NUMBER) == "1234567890"
    assert p["telecom"][0]["value"] == "0912345678"
    assert {e["url"] for e in p["extension"]} == {systems.EXT_NATIONALITY, systems.EXT_ETHNIC_GROUP,
                                                  systems.EXT_OCCUPATION}
    assert p["address"][0]["city"] == "Phường Bến Thành" and "district" not in p["address"][0]
    assert p["contact"][0]["name"]["family"] == "Trần"
    cov = result.coverage
    assert cov["beneficiary"]["reference"] == f"Patient/{p['id']}"
    assert cov["subscriberId"] == CARD and cov["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert [c["value"] for c in cov["class"]] == ["DN", "4"] and cov["class"][1]["name"] == "Mức hưởng 80%"
    assert [e.action for e in result.events] == ["registration.create", "registration.coverage"]
    assert count(engine, "Patient") == 1 and count(engine, "Coverage") == 1


def test_old_address_with_district_is_kept_as_text() -> None:
    f = form(commune="00001")
    assert f.address is not None
    f.address.district = "Quận 1"
    f.address.text = "12 Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"
    address = to_patient(f)["address"][0]
    assert address["district"] == "Quận 1" and address["text"].endswith("Quận 1, TP. Hồ Chí Minh")


def test_patient_codes_are_sequential(register) -> None:  # type: ignore[no-untyped-def]
    codes = [register(form(f"Người Số {name}", f"19{50 + i}-01-0{i + 1}")).patient for i, name in
             enumerate(["Một", "Hai", "Ba"])]
    assert [_ident(p, systems.PATIENT_INTERNAL_ID) for p in codes] == ["00000001", "00000002", "00000003"]


def test_bad_card_writes_nothing(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FhirError) as err:
        register(form(card="DN4991234567890"))
    assert err.value.status == 422 and err.value.issues[0].expression == "bhyt.number"
    assert "mã tỉnh" in err.value.issues[0].vi
    assert count(engine, "Patient") == 0 and next_code(engine) == "00000001"  # the number was given back


def test_coverage_refused_by_repository_rolls_back_patient(engine: Engine) -> None:
    f = form(card=CARD)
    assert f.bhyt is not None
    f.bhyt = BhytCardForm(CARD, date(2026, 12, 31), date(2026, 1, 1))  # ends before it starts
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        registration(repo).register(f)
    assert err.value.status == 422
    assert count(engine, "Patient") == 0 and count(engine, "Coverage") == 0 and next_code(engine) == "00000001"


def test_cccd_inconsistent_with_sex_is_refused(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FhirError) as err:
        register(form(gender="female", cccd=CCCD))
    assert "giới tính" in str(err.value.issues[0].vi)
    assert count(engine, "Patient") == 0


@pytest.mark.parametrize("again", [
    form("Nguyen Van An", "1990-01-01", cccd=CCCD),  # same CCCD, other data wrong
    form("Nguyễn Văn An", card="1234567890"),  # 10-digit number of the same card
    form("Nguyễn Văn An", card=make_bhyt("HT", 3, 79, 1234567890)),  # new card, same BHXH number
])
def test_hard_duplicate_returns_existing(engine: Engine, register, again) -> None:  # type: ignore[no-untyped-def]
    first = register(form(cccd=CCCD, card=CARD)).patient
    result = register(again)
    assert result.outcome == "existing" and result.patient["id"] == first["id"]
    assert result.candidates[0].hard
    assert count(engine, "Patient") == 1


@pytest.mark.parametrize(("name", "born", "expected"), [
    ("Nguyen Van An", "1985-03-12", "name_same"),
    ("NGUYỄN VĂN AN", "1985-12-03", "birth_swapped"),
    ("Nguyễn Văn Ann", "1985-03-12", "name_typo"),
    ("Nguyn Van An", "1985-03-12", "name_typo"),
    ("Nguyễn Văn An", "1985", "birth_partial"),
])
def test_probable_duplicates_found(engine: Engine, register, name: str, born: str,  # type: ignore[no-untyped-def]
                                   expected: str) -> None:
    first = register(form(phone="0912345678")).patient
    register(form("Trần Thị Bình", "1985-03-12", "female"))  # someone else, same birth date
    result = register(form(name, born))
    assert result.outcome == "review" and result.patient is None
    assert [c.patient["id"] for c in result.candidates] == [first["id"]]
    assert expected in {r.code for r in result.candidates[0].match.reasons}
    assert count(engine, "Patient") == 2
    confirmed = register(form(name, born), confirmed_new=True)
    assert confirmed.outcome == "created" and count(engine, "Patient") == 3


def test_twins_are_not_flagged(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    register(form("Nguyễn Văn An", "2010-04-05", phone="0912345678", commune="26743"))
    twin = register(form("Nguyễn Văn Bình", "2010-04-05", phone="0912345678", commune="26743"))
    assert twin.outcome == "created" and not twin.candidates
    adult_a = register(form("Lê Văn Anh", "2000-04-05", cccd=make_cccd("079", "male", 2000, 1)))
    adult_b = register(form("Lê Văn Anh", "2000-04-05", cccd=make_cccd("079", "male", 2000, 2)))
    assert adult_a.outcome == adult_b.outcome == "created" and not adult_b.candidates


def test_candidate_retrieval_uses_index_queries_only() -> None:
    key = PersonKey.from_patient(to_patient(form("Nguyễn Văn An", "1985-03-12", phone="0912345678")))
    queries = blocking_queries(key)
    assert [("name", "nguyen van an"), ("birthdate", "1984,1985,1986")] in queries
    assert not any(name in ("family", "given") for q in queries for name, _ in q)  # thousands match at scale
    assert [("birthdate", "1985-12-03")] in queries and [("phone", "0912345678")] in queries
    assert all(q for q in queries)  # never an unfiltered search


def test_update_keeps_code_and_refuses_foreign_cccd(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    a = register(form(cccd=CCCD)).patient
    b = register(form("Trần Thị Bình", "1990-01-01", "female")).patient
    with transaction(engine) as repo:
        updated = registration(repo).update(a["id"], form(phone="0912345678", cccd=CCCD, card=CARD))
    assert updated.outcome == "updated"
    assert _ident(updated.patient, systems.PATIENT_INTERNAL_ID) == "00000001"
    assert updated.patient["telecom"][0]["value"] == "0912345678" and updated.coverage is not None
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        registration(repo).update(b["id"], form("Trần Thị Bình", "1990-01-01", "female", card=CARD))
    assert err.value.status == 409


def test_patient_codes_unique_across_concurrent_workers(engine: Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def work(worker: int) -> list[str]:
        codes = []
        for i in range(5):
            with transaction(engine) as repo:
                f = form(f"Người Thứ W{worker}x{i}", f"19{40 + worker * 5 + i}-01-01")
                codes.append(_ident(registration(repo).register(f, confirmed_new=True).patient,
                                    systems.PATIENT_INTERNAL_ID))
        return codes

    with ThreadPoolExecutor(4) as pool:
        codes = [c for chunk in pool.map(work, range(4)) for c in chunk]
    assert sorted(codes) == [f"{n:08d}" for n in range(1, 21)]


def test_a_confirmed_new_person_still_stops_at_a_known_identifier(engine: Engine, register) -> None:  # type: ignore[no-untyped-def]
    """Confirming skips the name search the clerk has reviewed, never the CCCD check."""
    cccd = make_cccd("079", "male", 1985, 7)
    first = register(form(cccd=cccd)).patient
    again = register(form("Một Người Khác", "1990-01-01", cccd=cccd), confirmed_new=True)
    assert again.outcome == "existing" and again.patient["id"] == first["id"]
    assert count(engine, "Patient") == 1
    namesake = register(form(), confirmed_new=True)  # same name and birth date, no identifier
    assert namesake.outcome == "created" and namesake.events[0].detail == "confirmed new person"
    assert count(engine, "Patient") == 2
