"""The access policy (security/policy.toml): how a role's grants combine, and what a nurse may write.

The nurse-vs-doctor rule lives in the policy, so it holds on the FHIR API as in the web app: nurses
record vital signs, allergies and nursing care; diagnoses, the record text, orders, prescriptions,
prescription-check overrides and signatures are the doctor's.
"""

from __future__ import annotations

import pytest

from benhan.security.policy import load_policy, parse_policy

from .conftest import encounter, observation, patient, put

POLICY = """
[groups]
care = ["Observation", "Condition"]
more = ["Observation", "Procedure"]

[roles.a]
name = "A"
grants = { care = "rs", more = "c", Condition = "r", Appointment = "crus" }

[roles.b]
name = "B"
grants = { care = "crus" }
"""


def test_groups_add_up_and_a_type_named_directly_gets_exactly_its_letters():
    rules = parse_policy(POLICY).rules_for(["a"])
    assert rules["Observation"].interactions == frozenset("crs")  # two groups: union
    assert rules["Procedure"].interactions == frozenset("c")
    assert rules["Condition"].interactions == frozenset("r")  # narrowed below its group's "rs"
    assert rules["Appointment"].interactions == frozenset("crus")  # widened: no group names it
    assert parse_policy(POLICY).rules_for(["a", "b"])["Condition"].interactions == frozenset("crus")  # roles: union


def test_a_grant_naming_an_unknown_type_or_letter_is_refused():
    with pytest.raises(ValueError, match="neither a group nor a resource type"):
        parse_policy('[roles.x]\nname = "X"\ngrants = { Conditon = "r" }')
    with pytest.raises(ValueError, match="unknown interactions"):
        parse_policy('[roles.x]\nname = "X"\ngrants = { Condition = "rw" }')


DOCTORS_ACTS = ("Condition", "Composition", "ClinicalImpression", "ServiceRequest", "MedicationRequest",
                "DetectedIssue", "Provenance", "NutritionOrder", "DeviceRequest")


def test_the_shipped_policy_keeps_the_doctors_acts_read_only_for_nurses():
    policy = load_policy()
    nurse = policy.rules_for(["nurse"])
    for rtype in DOCTORS_ACTS:
        assert nurse[rtype].interactions == frozenset("rs"), rtype
    for rtype in ("Observation", "AllergyIntolerance", "MedicationAdministration", "CarePlan", "Procedure"):
        assert {"c", "u"} <= nurse[rtype].interactions, rtype
    for role in ("doctor", "head-of-department"):
        rules = policy.rules_for([role])
        assert all({"c", "u"} <= rules[t].interactions for t in DOCTORS_ACTS), role
    # a nurse who is also a doctor (two roles) writes what the doctor writes
    assert "c" in policy.rules_for(["nurse", "doctor"])["Condition"].interactions


def _condition(pid: str) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "Condition", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J18.9"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                      "code": "encounter-diagnosis"}]}]}


def _composition(pid: str) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "Composition", "status": "preliminary", "type": {"text": "Phiếu khám"},
            "subject": {"reference": f"Patient/{pid}"}, "date": "2026-03-01", "author": [{"display": "Hoa"}],
            "title": "Bệnh án ngoại trú"}


def _medication_request(pid: str) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
            "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": {"text": "Paracetamol 500mg"}}


def _allergy(pid: str) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "AllergyIntolerance", "patient": {"reference": f"Patient/{pid}"},
            "code": {"text": "Penicillin"}}


