"""Patient registration (tiếp đón, đăng ký người bệnh): the one service the UI, the API and imports use.

``register`` looks for duplicates first and writes nothing when it finds one:

1. **hard duplicate** — the CCCD or the BHXH number is already on a record → outcome ``existing``
   with that record (the surviving one if it was merged);
2. **probable duplicate** — a candidate scores ≥ :data:`~benhan.clinical.mpi.scoring.POSSIBLE` →
   outcome ``review`` with the scored candidates and their reasons, until the clerk confirms a new
   person (``confirmed_new=True``: then only step 1 runs again, the clerk has seen the candidates) or
   picks a record;
3. otherwise the facility's patient code is issued, and Patient + BHYT Coverage are written through
   the Repository in the caller's transaction (``with engine.begin()``): a refused Coverage rolls
   the Patient and the code back with it.

Every outcome carries :class:`Event` values for the audit trail (no personal data in them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benhan.fhir.clock import local_date
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.terminology.admin_units import check_address
from benhan.vn import systems

from .mpi.candidates import identifier_matches, name_candidates, surviving
from .mpi.scoring import POSSIBLE, Match, PersonKey, score
from .patient_code import PatientCodeAllocator
from .patient_form import (
    PatientForm,
    check_form,
    patient_code_identifier,
    to_coverage,
    to_patient,
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something the audit trail should record: an action and the resources it touched."""

    action: str  # registration.create | registration.update | registration.duplicate-found | mpi.merge | ...
    entities: tuple[str, ...]  # "Patient/123", "Coverage/456"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "entities": list(self.entities), "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record that may be the same person, with why."""

    patient: dict[str, Any]
    match: Match
    hard: bool = False  # same CCCD or BHXH number
    via: tuple[str, ...] = ()  # merged-away records the match was found through

    def to_dict(self) -> dict[str, Any]:
        return {"patient": self.patient, "hard": self.hard, "via": [f"Patient/{i}" for i in self.via],
                **self.match.to_dict()}


@dataclass(slots=True)
class RegistrationResult:
    outcome: str  # created | updated | existing | review
    patient: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None
    candidates: list[Candidate] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "patient": self.patient, "coverage": self.coverage,
                "candidates": [c.to_dict() for c in self.candidates], "events": [e.to_dict() for e in self.events]}


_HARD = Match(100, ())


