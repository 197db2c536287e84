"""The patient chart: a summary of one patient's record built for the chart page, and patient search.

Reading is through the FHIR search index with the request's access guard (every search is checked
and audited). The number of searches does not depend on the length of the history: the page reads
one *page* of visits (the newest ``limit`` Encounters, or those before a cursor) and then everything
that belongs to those visits (``encounter=E1,E2,...``): on SQLite in ONE search over every type
(``_type=Condition,Observation,...``; each search pays for the access filter), on PostgreSQL one search
per type (planning the multi-type UNION ALL costs more than the five small searches). Every search is
capped by ``_count`` and grouping by visit happens in Python.

Resource types the user's roles may not search (a receptionist and clinical notes, say) are not
queried at all; they are listed in :attr:`ChartSummary.restricted` so the page can say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from benhan.fhir.repository import Repository
from benhan.fhir.search import search
from benhan.vn import systems
from benhan.vn.names import format_name

from .mpi import lookup
from .mpi.candidates import search_resources

VISITS_PER_PAGE = 20
MAX_PER_TYPE = 1000  # per search of one page of visits; a page of 20 visits holds far fewer
MAX_ALLERGIES = 50
MAX_PROBLEMS = 100
MAX_FOUND = 20

ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
PRESCRIPTION_SYSTEM = systems.PRESCRIPTION_CODE
OPEN_STATUSES = frozenset({"planned", "arrived", "triaged", "in-progress", "onleave"})
ABNORMAL = frozenset({"H", "L", "HH", "LL", "A", "AA", "HU", "LU", "<", ">", "POS", "R"})

# Vital signs by LOINC code: (short label key, order on the line).
VITALS = {"8867-4": ("pulse", 1), "85354-9": ("bp", 0), "8310-5": ("temp", 2), "9279-1": ("rr", 3),
          "59408-5": ("spo2", 4), "8302-2": ("height", 5), "29463-7": ("weight", 6), "39156-5": ("bmi", 7)}

# Types read for the visits of a page (Condition is read by id from Encounter.diagnosis).
VISIT_TYPES = ("Observation", "DiagnosticReport", "MedicationRequest", "Composition", "DocumentReference")

MaySearch = Callable[[str], bool]


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Diagnosis:
    code: str | None
    display: str
    rank: int

    @property
    def main(self) -> bool:
        return self.rank == 1


@dataclass(frozen=True, slots=True)
class Vital:
    key: str
    value: str
    unit: str
    abnormal: bool = False


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    value: str
    unit: str
    flag: str | None  # interpretation code (H, L, A, ...) when abnormal
    reference: str = ""


@dataclass(slots=True)
class Report:
    id: str
    name: str
    status: str
    issued: str | None
    conclusion: str | None
    results: list[Result] = field(default_factory=list)

    @property
    def abnormal(self) -> bool:
        return any(r.flag for r in self.results)


@dataclass(frozen=True, slots=True)
class Drug:
    name: str
    dosage: str
    quantity: str
    status: str


@dataclass(slots=True)
class Prescription:
    code: str | None  # groupIdentifier (mã đơn thuốc); None for requests outside a prescription
    authored: str | None
    drugs: list[Drug] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    type: str
    title: str
    status: str
    date: str | None
    kind: str  # Composition | DocumentReference


@dataclass(slots=True)
class Visit:
    id: str
    start: str | None
    end: str | None
    status: str
    klass: str | None
    type_text: str | None
    department: str | None
    room: str | None
    reason: str | None
    diagnoses: list[Diagnosis] = field(default_factory=list)
    vitals: list[Vital] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)  # results outside a report
    reports: list[Report] = field(default_factory=list)
    prescriptions: list[Prescription] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def year(self) -> str:
        return (self.start or "")[:4]


@dataclass(frozen=True, slots=True)
class Allergy:
    text: str
    criticality: str | None
    reaction: str | None


@dataclass(frozen=True, slots=True)
class Problem:
    code: str | None
    display: str
    onset: str | None


@dataclass(frozen=True, slots=True)
class PatientHeader:
    id: str
    name: str
    gender: str | None
    birth_date: str | None
    age: int | None
    national_id: str | None
    insurance_number: str | None
    patient_code: str | None
    phone: str | None
    address: str | None
    deceased: bool


@dataclass(slots=True)
class VisitPage:
    visits: list[Visit]
    before: str | None  # cursor for the next (older) page, None at the end of the history
    restricted: list[str]  # resource types not shown because the user may not read them
    counts: dict[str, int] = field(default_factory=dict)  # resources read, by type


@dataclass(slots=True)
class ChartSummary:
    patient: PatientHeader
    allergies: list[Allergy] | None  # None: not allowed to read
    problems: list[Problem] | None
    page: VisitPage

    @property
    def restricted(self) -> list[str]:
        return self.page.restricted


# ---------------------------------------------------------------------------------------------- helpers


def _identifier(resource: dict[str, Any], system: str) -> str | None:
    return next((i.get("value") for i in resource.get("identifier") or [] if i.get("system") == system), None)


def _ref_id(ref: dict[str, Any] | None, rtype: str) -> str | None:
    value = (ref or {}).get("reference") or ""
    prefix = rtype + "/"
    if prefix not in value:
        return None
    return value.rsplit(prefix, 1)[1].split("/_history", 1)[0] or None


def _concept_text(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
        if coding.get("code"):
            return str(coding["code"])
    return ""


def _code(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c.get("code") for c in (concept or {}).get("coding") or [] if c.get("system") == system), None)


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _quantity(q: dict[str, Any] | None) -> tuple[str, str]:
    if not q or q.get("value") is None:
        return "", ""
    return _number(q["value"]), str(q.get("unit") or q.get("code") or "")


def _flag(obs: dict[str, Any]) -> str | None:
    for concept in obs.get("interpretation") or []:
        for coding in concept.get("coding") or []:
            if coding.get("code") in ABNORMAL:
                return str(coding["code"])
    return None


def _value(obs: dict[str, Any]) -> tuple[str, str]:
    if "valueQuantity" in obs:
        return _quantity(obs["valueQuantity"])
    if "valueCodeableConcept" in obs:
        return _concept_text(obs["valueCodeableConcept"]), ""
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in obs:
            return str(obs[key]), ""
    return "", ""


def _range(obs: dict[str, Any]) -> str:
    rr = (obs.get("referenceRange") or [{}])[0]
    if rr.get("text"):
        return str(rr["text"])
    low, _ = _quantity(rr.get("low"))
    high, _ = _quantity(rr.get("high"))
    return f"{low}–{high}" if low and high else (f"≥ {low}" if low else (f"≤ {high}" if high else ""))


def _is_vital(obs: dict[str, Any]) -> bool:
    return any(c.get("code") == "vital-signs" for cat in obs.get("category") or [] for c in cat.get("coding") or [])


def _vital(obs: dict[str, Any]) -> Vital | None:
    code = _code(obs.get("code"), LOINC)
    if code not in VITALS:
        return None
    key = VITALS[code][0]
    if code == "85354-9":
        parts = {_code(c.get("code"), LOINC): _quantity(c.get("valueQuantity"))[0] for c in obs.get("component") or []}
        systolic, diastolic = parts.get("8480-6", ""), parts.get("8462-4", "")
        if not systolic:
            return None
        return Vital(key, f"{systolic}/{diastolic}", "mmHg", _flag(obs) is not None)
    value, unit = _quantity(obs.get("valueQuantity"))
    return Vital(key, value, unit, _flag(obs) is not None) if value else None


def age_on(birth_date: str | None, day: date) -> int | None:
    if not birth_date or len(birth_date) < 4:
        return None
    month, dom = (int(birth_date[5:7]), int(birth_date[8:10])) if len(birth_date) >= 10 else (1, 1)
    return day.year - int(birth_date[:4]) - ((day.month, day.day) < (month, dom))


def patient_header(patient: dict[str, Any], today: date) -> PatientHeader:
    names = patient.get("name") or [{}]
    phone = next((t.get("value") for t in patient.get("telecom") or [] if t.get("system") == "phone"), None)
    address = (patient.get("address") or [{}])[0]
    address_text = address.get("text") or ", ".join(
        p for p in [*(address.get("line") or []), address.get("district"), address.get("city")] if p)
    return PatientHeader(
        id=patient["id"], name=format_name(names[0]) if names[0] else "", gender=patient.get("gender"),
        birth_date=patient.get("birthDate"), age=age_on(patient.get("birthDate"), today),
        national_id=_identifier(patient, systems.NATIONAL_ID),
        insurance_number=_identifier(patient, systems.INSURANCE_NUMBER),
        patient_code=_identifier(patient, systems.PATIENT_INTERNAL_ID), phone=phone,
        address=address_text or None,
        deceased=bool(patient.get("deceasedBoolean") or patient.get("deceasedDateTime")))


def _active(resource: dict[str, Any]) -> bool:
    status = _code(resource.get("clinicalStatus"), "http://terminology.hl7.org/CodeSystem/condition-clinical") or \
        _code(resource.get("clinicalStatus"), "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical")
    return status in (None, "active", "recurrence", "relapse")


# ---------------------------------------------------------------------------------------------- reading


def search_types(repo: Repository, types: list[str], params: list[tuple[str, str]],
                 count: int) -> list[dict[str, Any]]:
    """One search over several resource types (``_type``): one query, one access filter, one audit entry."""
    repo.flush()
    bundle = search(repo.conn, None, [("_type", ",".join(types)), *params, ("_count", str(count)),
                                      ("_total", "none")], base_url=repo.base_url, strict=True)
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def read_allergies(repo: Repository, patient_id: str) -> list[Allergy]:
    found = search_resources(repo, "AllergyIntolerance", [("patient", f"Patient/{patient_id}")], MAX_ALLERGIES)
    out = []
    for a in found:
        if not _active(a):
            continue
        reaction = next((_concept_text(m) for r in a.get("reaction") or [] for m in r.get("manifestation") or []),
                        None)
        out.append(Allergy(_concept_text(a.get("code")), a.get("criticality"), reaction or None))
    return out


def problem_conditions(repo: Repository, patient_id: str) -> list[dict[str, Any]]:
    """The patient's problem list (every status: resolved problems may still be named by old visits)."""
    return search_resources(repo, "Condition", [("patient", f"Patient/{patient_id}"),
                                                ("category", "problem-list-item")], MAX_PROBLEMS)


