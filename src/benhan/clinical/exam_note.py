"""The exam record text of an outpatient visit (bệnh án ngoại trú 15/BV1) as ONE ``Composition`` per visit.

Type LOINC 34108-1 (Outpatient note), category ``urn:benhan:fhir:record-form`` ``15/BV1``, status
``preliminary`` until the record is signed. Sections by LOINC (docs/clinician-app.md): reason for the
visit 29299-5, history of present illness 10164-2, past history 11348-0, physical exam 29545-1 (with the
general exam and the organ systems as two sub-sections), diagnosis 29548-5 (the coded diagnoses,
written by :mod:`.diagnoses`), plan 18776-5. The typed text is kept line by line in the section narrative
(one ``<p>`` per line), so it reads back exactly as it was typed. Saving again updates the same
Composition (a new version).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.vn.systems import RECORD_FORM

from .exam import LOINC, FormInvalid, Message, VisitContext, clean_text, coding_code, search_all, written

NOTE_TYPE = "34108-1"
FORM_CODE = "15/BV1"
XHTML = "http://www.w3.org/1999/xhtml"
MAX_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Section:
    field: str  # form field name
    code: str | None  # LOINC
    display: str
    title: str  # Vietnamese title (Composition.section.title)
    parent: str | None = None  # code of the enclosing section


REASON, HISTORY, PAST, EXAM, DIAGNOSIS, PLAN = "29299-5", "10164-2", "11348-0", "29545-1", "29548-5", "18776-5"
GENERAL_EXAM = "10210-3"
SECTIONS = (
    Section("reason", REASON, "Reason for visit Narrative", "Lý do khám"),
    Section("history", HISTORY, "History of Present illness Narrative", "Quá trình bệnh lý"),
    Section("past_history", PAST, "History of Past illness Narrative", "Tiền sử"),
    Section("exam_general", GENERAL_EXAM, "Physical findings of General status Narrative", "Toàn thân", EXAM),
    Section("exam_organs", None, "Organ systems", "Các cơ quan", EXAM),
    Section("plan", PLAN, "Plan of care note", "Hướng điều trị"),
)
FIELDS = tuple(s.field for s in SECTIONS)
_TOP = {REASON: ("Reason for visit Narrative", "Lý do khám"),
        HISTORY: ("History of Present illness Narrative", "Quá trình bệnh lý"),
        PAST: ("History of Past illness Narrative", "Tiền sử"),
        EXAM: ("Physical findings Narrative", "Khám bệnh"),
        DIAGNOSIS: ("Diagnosis Narrative", "Chẩn đoán"),
        PLAN: ("Plan of care note", "Hướng điều trị")}
ORDER = (REASON, HISTORY, PAST, EXAM, DIAGNOSIS, PLAN)


def narrative(text: str) -> dict[str, str]:
    lines = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in text.split("\n"))
    return {"status": "additional", "div": f'<div xmlns="{XHTML}">{lines}</div>'}


_P = re.compile(r"<p>(.*?)</p>", re.S)


def narrative_text(section: dict[str, Any] | None) -> str:
    div = ((section or {}).get("text") or {}).get("div") or ""
    return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", p)) for p in _P.findall(div))


def find(repo: Repository, encounter_id: str) -> dict[str, Any] | None:
    """The visit's exam note (the newest, if somehow there are several)."""
    found = search_all(repo, "Composition", [("encounter", f"Encounter/{encounter_id}"),
                                             ("type", f"{LOINC}|{NOTE_TYPE}")], 10)
    found = [c for c in found if c.get("status") != "entered-in-error"]
    return max(found, key=lambda c: (c.get("meta") or {}).get("lastUpdated", ""), default=None)


def _section_code(section: dict[str, Any]) -> str | None:
    return coding_code(section.get("code"), LOINC)


def texts(note: dict[str, Any] | None) -> dict[str, str]:
    """The form fields as stored in ``note`` (empty strings for missing sections)."""
    out = dict.fromkeys(FIELDS, "")
    for top in (note or {}).get("section") or []:
        code = _section_code(top)
        for spec in SECTIONS:
            if spec.parent is None and spec.code == code:
                out[spec.field] = narrative_text(top)
            elif spec.parent is not None and spec.parent == code:
                sub = next((s for s in top.get("section") or [] if s.get("title") == spec.title), None)
                out[spec.field] = narrative_text(sub)
    return out


