"""The patient's allergies (dị ứng): ``AllergyIntolerance`` at patient level, recorded during a visit.

Substance as typed (``code.text``), coded when a code is given (``code.coding``, e.g. from a drug list),
category (medication, food, environment, biologic), criticality (low / high / unable-to-assess) and the
reaction seen (manifestation text, severity). Known allergies are listed for every visit of the patient.
"""

from __future__ import annotations

from typing import Any

from benhan.fhir.repository import Repository

from .exam import FormInvalid, Message, VisitContext, clean_text, coding_code, search_all, written

CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CATEGORIES = ("medication", "food", "environment", "biologic")
CRITICALITIES = ("low", "high", "unable-to-assess")
SEVERITIES = ("mild", "moderate", "severe")
FIELDS = ("substance", "substance_system", "substance_code", "category", "criticality", "reaction", "severity")


def record(repo: Repository, ctx: VisitContext, form: dict[str, str]) -> dict[str, Any]:
    """Check the form and write one AllergyIntolerance; returns it as stored."""
    substance = clean_text(form.get("substance"), 500).replace("\n", " ")
    category = (form.get("category") or "").strip()
    criticality = (form.get("criticality") or "").strip()
    severity = (form.get("severity") or "").strip()
    reaction = clean_text(form.get("reaction"), 1000)
    system, code = (form.get("substance_system") or "").strip(), (form.get("substance_code") or "").strip()
    errors: dict[str, Message] = {}
    if not substance:
        errors["substance"] = Message("Cần nhập chất gây dị ứng", "Enter the substance")
    if category and category not in CATEGORIES:
        errors["category"] = Message("Loại không hợp lệ", "Invalid category")
    if criticality and criticality not in CRITICALITIES:
        errors["criticality"] = Message("Mức nguy hiểm không hợp lệ", "Invalid criticality")
    if severity and severity not in SEVERITIES:
        errors["severity"] = Message("Mức độ không hợp lệ", "Invalid severity")
    if severity and not reaction:
        errors["reaction"] = Message("Cần mô tả phản ứng", "Describe the reaction")
    if bool(system) != bool(code) or (system and ":" not in system):
        errors["substance"] = Message("Mã chất không hợp lệ", "Invalid substance code")
    if errors:
        raise FormInvalid(errors)
    resource: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "unconfirmed"}]},
        "type": "allergy",
        "code": {"text": substance},
        "patient": ctx.patient_ref, "encounter": ctx.encounter_ref, "recordedDate": ctx.timestamp,
    }
    if system:
        resource["code"]["coding"] = [{"system": system, "code": code, "display": substance}]
    if category:
        resource["category"] = [category]
    if criticality:
        resource["criticality"] = criticality
    if reaction:
        item: dict[str, Any] = {"manifestation": [{"text": reaction}]}
        if severity:
            item["severity"] = severity
        resource["reaction"] = [item]
    if ctx.author_ref:
        resource["recorder"] = ctx.author_ref
    return written(repo.create(resource))


def known(repo: Repository, patient_id: str) -> list[dict[str, Any]]:
    """The patient's allergies that are not entered in error or refuted, most critical first, then newest."""
    found = search_all(repo, "AllergyIntolerance", [("patient", f"Patient/{patient_id}")], 100)
    out = []
    for a in found:
        if coding_code(a.get("verificationStatus"), VERIFICATION) in ("entered-in-error", "refuted"):
            continue
        reactions = a.get("reaction") or []
        out.append({
            "id": a.get("id"), "substance": (a.get("code") or {}).get("text")
            or next((c.get("display") or c.get("code") for c in (a.get("code") or {}).get("coding") or []), ""),
            "category": ", ".join(a.get("category") or []), "criticality": a.get("criticality") or "",
            "status": coding_code(a.get("clinicalStatus"), CLINICAL) or "",
            "reaction": "; ".join(m.get("text") or "" for r in reactions for m in r.get("manifestation") or []),
            "severity": next((r.get("severity") for r in reactions if r.get("severity")), ""),
            "recorded": a.get("recordedDate") or "",
        })
    out.sort(key=lambda a: a["recorded"], reverse=True)
    out.sort(key=lambda a: a["criticality"] != "high")
    return out