def active_problems(conditions: list[dict[str, Any]]) -> list[Problem]:
    problems = [Problem(_code(c.get("code"), ICD10), _concept_text(c.get("code")),
                        c.get("onsetDateTime") or c.get("recordedDate")) for c in conditions if _active(c)]
    return sorted(problems, key=lambda p: (p.onset or ""), reverse=True)


def _visit(enc: dict[str, Any]) -> Visit:
    location = next(((loc.get("location") or {}).get("display") for loc in enc.get("location") or []
                     if (loc.get("location") or {}).get("display")), None)
    reasons = enc.get("reasonCode") or []
    return Visit(id=enc["id"], start=(enc.get("period") or {}).get("start"), end=(enc.get("period") or {}).get("end"),
                 status=enc.get("status", ""), klass=(enc.get("class") or {}).get("code"),
                 type_text=_concept_text((enc.get("type") or [None])[0]) or None,
                 department=(enc.get("serviceProvider") or {}).get("display"), room=location,
                 reason=_concept_text(reasons[0]) if reasons else None)


def _encounter_of(resource: dict[str, Any]) -> str | None:
    enc = resource.get("encounter")
    if enc is None and resource.get("context"):  # DocumentReference.context.encounter (a list in R4)
        enc = ((resource["context"].get("encounter")) or [None])[0]
    return _ref_id(enc, "Encounter")


