"""``Patient/[id]/$everything``: the patient, its compartment, and what those resources refer to.

Paged like a search (offset inside a pk snapshot, patient first, then by pk). Each page brings the
resources its entries reference that are outside the compartment (Practitioner, Organization,
Location, Medication...) as ``include`` entries: one statement for the page, one for the
references, one count. ``_since`` keeps resources updated at or after an instant, ``_type`` limits
the types returned; ``start``/``end`` keep resources whose *care* date (not record date) overlaps the
range (:data:`CARE_DATES`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, or_, select, union_all

from benhan.db import schema as s

from ..dates import MAX_TIME, MIN_TIME, date_range
from ..errors import FhirError, Issue, not_found
from . import includes as inc
from .bundle import entries, searchset
from .engine import _types_param, access_filter
from .paging import links, parse_page
from .problems import bad_value, ignored
from .refs import is_local
from .shaping import parse_shape

_KNOWN = frozenset({"_since", "_type", "_count", "_offset", "_snapshot", "_format", "_pretty", "_summary",
                    "_elements", "start", "end"})

#: The date search parameters that say when the care a resource records took place, per compartment type
#: (R4 ``$everything``: "the date range relates to care dates, not record currency dates"). Types not listed
#: (Patient, RelatedPerson, Coverage, Provenance, AuditEvent...) have no care date and are never dropped by
#: ``start``/``end``; a listed resource is kept when one of these dates overlaps the range.
CARE_DATES: dict[str, tuple[str, ...]] = {
    "AdverseEvent": ("date",), "AllergyIntolerance": ("onset", "date"), "Appointment": ("date",),
    "CarePlan": ("date",), "CareTeam": ("date",), "ChargeItem": ("occurrence",), "Claim": ("created",),
    "ClaimResponse": ("created",), "ClinicalImpression": ("date",), "Communication": ("sent", "received"),
    "CommunicationRequest": ("occurrence", "authored"), "Composition": ("date",),
    "Condition": ("onset-date", "recorded-date"), "Consent": ("date",), "CoverageEligibilityRequest": ("created",),
    "CoverageEligibilityResponse": ("created",), "DetectedIssue": ("identified",),
    "DeviceRequest": ("event-date", "authored-on"), "DiagnosticReport": ("date",), "DocumentManifest": ("created",),
    "DocumentReference": ("period", "date"), "Encounter": ("date",), "EpisodeOfCare": ("date",),
    "ExplanationOfBenefit": ("created",), "FamilyMemberHistory": ("date",), "Flag": ("date",),
    "Goal": ("start-date", "target-date"), "ImagingStudy": ("started",), "Immunization": ("date",),
    "ImmunizationEvaluation": ("date",), "ImmunizationRecommendation": ("date",), "Invoice": ("date",),
    "List": ("date",), "MeasureReport": ("period", "date"), "Media": ("created",),
    "MedicationAdministration": ("effective-time",), "MedicationDispense": ("whenhandedover", "whenprepared"),
    "MedicationRequest": ("authoredon",), "MedicationStatement": ("effective",), "NutritionOrder": ("datetime",),
    "Observation": ("date",), "Procedure": ("date",), "QuestionnaireResponse": ("authored",),
    "RequestGroup": ("authored",), "RiskAssessment": ("date",), "ServiceRequest": ("occurrence", "authored"),
    "Specimen": ("collected",), "SupplyRequest": ("date",), "Task": ("period", "authored-on"),
    "VisionPrescription": ("datewritten",),
}


def everything(conn: Connection, patient_id: str, params: list[tuple[str, str]], *, base_url: str,
               default_count: int = 20, max_count: int = 1000, access: Any = None,
               as_stored: bool = False) -> dict[str, Any]:
    """The searchset of the patient's record (``as_stored`` as for ``search``)."""
    r, c = s.resource, s.compartment
    found = conn.execute(select(r.c.pk, r.c.deleted).where(r.c.type == "Patient", r.c.id == patient_id)).first()
    if found is None:
        raise not_found("Patient", patient_id)
    if found[1]:
        raise FhirError.one(410, "deleted", f"Patient/{patient_id} đã bị xoá", f"Patient/{patient_id} has been deleted")
    patient_pk = found[0]
    warnings: list[Issue] = []
    for name, _ in params:
        if name not in _KNOWN:
            ignored(warnings, False, name, f"Tham số '{name}' không được hỗ trợ cho $everything, đã bỏ qua",
                    f"Parameter '{name}' is not supported by $everything; it was ignored")
    page = parse_page(params, default_count, max_count)
    shape = parse_shape(params, as_stored=as_stored)
    types = _types_param(params)
    filters = []
    for name, value in params:
        if name == "_since":
            try:
                filters.append(r.c.last_updated >= date_range(value)[0])
            except ValueError as exc:
                raise bad_value("_since", value, "không phải thời điểm FHIR", "not a FHIR instant") from exc
    if types is not None:
        filters.append(r.c.type.in_(types))
    care = _care_range(params)
    if care is not None:
        filters.append(_in_care_range(patient_id, *care))

    members = select(c.c.res_pk).where(c.c.comp_type == "Patient", c.c.comp_id == patient_id)
    where = [r.c.pk.in_(union_all(members, select(literal(patient_pk)))), r.c.deleted.is_(False), *filters]
    access = access_filter(conn, access)
    if access is not None:
        where += access.search_conditions(r, None)
    if page.snapshot is not None:
        where.append(r.c.pk <= page.snapshot)
    snap_col = select(func.max(s.resource.c.pk)).scalar_subquery()
    rows_raw = conn.execute(
        select(r.c.pk, r.c.type, r.c.id, r.c.content, snap_col).where(*where)
        .order_by(case((r.c.pk == patient_pk, 0), else_=1), r.c.pk)
        .limit(page.count + 1).offset(page.offset)
    ).all() if page.count else []
    has_next = len(rows_raw) > page.count
    rows = [inc.Row(*row[:4]) for row in rows_raw[:page.count]]
    snapshot = page.snapshot if page.snapshot is not None else (rows_raw[0][4] if rows_raw else None)
    total = conn.execute(select(func.count()).select_from(select(r.c.pk).where(*where).subquery())).scalar_one()
    referenced = _referenced(conn, rows, patient_id, patient_pk, filters, base_url)
    if access is not None:
        referenced = access.after_search(conn, None, params, rows, referenced, ("Patient", patient_id))
    entry = entries(base_url, rows, "match", shape) + entries(base_url, referenced, "include", shape)
    url = f"{base_url}/Patient/{patient_id}/$everything"
    return searchset(total=total, links=links(url, params, page, has_next=has_next, snapshot=snapshot),
                     entry=entry, warnings=warnings)


