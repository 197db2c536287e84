"""Diagnoses of a visit: main (bệnh chính) and secondary (bệnh kèm theo) ICD-10 codes.

Each code is a ``Condition`` (category ``encounter-diagnosis``, ``encounter`` = the visit) and
``Encounter.diagnosis`` lists them with ``rank`` 1 for the main diagnosis, 2+ for the secondary ones, in
the order typed. Saving replaces the set: a Condition whose code is kept is kept (same id); one that is no
longer listed is marked ``entered-in-error``. The ICD-10 rules of :mod:`benhan.terminology.diagnosis`
(code in the list valid today, codes that may not be the main diagnosis, sex-specific codes) are checked
for every field before writing, and the repository applies them again on write; both reach the form as
field errors. The note's diagnosis section (:mod:`.exam_note`) is rewritten to match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.terminology import concepts, systems
from benhan.terminology.diagnosis import check_diagnosis

from . import exam_note
from .exam import FormInvalid, Message, VisitContext, coding_code, written

CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
DIAGNOSIS_ROLE = "http://terminology.hl7.org/CodeSystem/diagnosis-role"
ROLE_MAIN = {"system": DIAGNOSIS_ROLE, "code": "DD", "display": "Discharge diagnosis"}  # as the demo data
ROLE_SECONDARY = {"system": DIAGNOSIS_ROLE, "code": "CM", "display": "Comorbidity diagnosis"}
MAX_SECONDARY = 12
_EXPR = re.compile(r"Encounter\.diagnosis\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Diagnosis:
    rank: int
    code: str
    display: str
    condition_id: str

    @property
    def main(self) -> bool:
        return self.rank == 1


def field_name(index: int) -> str:
    """Form field of the ``index``-th code typed (0 = the main diagnosis)."""
    return "main_code" if index == 0 else f"secondary_code_{index}"


def normalize(code: str | None) -> str:
    """``j 18.9`` → ``J18.9``; a missing dot after three characters is added (``J189`` → ``J18.9``)."""
    text = re.sub(r"\s+", "", (code or "")).upper()
    if len(text) > 3 and "." not in text and text[:3].isalnum():
        text = f"{text[:3]}.{text[3:]}"
    return text


def current(repo: Repository, encounter: dict[str, Any]) -> list[Diagnosis]:
    """The visit's diagnoses by rank, read from ``Encounter.diagnosis`` and its Conditions."""
    out: list[Diagnosis] = []
    for n, entry in enumerate(sorted(encounter.get("diagnosis") or [], key=lambda d: d.get("rank") or 99)):
        ref = (entry.get("condition") or {}).get("reference", "")
        if not ref.startswith("Condition/"):
            continue
        cid = ref.split("/", 1)[1]
        stored = repo.current("Condition", cid)
        if stored is None or stored.deleted:
            continue
        condition = repo.read("Condition", cid).resource()
        code = coding_code(condition.get("code"), systems.ICD10) or ""
        display = next((c.get("display") for c in condition["code"].get("coding") or []
                        if c.get("system") == systems.ICD10), None) or (condition.get("code") or {}).get("text") or ""
        out.append(Diagnosis(entry.get("rank") or n + 1, code, display, cid))
    return out


def _condition(ctx: VisitContext, code: str, display: str, version: str) -> dict[str, Any]:
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "encounter-diagnosis"}]}],
        "code": {"coding": [{"system": systems.ICD10, "version": version, "code": code, "display": display}],
                 "text": display},
        "subject": ctx.patient_ref, "encounter": ctx.encounter_ref, "recordedDate": ctx.timestamp,
    }
    if ctx.author_ref:
        condition["asserter"] = ctx.author_ref
    return condition