def read_visits(repo: Repository, patient_id: str, may_search: MaySearch, *, before: str | None = None,
                limit: int | None = None, known: list[dict[str, Any]] | None = None) -> VisitPage:
    """One page of visits (``limit``, default :data:`VISITS_PER_PAGE`), newest first, with what each
    holds: the Encounter search, then the searches of what was recorded during those visits
    (``encounter=...``; one over every type on SQLite, one per type on PostgreSQL), then — only if a
    visit names a diagnosis recorded elsewhere and not in ``known`` (the problem list the chart already
    read) — one search of those Conditions by id."""
    limit = limit or VISITS_PER_PAGE
    restricted: list[str] = []
    counts: dict[str, int] = {}
    params = [("patient", f"Patient/{patient_id}"), ("_sort", "-date")]
    if before:
        params.append(("date", f"lt{before}"))
    encounters = search_resources(repo, "Encounter", params, limit + 1)
    more = len(encounters) > limit
    encounters = encounters[:limit]
    counts["Encounter"] = len(encounters)
    visits = {e["id"]: _visit(e) for e in encounters}
    order = [e["id"] for e in encounters]
    cursor = visits[order[-1]].start if more and order else None
    types = [t for t in ("Condition", *VISIT_TYPES) if may_search(t)]
    restricted = [t for t in ("Condition", *VISIT_TYPES) if t not in types]
    if not visits:
        return VisitPage([], None, restricted, counts)
    enc_refs = ",".join(f"Encounter/{eid}" for eid in order)
    found: dict[str, list[dict[str, Any]]] = {}
    if types and repo.conn.dialect.name == "sqlite":
        # SQLite: one search over every type is faster (the access filter is paid once) ...
        for resource in search_types(repo, types, [("encounter", enc_refs)], MAX_PER_TYPE):
            found.setdefault(resource["resourceType"], []).append(resource)
    else:
        # ... on PostgreSQL the multi-type search (one UNION ALL branch per type) runs in ~2 ms but takes
        # ~20 ms to plan on the 42k chart database, more than five small per-type searches: one per type.
        for rtype in types:
            found[rtype] = search_resources(repo, rtype, [("encounter", enc_refs)], MAX_PER_TYPE)
    for rtype in types:
        counts[rtype] = len(found.get(rtype, []))

    # Diagnoses: the Conditions named by Encounter.diagnosis (main = rank 1).
    if "Condition" in types:
        wanted: dict[str, list[tuple[str, int]]] = {}
        for enc in encounters:
            for i, d in enumerate(enc.get("diagnosis") or []):
                cid = _ref_id(d.get("condition"), "Condition")
                if cid:
                    wanted.setdefault(cid, []).append((enc["id"], int(d.get("rank") or i + 1)))
        conditions = {c["id"]: c for c in [*(known or []), *found.get("Condition", [])]}
        missing = sorted(set(wanted) - set(conditions))
        if missing:
            for c in search_resources(repo, "Condition", [("_id", ",".join(missing))], MAX_PER_TYPE):
                conditions[c["id"]] = c
        for cid, uses in wanted.items():
            c = conditions.get(cid)
            if c is None:
                continue
            for eid, rank in uses:
                visits[eid].diagnoses.append(Diagnosis(_code(c.get("code"), ICD10), _concept_text(c.get("code")),
                                                       rank))
        for v in visits.values():
            v.diagnoses.sort(key=lambda d: d.rank)

    # Results: reports with their observations; vital signs on one line; other observations alone.
    observations = {o["id"]: o for o in found.get("Observation", [])}
    in_report: set[str] = set()
    for dr in sorted(found.get("DiagnosticReport", []), key=lambda r: r.get("issued") or "", reverse=True):
        eid = _encounter_of(dr)
        if eid not in visits:
            continue
        report = Report(dr["id"], _concept_text(dr.get("code")), dr.get("status", ""),
                        dr.get("issued") or dr.get("effectiveDateTime"), dr.get("conclusion"))
        for ref in dr.get("result") or []:
            oid = _ref_id(ref, "Observation")
            if oid in observations:
                in_report.add(oid)
                report.results.append(_result(observations[oid]))
        visits[eid].reports.append(report)
    for oid, obs in observations.items():
        eid = _encounter_of(obs)
        if eid not in visits or oid in in_report:
            continue
        if _is_vital(obs):
            vital = _vital(obs)
            if vital:
                visits[eid].vitals.append(vital)
        elif obs.get("hasMember") is None:
            visits[eid].results.append(_result(obs))
    for v in visits.values():
        seen: dict[str, Vital] = {}
        for vital in v.vitals:  # several readings: keep one per sign (the first, in search order)
            seen.setdefault(vital.key, vital)
        v.vitals = sorted(seen.values(), key=lambda x: next(o for k, o in VITALS.values() if k == x.key))

    # Prescriptions: MedicationRequests grouped by groupIdentifier.
    for mr in sorted(found.get("MedicationRequest", []), key=lambda r: r.get("authoredOn") or ""):
        eid = _encounter_of(mr)
        if eid not in visits:
            continue
        code = (mr.get("groupIdentifier") or {}).get("value")
        group = next((p for p in visits[eid].prescriptions if p.code == code), None)
        if group is None:
            group = Prescription(code, mr.get("authoredOn"))
            visits[eid].prescriptions.append(group)
        qty, unit = _quantity((mr.get("dispenseRequest") or {}).get("quantity"))
        group.drugs.append(Drug(_concept_text(mr.get("medicationCodeableConcept")),
                                ((mr.get("dosageInstruction") or [{}])[0]).get("text") or "",
                                f"{qty} {unit}".strip(), mr.get("status", "")))

    for kind in ("Composition", "DocumentReference"):
        for doc in found.get(kind, []):
            eid = _encounter_of(doc)
            if eid not in visits:
                continue
            title = doc.get("title") or doc.get("description") or _concept_text(doc.get("type"))
            visits[eid].documents.append(Document(doc["id"], _concept_text(doc.get("type")), title,
                                                  doc.get("status", ""), doc.get("date"), kind))
    return VisitPage([visits[eid] for eid in order], cursor, restricted, counts)