def _care_range(params: list[tuple[str, str]]) -> tuple[int, int] | None:
    """``start``/``end`` as one inclusive range in µs (an open side is unbounded), or None if neither is given."""
    low, high, given = MIN_TIME, MAX_TIME, False
    for name, value in params:
        if name not in ("start", "end"):
            continue
        try:
            lo, hi = date_range(value)
        except ValueError as exc:
            raise bad_value(name, value, "không phải ngày FHIR", "not a FHIR date") from exc
        if name == "start":
            low = max(low, lo)
        else:
            high = min(high, hi)
        given = True
    return (low, high) if given else None


def _in_care_range(patient_id: str, low: int, high: int) -> ColumnElement[bool]:
    """The resource has no care date by type, or one of its care dates overlaps ``[low, high]``.

    The dated resources are found from the patient's compartment rows (one index range per type), so the
    cost follows the size of the record, not of the database.
    """
    r, d, c = s.resource, s.idx_date, s.compartment
    pairs = or_(*(and_(d.c.res_type == rtype, d.c.param.in_(codes)) for rtype, codes in CARE_DATES.items()))
    dated = (select(d.c.res_pk).select_from(d.join(c, c.c.res_pk == d.c.res_pk))
             .where(c.c.comp_type == "Patient", c.c.comp_id == patient_id, pairs, d.c.high >= low, d.c.low <= high))
    return or_(r.c.type.not_in(list(CARE_DATES)), r.c.pk.in_(dated))


def _referenced(conn: Connection, rows: list[inc.Row], patient_id: str, patient_pk: int, filters: list[Any],
                base_url: str) -> list[inc.Row]:
    """Resources the page refers to that are not themselves in the compartment (two small statements).

    First the distinct local targets of the page's references (index on ``res_pk``), then those
    resources by ``(type, id)`` (unique index): the cost follows the page, not the table.
    """
    if not rows:
        return []
    ref, r, c = s.idx_reference, s.resource, s.compartment
    targets = conn.execute(
        select(ref.c.target_type, ref.c.target_id).distinct()
        .where(ref.c.res_pk.in_([row.pk for row in rows]), ref.c.target_type.is_not(None),
               is_local(ref, base_url, conn.dialect.name))
    ).all()
    by_type: dict[str, set[str]] = {}
    for rtype, rid in targets:
        by_type.setdefault(rtype, set()).add(rid)
    if not by_type:
        return []
    in_compartment = (select(c.c.res_pk).where(c.c.res_pk == r.c.pk, c.c.comp_type == "Patient",
                                               c.c.comp_id == patient_id).exists())
    result = conn.execute(
        select(r.c.pk, r.c.type, r.c.id, r.c.content)
        .where(or_(*(and_(r.c.type == rtype, r.c.id.in_(sorted(ids))) for rtype, ids in by_type.items())),
               r.c.deleted.is_(False), r.c.pk != patient_pk, ~in_compartment, *filters)
        .order_by(r.c.pk)
    ).all()
    page_pks = {row.pk for row in rows}
    return [inc.Row(*row) for row in result if row[0] not in page_pks]
