"""Concluding a visit: outcome, advice, follow-up, closing and signing in one transaction."""

from __future__ import annotations

from datetime import date

import pytest

from benhan.clinical import conclusion, signing
from benhan.demo.accounts import DEMO_PASSWORD
from benhan.fhir.errors import FhirError
from benhan.security import accounts
from tests.clinical.test_signing import NOW, current, hospital, make_visit, trusted  # noqa: F401

TODAY = date(2026, 11, 20)


def conclude(engine, visit, form: dict[str, str], password: str = DEMO_PASSWORD) -> dict:
    with trusted(engine) as repo:
        signer = signing.signer_for(repo, accounts.get_user(repo.conn, "bacsi"), password)
        return conclusion.conclude_and_sign(repo, visit.encounter_id, conclusion.parse_form(form, TODAY), signer,
                                            NOW)


def test_home_with_follow_up_closes_the_visit_and_signs_it(hospital):  # noqa: F811
    visit = make_visit(hospital)
    provenance = conclude(hospital, visit, {"outcome": "home", "advice": "Uống nhiều nước, tái khám nếu sốt cao",
                                            "follow_up": "2026-11-27"})
    encounter = current(hospital, "Encounter", visit.encounter_id)
    assert encounter["status"] == "finished" and encounter["period"]["end"] == "2026-11-20T03:30:00Z"
    codes = {c["code"] for c in encounter["hospitalization"]["dischargeDisposition"]["coding"]}
    assert codes == {"home"} and signing.has_signed_tag(encounter)
    composition = current(hospital, "Composition", visit.ids["Composition"])
    assert composition["status"] == "final"
    instructions = composition["section"][-1]
    assert instructions["code"]["coding"][0]["code"] == "69730-0"
    assert "Uống nhiều nước" in instructions["text"]["div"] and "27/11/2026" in instructions["text"]["div"]
    with trusted(hospital) as repo:
        (appointment_id,) = repo.find("Appointment", f"patient=Patient/{visit.patient_id}")
        appointment = repo.read("Appointment", appointment_id).resource()
        assert signing.verify_signature(repo, provenance).valid
    assert appointment["status"] == "proposed" and appointment["requestedPeriod"][0]["start"] == "2026-11-27"
    assert not signing.has_signed_tag(appointment)  # reception books it to a slot later


def test_transfer_keeps_the_destination(hospital):  # noqa: F811
    visit = make_visit(hospital)
    conclude(hospital, visit, {"outcome": "transfer", "transfer_to": "Bệnh viện Bạch Mai"})
    disposition = current(hospital, "Encounter", visit.encounter_id)["hospitalization"]["dischargeDisposition"]
    assert disposition["text"] == "Chuyển viện: Bệnh viện Bạch Mai"
    assert {c["code"] for c in disposition["coding"]} == {"transfer", "other-hcf"}


def test_the_form_is_checked_whole():
    with pytest.raises(conclusion.ConclusionInvalid) as err:
        conclusion.parse_form({"outcome": "transfer", "follow_up": "2026-11-19"}, TODAY)
    assert set(err.value.errors) == {"transfer_to", "follow_up"}
    with pytest.raises(conclusion.ConclusionInvalid) as err:
        conclusion.parse_form({"outcome": "somewhere", "follow_up": "27/11"}, TODAY)
    assert set(err.value.errors) == {"outcome", "follow_up"}


def test_a_wrong_password_concludes_nothing(hospital):  # noqa: F811
    visit = make_visit(hospital)
    with pytest.raises(signing.SignError):
        conclude(hospital, visit, {"outcome": "home"}, password="wrong")
    encounter = current(hospital, "Encounter", visit.encounter_id)
    assert encounter["status"] == "in-progress" and "hospitalization" not in encounter


def test_a_concluded_visit_cannot_be_concluded_again(hospital):  # noqa: F811
    visit = make_visit(hospital)
    conclude(hospital, visit, {"outcome": "home"})
    with pytest.raises(FhirError) as err:
        conclude(hospital, visit, {"outcome": "admit"})
    assert err.value.status == 409