def test_a_nurse_may_not_write_diagnoses_record_text_or_prescriptions_on_the_fhir_api(secure):
    put(secure.admin, {"resourceType": "Organization", "id": "khoa-kham", "name": "Khoa Khám bệnh"})
    put(secure.admin, patient("p1"))
    put(secure.admin, encounter("e1", "p1", "khoa-kham"))
    nurse = secure.as_user("dd.hoa", ["nurse"], departments=["khoa-kham"])
    doctor = secure.as_user("bs.an", ["doctor"], departments=["khoa-kham"])
    for body in (_condition("p1"), _composition("p1"), _medication_request("p1")):
        resp = nurse.post(body["resourceType"], body)
        assert resp.status_code == 403, resp.text
        outcome = resp.json()
        assert outcome["resourceType"] == "OperationOutcome" and " / " in outcome["issue"][0]["details"]["text"]
        assert doctor.post(body["resourceType"], body).status_code == 201, body["resourceType"]
    # nor inside a transaction: nothing of it is written
    vitals = {k: v for k, v in observation("o1", "p1").items() if k != "id"}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Observation"}, "resource": vitals},
        {"request": {"method": "POST", "url": "Condition"}, "resource": _condition("p1")}]}
    assert nurse.post("", bundle).status_code == 403
    assert len(secure.admin.get("Condition").json().get("entry", [])) == 1  # the doctor's only
    assert secure.admin.get("Observation").json().get("entry") is None
    # what nurses record
    assert nurse.post("Observation", vitals).status_code == 201
    assert nurse.post("AllergyIntolerance", _allergy("p1")).status_code == 201
    assert nurse.get("Condition").status_code == 200  # and they read the rest


# The screens each demo role had when the web app chose them by role name (before policy [screens]):
# the policy must give exactly these, and the start page is the first of reception, exam, patients.
SCREENS_BEFORE = {
    "reception": ({"reception", "queue-display", "patients"}, "/reception"),
    "doctor": ({"exam", "queue-display", "patients"}, "/exam"),
    "nurse": ({"exam", "queue-display", "patients"}, "/exam"),
    "head-of-department": ({"exam", "queue-display", "patients"}, "/exam"),
    "technician": ({"patients"}, "/patients"),
    "pharmacist": ({"patients"}, "/patients"),
    "cashier": ({"patients"}, "/patients"),
    "admin": (set(), "/auth/account"),
    "auditor": (set(), "/auth/account"),
    "patient": (set(), "/auth/account"),
}


def _access(*roles: str):  # type: ignore[no-untyped-def]
    from benhan.security.access import Access
    from benhan.security.principal import Principal
    from benhan.security.scopes import parse_scopes

    return Access(Principal("user", parse_scopes("user/*.cruds"), username="u", roles=roles, patient_id="p1"))


@pytest.mark.parametrize("role", sorted(SCREENS_BEFORE))
def test_screens_come_from_the_policy(role):
    from benhan.web.permissions import may_open
    from benhan.web.routes import home_for

    access = _access(role)
    screens, home = SCREENS_BEFORE[role]
    assert {name for name in load_policy().screens if may_open(access, name)} == screens
    assert home_for(access) == home


def test_screens_of_combined_roles_and_of_a_changed_policy():
    from benhan.security.access import Access
    from benhan.security.principal import Principal
    from benhan.security.scopes import parse_scopes
    from benhan.web.permissions import may_open
    from benhan.web.routes import home_for

    assert home_for(_access("doctor", "reception")) == "/reception"  # the first screen wins, as before
    assert home_for(_access("technician", "nurse")) == "/exam"
    narrow = Access(Principal("user", parse_scopes("user/Patient.rs"), username="u", roles=("doctor",)))
    assert not may_open(narrow, "exam") and may_open(narrow, "patients")  # the session's scopes count too
    assert not may_open(_access("doctor"), "no-such-screen")
    from importlib.resources import files

    changed = (files("benhan.security").joinpath("policy.toml").read_text("utf-8")
               .replace('[screens.patients]         # tra cứu người bệnh, bệnh án\nneeds = { Patient = "rs" }',
                        '[screens.patients]\nneeds = { Patient = "rs", ChargeItem = "c" }'))
    policy = parse_policy(changed)
    cashier = Access(Principal("user", parse_scopes("user/*.cruds"), username="u", roles=("cashier",)), policy)
    doctor = Access(Principal("user", parse_scopes("user/*.cruds"), username="u", roles=("doctor",)), policy)
    assert may_open(cashier, "patients") and not may_open(doctor, "patients")  # the file decides, not role names


def test_bad_screens_are_refused():
    for bad in ('[screens.x]\nneeds = { Conditon = "r" }', '[screens.x]\nneeds = { Condition = "w" }',
                "[screens.x]\nneeds = {}", '[screens.x]\nneeds = { Patient = "r" }\npatients = ["all"]'):
        with pytest.raises(ValueError, match="screen"):
            parse_policy(bad)
