"""Concluding an outpatient visit (kết thúc khám): outcome, advice, follow-up, close, sign — one transaction.

The caller's transaction holds everything: if signing fails (wrong password, a write refused) nothing of
the conclusion stays either.

* outcome → ``Encounter.hospitalization.dischargeDisposition`` (``urn:benhan:fhir:visit-outcome``:
  ``home`` = home with a prescription or advice, ``admit`` = admitted, ``transfer`` = transferred, with
  the HL7 discharge-disposition code where one fits and the destination in ``text``);
* advice (lời dặn) and the follow-up date → the Composition's Instructions section (LOINC 69730-0);
  the Composition is created when the exam produced none;
* follow-up date → an ``Appointment`` ``proposed`` (type FOLLOWUP, requested on that day) that reception
  books to a time slot; it is not part of the signed record, so it stays editable;
* the Encounter becomes ``finished`` with ``period.end``; then the record is signed (:mod:`.signing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository, has_signed_tag
from benhan.vn.systems import RECORD_FORM
from benhan.vn.systems import VISIT_OUTCOME as OUTCOME_SYSTEM

from .signing import Signer, SignError, _narrative, instant, record_of, sign_record

HL7_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
LOINC = "http://loinc.org"
INSTRUCTIONS = "69730-0"
OUTCOMES = {  # code: (Vietnamese display, HL7 discharge-disposition code or None)
    "home": ("Cấp đơn/cho về", "home"),
    "admit": ("Nhập viện điều trị nội trú", None),
    "transfer": ("Chuyển viện", "other-hcf"),
}
OPEN_STATUSES = ("planned", "arrived", "triaged", "in-progress", "onleave")


class ConclusionInvalid(Exception):
    """Field errors of the conclusion form: ``{field: (vi, en)}``."""

    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        super().__init__("; ".join(en for _vi, en in errors.values()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Conclusion:
    outcome: str
    advice: str = ""
    follow_up: date | None = None
    transfer_to: str = ""


def parse_form(form: dict[str, str], today: date) -> Conclusion:
    """The conclusion form, checked whole (raises :class:`ConclusionInvalid`)."""
    errors: dict[str, tuple[str, str]] = {}
    outcome = form.get("outcome", "").strip()
    if outcome not in OUTCOMES:
        errors["outcome"] = ("Hãy chọn kết quả khám", "Choose the outcome of the visit")
    follow_up: date | None = None
    raw = form.get("follow_up", "").strip()
    if raw:
        try:
            follow_up = date.fromisoformat(raw)
        except ValueError:
            errors["follow_up"] = ("Ngày hẹn không hợp lệ", "Invalid follow-up date")
        else:
            if follow_up <= today:
                errors["follow_up"] = ("Ngày hẹn tái khám phải sau hôm nay",
                                       "The follow-up date must be after today")
    transfer_to = form.get("transfer_to", "").strip()
    if outcome == "transfer" and not transfer_to:
        errors["transfer_to"] = ("Hãy ghi nơi chuyển đến", "Write where the patient is transferred to")
    advice = form.get("advice", "").strip()
    if len(advice) > 4000:
        errors["advice"] = ("Lời dặn quá dài (tối đa 4000 ký tự)", "The advice is too long (4000 characters at most)")
    if errors:
        raise ConclusionInvalid(errors)
    return Conclusion(outcome, advice, follow_up, transfer_to)


def disposition(conclusion: Conclusion) -> dict[str, Any]:
    display, hl7 = OUTCOMES[conclusion.outcome]
    codings = [{"system": OUTCOME_SYSTEM, "code": conclusion.outcome, "display": display}]
    if hl7:
        codings.append({"system": HL7_DISPOSITION, "code": hl7})
    text = display + (f": {conclusion.transfer_to}" if conclusion.transfer_to else "")
    return {"coding": codings, "text": text}


def instructions_text(conclusion: Conclusion) -> str:
    lines = [conclusion.advice] if conclusion.advice else []
    if conclusion.follow_up:
        lines.append(f"Hẹn tái khám ngày {conclusion.follow_up:%d/%m/%Y}")
    return "\n".join(lines)


def conclude_and_sign(repo: Repository, encounter_id: str, conclusion: Conclusion, signer: Signer,
                      now: datetime) -> dict[str, Any]:
    """Close the visit with its outcome and sign the record; returns the Provenance."""
    encounter_stored = repo.read("Encounter", encounter_id)
    encounter = encounter_stored.resource()
    if has_signed_tag(encounter) or encounter.get("status") not in OPEN_STATUSES:
        raise FhirError.one(409, "conflict", "Lượt khám đã kết thúc hoặc đã ký",
                            "The visit is already closed or signed")
    _write_instructions(repo, encounter, encounter_id, conclusion, signer, now)
    if conclusion.follow_up:
        _propose_follow_up(repo, encounter, encounter_id, conclusion.follow_up, signer)
    encounter["status"] = "finished"
    encounter["period"] = {**(encounter.get("period") or {}), "end": instant(now)}
    encounter["hospitalization"] = {**(encounter.get("hospitalization") or {}),
                                    "dischargeDisposition": disposition(conclusion)}
    if not any(_is_attender(p) for p in encounter.get("participant") or []):
        encounter.setdefault("participant", []).append({
            "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                  "code": "ATND"}]}],
            "individual": {"reference": signer.practitioner, "display": signer.display}})
    repo.update("Encounter", encounter_id, encounter, if_match=encounter_stored.etag)
    return sign_record(repo, encounter_id, signer, now)


def _is_attender(participant: dict[str, Any]) -> bool:
    return any(c.get("code") == "ATND" for t in participant.get("type") or [] for c in t.get("coding") or [])


def _write_instructions(repo: Repository, encounter: dict[str, Any], encounter_id: str, conclusion: Conclusion,
                        signer: Signer, now: datetime) -> None:
    compositions = [s for s in record_of(repo, encounter_id) if s.type == "Composition"]
    text = instructions_text(conclusion)
    section = {"title": "Lời dặn", "code": {"coding": [{"system": LOINC, "code": INSTRUCTIONS,
                                                          "display": "Instructions"}]}}
    if text:
        section["text"] = _narrative(text)
    else:
        section["emptyReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                              "code": "nilknown"}]}
    if compositions:
        stored = compositions[0]
        composition = stored.resource()
        sections = [s for s in composition.get("section") or []
                    if not any(c.get("code") == INSTRUCTIONS for c in (s.get("code") or {}).get("coding") or [])]
        composition["section"] = [*sections, section]
        repo.update("Composition", stored.id, composition, if_match=stored.etag)
        return
    if not text:
        section.pop("emptyReason")
        section["text"] = _narrative("Không có lời dặn thêm")
    repo.create({
        "resourceType": "Composition", "status": "preliminary",
        "type": {"coding": [{"system": LOINC, "code": "34108-1", "display": "Outpatient Note"}]},
        "category": [{"coding": [{"system": RECORD_FORM, "code": "15/BV1"}]}],
        "subject": encounter.get("subject"), "encounter": {"reference": f"Encounter/{encounter_id}"},
        "date": instant(now), "author": [{"reference": signer.practitioner, "display": signer.display}],
        "title": "Bệnh án ngoại trú", "section": [section]})


def _propose_follow_up(repo: Repository, encounter: dict[str, Any], encounter_id: str, day: date,
                       signer: Signer) -> None:
    appointment = {
        "resourceType": "Appointment", "status": "proposed",
        "appointmentType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276",
                                        "code": "FOLLOWUP", "display": "Follow-up visit"}]},
        "description": "Tái khám", "requestedPeriod": [{"start": day.isoformat(), "end": day.isoformat()}],
        "supportingInformation": [{"reference": f"Encounter/{encounter_id}"}],
        "participant": [
            {"actor": encounter.get("subject"), "required": "required", "status": "needs-action"},
            {"actor": {"reference": signer.practitioner, "display": signer.display}, "status": "accepted"}],
    }
    repo.create(appointment)  # doctors book follow-ups (policy.toml: Appointment "crus")


__all__ = ["Conclusion", "ConclusionInvalid", "SignError", "conclude_and_sign", "parse_form"]