def _result(obs: dict[str, Any]) -> Result:
    value, unit = _value(obs)
    return Result(_concept_text(obs.get("code")), value, unit, _flag(obs), _range(obs))


def build_chart(repo: Repository, patient_id: str, may_search: MaySearch, today: date, *,
                limit: int | None = None) -> ChartSummary:
    """The chart of one patient: header, allergies, active problems and the newest page of visits.

    Reading the Patient goes through the access guard: a patient outside the user's reach raises the
    repository's 403 (or 404) FhirError.
    """
    patient = repo.read("Patient", patient_id).resource()
    allergies = read_allergies(repo, patient_id) if may_search("AllergyIntolerance") else None
    problem_list = problem_conditions(repo, patient_id) if may_search("Condition") else None
    page = read_visits(repo, patient_id, may_search, limit=limit, known=problem_list)
    problems = active_problems(problem_list) if problem_list is not None else None
    if allergies is None:
        page.restricted.append("AllergyIntolerance")
    return ChartSummary(patient_header(patient, today), allergies, problems, page)


# ---------------------------------------------------------------------------------------------- search

# What was typed -> which searches: one lookup for the chart and the SMART patient picker (clinical/mpi/lookup.py).
search_query = lookup.search_query


def find_patients(repo: Repository, text: str, today: date, *, limit: int = MAX_FOUND) -> list[PatientHeader]:
    """Patients matching ``text`` that the user may see (the access policy filters inside the search)."""
    repo.flush()
    found = lookup.lookup_patients(repo.conn, text, base_url=repo.base_url, limit=limit)
    headers = [patient_header(p, today) for p in found]
    return sorted(headers, key=lambda h: (h.name, h.birth_date or ""))[:limit]