def _top(code: str) -> dict[str, Any]:
    display, title = _TOP[code]
    return {"title": title, "code": {"coding": [{"system": LOINC, "code": code, "display": display}]}}


def _new_note(ctx: VisitContext) -> dict[str, Any]:
    note: dict[str, Any] = {
        "resourceType": "Composition", "status": "preliminary",
        "type": {"coding": [{"system": LOINC, "code": NOTE_TYPE, "display": "Outpatient Note"}],
                 "text": "Bệnh án ngoại trú"},
        "category": [{"coding": [{"system": RECORD_FORM, "code": FORM_CODE}], "text": "Bệnh án ngoại trú chung"}],
        "subject": ctx.patient_ref, "encounter": ctx.encounter_ref, "date": ctx.timestamp,
        "title": "Bệnh án ngoại trú", "author": [ctx.author_ref or {"display": "Không rõ"}],
    }
    return note


def _check_editable(note: dict[str, Any] | None) -> None:
    if note is not None and note.get("status") != "preliminary":
        raise FhirError.one(409, "conflict", "Bệnh án đã ký, không sửa được (hãy ghi bổ sung)",
                            "The record is signed and cannot be changed (write an addendum)")


def _assemble(sections: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [sections[code] for code in ORDER if code in sections]


def save(repo: Repository, ctx: VisitContext, form: dict[str, str]) -> dict[str, Any]:
    """Write the typed sections into the visit's note (created on first save); returns the stored note."""
    values = {f: clean_text(form.get(f), MAX_CHARS + 1) for f in FIELDS}
    errors = {f: Message(f"Quá dài (tối đa {MAX_CHARS} ký tự)", f"Too long (at most {MAX_CHARS} characters)")
              for f, v in values.items() if len(v) > MAX_CHARS}
    if errors:
        raise FormInvalid(errors)
    note = find(repo, ctx.encounter_id)
    _check_editable(note)
    if note is None and not any(values.values()):
        raise FormInvalid({"reason": Message("Chưa nhập nội dung nào", "Nothing was entered")})
    kept = {_section_code(s): s for s in (note or {}).get("section") or [] if _section_code(s) == DIAGNOSIS}
    sections: dict[str, dict[str, Any]] = dict(kept)  # type: ignore[arg-type]
    for spec in SECTIONS:
        text = values[spec.field]
        if not text:
            continue
        if spec.parent is None:
            sections[spec.code or ""] = {**_top(spec.code or ""), "text": narrative(text)}
        else:
            parent = sections.setdefault(spec.parent, {**_top(spec.parent), "section": []})
            sub: dict[str, Any] = {"title": spec.title, "text": narrative(text)}
            if spec.code:
                sub["code"] = {"coding": [{"system": LOINC, "code": spec.code, "display": spec.display}]}
            parent["section"].append(sub)
    return _write(repo, ctx, note, sections)


def _write(repo: Repository, ctx: VisitContext, note: dict[str, Any] | None,
           sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    body = dict(note) if note else _new_note(ctx)
    body["date"] = ctx.timestamp
    if ctx.author_ref and ctx.author_ref["reference"] not in [a.get("reference") for a in body.get("author") or []]:
        body["author"] = [a for a in body.get("author") or [] if a.get("reference")] + [ctx.author_ref]
    assembled = _assemble(sections)
    if assembled:
        body["section"] = assembled
    else:
        body.pop("section", None)
    if note is None:
        return written(repo.create(body))
    return written(repo.update("Composition", note["id"], body))


def set_diagnoses(repo: Repository, ctx: VisitContext, lines: list[str], conditions: list[str]) -> dict[str, Any]:
    """Write the diagnosis section (one line per diagnosis, entries = the Conditions) into the note."""
    note = find(repo, ctx.encounter_id)
    _check_editable(note)
    sections = {_section_code(s) or "": s for s in (note or {}).get("section") or []}
    if lines:
        sections[DIAGNOSIS] = {**_top(DIAGNOSIS), "text": narrative("\n".join(lines)),
                               "entry": [{"reference": f"Condition/{cid}"} for cid in conditions]}
    else:
        sections.pop(DIAGNOSIS, None)
    return _write(repo, ctx, note, sections)