class Registration:
    """Registration for one facility on one Repository (the request's, with its security context)."""

    def __init__(self, repo: Repository, *, facility_code: str, codes: PatientCodeAllocator | None = None,
                 per_query: int = 50) -> None:
        self.repo = repo
        self.codes = codes or PatientCodeAllocator(facility_code)
        self.facility_code = self.codes.facility_code
        self.per_query = per_query

    # ------------------------------------------------------------------ duplicates

    def find_duplicates(self, form: PatientForm, *, exclude: str | None = None,
                        threshold: int = POSSIBLE) -> list[Candidate]:
        """Hard duplicates first, then scored candidates ≥ ``threshold``, best first."""
        check_form(form)
        patient = to_patient(form)
        key = PersonKey.from_patient(patient)
        card = form.card()
        hard = self._hard(key.national_id, card, exclude)
        if hard:
            return hard
        scored: dict[str, Candidate] = {}
        for found in name_candidates(self.repo, key, per_query=self.per_query):
            hit = surviving(self.repo, found)
            if exclude in (hit.patient["id"], found["id"]):
                continue
            match = score(key, PersonKey.from_patient(found))
            best = scored.get(hit.patient["id"])
            if match.score >= threshold and (best is None or match.score > best.match.score):
                scored[hit.patient["id"]] = Candidate(hit.patient, match, False, hit.via)
        return sorted(scored.values(), key=lambda c: -c.match.score)

    def hard_duplicates(self, form: PatientForm) -> list[Candidate]:
        """Only the records already holding the form's CCCD or BHXH number (no name search)."""
        check_form(form)
        return self._hard(PersonKey.from_patient(to_patient(form)).national_id, form.card(), None)

    def _hard(self, national_id: str | None, card: Any, exclude: str | None) -> list[Candidate]:
        values = [card.value, card.social_insurance_number] if card is not None else []
        out: dict[str, Candidate] = {}
        for found in identifier_matches(self.repo, national_id=national_id, card_values=values):
            hit = surviving(self.repo, found)
            if exclude in (hit.patient["id"], found["id"]):
                continue
            out.setdefault(hit.patient["id"], Candidate(hit.patient, _HARD, True, hit.via))
        return list(out.values())

    # ------------------------------------------------------------------ writes

    def register(self, form: PatientForm, *, confirmed_new: bool = False) -> RegistrationResult:
        """Create the patient unless a duplicate is found (see the module doc)."""
        self.check_address(form)
        # A clerk who confirmed a new person has seen the probable duplicates (find_duplicates, the form's
        # check): only an identifier already on a record still stops the registration. The name search is
        # the costliest part of a registration and ran a second time here.
        candidates = self.hard_duplicates(form) if confirmed_new else self.find_duplicates(form)
        if candidates and candidates[0].hard:
            ids = tuple(f"Patient/{c.patient['id']}" for c in candidates)
            return RegistrationResult("existing", candidates[0].patient, None, candidates,
                                      [Event("registration.duplicate-found", ids, "identifier")])
        if candidates and not confirmed_new:
            ids = tuple(f"Patient/{c.patient['id']}" for c in candidates)
            return RegistrationResult("review", None, None, candidates,
                                      [Event("registration.duplicate-found", ids, "probabilistic")])
        patient = to_patient(form)
        code = self.codes.next_code(self.repo)
        patient["identifier"] = [patient_code_identifier(code, self.facility_code), *patient.get("identifier", [])]
        stored = self.repo.create(patient).stored
        assert stored is not None
        written = stored.resource()
        events = [Event("registration.create", (f"Patient/{written['id']}",),
                        "confirmed new person" if confirmed_new else "")]
        coverage = self._write_coverage(form, written["id"], events, new_patient=True)
        return RegistrationResult("created", written, coverage, candidates, events)

    def update(self, patient_id: str, form: PatientForm) -> RegistrationResult:
        """Replace the registration data of ``patient_id``; keeps its codes, links and other identifiers.

        Refused (409) when the CCCD or BHXH number belongs to another record.
        """
        current = self.repo.read("Patient", patient_id).resource()
        check_form(form)
        self.check_address(form)
        patient = to_patient(form)
        if self._hard(PersonKey.from_patient(patient).national_id, form.card(), patient_id):
            raise FhirError.one(409, "duplicate",
                                "Số CCCD hoặc mã số BHXH đã thuộc hồ sơ khác: hãy gộp hồ sơ thay vì sửa",
                                "The CCCD or BHXH number belongs to another record: merge the records instead")
        patient["id"] = patient_id
        replaced = {i["system"] for i in patient.get("identifier", [])}
        kept = [i for i in current.get("identifier", []) if i.get("system") not in replaced]
        patient["identifier"] = kept + patient.get("identifier", [])
        for key in ("link", "photo", "generalPractitioner", "managingOrganization", "communication"):
            if key in current:
                patient[key] = current[key]
        patient["active"] = current.get("active", True)
        stored = self.repo.update("Patient", patient_id, patient).stored
        assert stored is not None
        events = [Event("registration.update", (f"Patient/{patient_id}",))]
        coverage = self._write_coverage(form, patient_id, events)
        return RegistrationResult("updated", stored.resource(), coverage, [], events)

    def check_address(self, form: PatientForm) -> None:
        """422 when a coded province or commune is not in the list valid today, or the commune is in another
        province (codes of the 2025 list; an old address with a district is kept as text and not coded)."""
        address = form.address
        if address is None:
            return
        issues = check_address(self.repo.conn, province=address.province.code if address.province else None,
                               commune=address.commune.code if address.commune else None,
                               on=local_date(self.repo.clock()))
        if issues:
            raise FhirError(422, issues)

    def _write_coverage(self, form: PatientForm, patient_id: str, events: list[Event], *,
                        new_patient: bool = False) -> dict[str, Any] | None:
        """Create the card's Coverage, or update the patient's Coverage for the same card number.

        A patient created in this transaction has no Coverage yet, so the search is skipped: registration
        holds the patient-code lock until commit, and every statement saved shortens the queue behind it.
        """
        card = form.card()
        if card is None or form.bhyt is None:
            return None
        coverage = to_coverage(form.bhyt, card, f"Patient/{patient_id}")
        existing = None if new_patient else self._existing_coverage(patient_id, card.value)
        if existing is None:
            stored = self.repo.create(coverage).stored
        else:
            stored = self.repo.update("Coverage", existing, {**coverage, "id": existing}).stored
        assert stored is not None
        events.append(Event("registration.coverage", (f"Coverage/{stored.id}", f"Patient/{patient_id}")))
        return stored.resource()

    def _existing_coverage(self, patient_id: str, card_value: str) -> str | None:
        ids = self.repo.find("Coverage", f"beneficiary=Patient/{patient_id}"
                                         f"&identifier={systems.INSURANCE_NUMBER}|{card_value}")
        return ids[0] if ids else None