def check(repo: Repository, ctx: VisitContext, codes: list[str]) -> dict[str, tuple[str, str, str]]:
    """``field -> (code, display, version)`` for the typed codes, or :class:`FormInvalid` naming each bad field."""
    errors: dict[str, Message] = {}
    found: dict[str, tuple[str, str, str]] = {}
    seen: dict[str, str] = {}
    day = ctx.when.date()
    choice = concepts.choose(concepts.versions(repo.conn, url=systems.ICD10), on=day)
    for n, code in enumerate(codes):
        if not code:
            continue
        name = field_name(n)
        if code in seen:
            errors[name] = Message(f"Mã {code} đã nhập ở trên", f"Code {code} is already listed")
            continue
        seen[code] = name
        issues = [i for i in check_diagnosis(repo.conn, code, main=n == 0, patient_gender=ctx.patient_gender,
                                             patient_birth_date=ctx.patient_birth_date, encounter_end_date=None,
                                             today=day) if i.severity == "error"]
        if issues:
            errors[name] = Message("; ".join(i.vi for i in issues), "; ".join(i.en for i in issues))
        elif choice is not None:
            row = concepts.concept(repo.conn, choice.version, code)
            found[name] = (code, row.display if row else code, choice.version.version)
    if codes and not codes[0] and any(codes[1:]):
        errors["main_code"] = Message("Cần nhập chẩn đoán chính trước", "Enter the main diagnosis first")
    if choice is None:
        errors["main_code"] = Message("Chưa nạp danh mục ICD-10", "No ICD-10 list is loaded")
    if errors:
        raise FormInvalid(errors)
    return found


def save(repo: Repository, ctx: VisitContext, main: str | None, secondary: list[str]) -> list[Diagnosis]:
    """Replace the visit's diagnoses with ``main`` + ``secondary`` (ICD-10 codes as typed)."""
    codes = [normalize(main)] + [normalize(c) for c in secondary[:MAX_SECONDARY]]
    while len(codes) > 1 and not codes[-1]:
        codes.pop()
    if len(codes) == 1 and not codes[0]:
        codes = []
    found = check(repo, ctx, codes)
    encounter = repo.read("Encounter", ctx.encounter_id).resource()
    previous = {d.code: d for d in current(repo, encounter)}
    kept: list[Diagnosis] = []
    try:
        for n, code in enumerate(codes):
            if not code:
                continue
            name = field_name(n)
            _, display, version = found[name]
            old = previous.pop(code, None)
            if old is not None:
                cid = old.condition_id
            else:
                try:
                    cid = written(repo.create(_condition(ctx, code, display, version)))["id"]
                except FhirError as exc:
                    if exc.status != 422:
                        raise
                    raise FormInvalid({name: Message("; ".join(i.vi for i in exc.issues),
                                                     "; ".join(i.en for i in exc.issues))}, exc) from exc
            kept.append(Diagnosis(len(kept) + 1, code, display, cid))
        for gone in previous.values():
            _retract(repo, gone.condition_id)
        body = dict(encounter)
        entries = [{"condition": {"reference": f"Condition/{d.condition_id}"},
                    "use": {"coding": [ROLE_MAIN if d.main else ROLE_SECONDARY]},
                    "rank": d.rank} for d in kept]
        if entries:
            body["diagnosis"] = entries
        else:
            body.pop("diagnosis", None)
        repo.update("Encounter", ctx.encounter_id, body)
    except FhirError as exc:
        if exc.status == 422:
            raise FormInvalid(_field_errors(exc, codes), exc) from exc
        raise
    exam_note.set_diagnoses(repo, ctx, [f"{'Bệnh chính' if d.main else 'Bệnh kèm theo'}: {d.code} - {d.display}"
                                        for d in kept], [d.condition_id for d in kept])
    return kept


def _retract(repo: Repository, cid: str) -> None:
    condition = dict(repo.read("Condition", cid).resource())
    condition.pop("clinicalStatus", None)  # con-5: no clinical status on an entered-in-error Condition
    condition["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": "entered-in-error"}]}
    repo.update("Condition", cid, condition)


def _field_errors(exc: FhirError, codes: list[str]) -> dict[str, Message]:
    """The repository's ICD-10 issues on the form's fields (``Encounter.diagnosis[n]`` is the n-th listed)."""
    listed = [n for n, c in enumerate(codes) if c]
    errors: dict[str, Message] = {}
    for issue in exc.issues:
        m = _EXPR.fullmatch(issue.expression or "")
        index = listed[int(m.group(1))] if m and int(m.group(1)) < len(listed) else 0
        name = field_name(index)
        if name in errors:
            errors[name] = Message(f"{errors[name].vi}; {issue.vi}", f"{errors[name].en}; {issue.en}")
        else:
            errors[name] = Message(issue.vi, issue.en)
    return errors
