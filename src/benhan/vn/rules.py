"""The Vietnamese identifier check of the FHIR write path: malformed CCCD, CMND, passport, BHYT and
facility codes are refused whatever door they come through (UI, registration, plain FHIR).

Only identifiers whose ``system`` is one of ours (:mod:`benhan.vn.systems`) are checked; any other
system is ignored. Checked: ``identifier`` of every resource and of its contained resources; for a
person (Patient, Practitioner, RelatedPerson, Person) the CCCD against ``gender``/``birthDate`` and a
passport against the VN Core nationality extension; for a BHYT Coverage (one with an
``insurance_number`` identifier) ``subscriberId``, the agreement of their BHXH numbers, ``period``
and the identifiers inside ``beneficiary``/``subscriber``/``policyHolder``/``payor`` references.

Pure and fast (it runs on every write): no I/O unless ``warnings=True`` (which reads the group list
once). Warnings (unknown province prefix, unknown group code) come only when asked for.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from benhan.fhir.errors import FhirError, Issue
from benhan.vn import bhyt, cccd, facility, passport, systems
from benhan.vn.errors import InvalidValue

__all__ = ["check_identifier", "check_resource", "raise_if_invalid"]

_PERSON_TYPES = frozenset({"Patient", "Practitioner", "RelatedPerson", "Person"})
_LABELS: dict[str, tuple[str, str]] = {
    systems.NATIONAL_ID: ("Số CCCD", "CCCD"),
    systems.CITIZEN_ID: ("Số CMND", "CMND"),
    systems.PASSPORT_NUMBER: ("Số hộ chiếu", "Passport number"),
    systems.INSURANCE_NUMBER: ("Mã thẻ BHYT", "BHYT card"),
    systems.PROVIDER_CODE: ("Mã cơ sở KCB", "Facility code"),
}
_VIETNAM = frozenset({"VN", "VNM"})


class _Context:
    __slots__ = ("issues", "today", "warnings")

    def __init__(self, today: date | None, warnings: bool) -> None:
        self.issues: list[Issue] = []
        self.today = today
        self.warnings = warnings

    def error(self, problem: InvalidValue, expression: str) -> None:
        self.issues.append(problem.to_issue(expression))

    def warn(self, problem: InvalidValue | None, expression: str) -> None:
        if problem is not None and self.warnings:
            self.issues.append(problem.to_issue(expression, severity="warning"))


class _Person:
    __slots__ = ("birth_date", "gender", "vietnamese")

    def __init__(self, gender: Any, birth_date: Any, vietnamese: bool) -> None:
        self.gender = gender if type(gender) is str else None
        self.birth_date = birth_date if type(birth_date) is str else None
        self.vietnamese = vietnamese


def check_resource(resource: dict[str, Any], *, today: date | None = None,
                   warnings: bool = False) -> list[Issue]:
    """Issues (errors, and warnings if asked) for the Vietnamese identifiers in ``resource``.

    ``today`` enables the "birth year in the future" check of CCCD digits 4–6; pass the date of the
    request's clock. Expressions are FHIRPath, e.g. ``Patient.identifier[1].value``.
    """
    if type(resource) is not dict:
        return []
    rtype = resource.get("resourceType")
    if type(rtype) is not str:
        return []
    ctx = _Context(today, warnings)
    _check(resource, rtype, rtype, ctx)
    contained = resource.get("contained")
    if type(contained) is list:
        for i, inner in enumerate(contained):
            if type(inner) is dict and type(inner.get("resourceType")) is str:
                _check(inner, inner["resourceType"], f"{rtype}.contained[{i}]", ctx)
    return ctx.issues


def raise_if_invalid(resource: dict[str, Any], *, today: date | None = None) -> None:
    """Raise :class:`FhirError` 422 with every error of :func:`check_resource`; return if none."""
    errors = [i for i in check_resource(resource, today=today) if i.severity == "error"]
    if errors:
        raise FhirError(422, errors)


def check_identifier(identifier: dict[str, Any], expression: str, *, gender: str | None = None,
                     birth_date: str | None = None, vietnamese: bool = False, today: date | None = None,
                     warnings: bool = False) -> list[Issue]:
    """Issues for one Identifier at ``expression`` (e.g. a registration form field), with the person's
    gender/birth date for the CCCD and ``vietnamese`` for a passport."""
    ctx = _Context(today, warnings)
    _identifier(identifier, expression, _Person(gender, birth_date, vietnamese), ctx)
    return ctx.issues


def _check(res: dict[str, Any], rtype: str, path: str, ctx: _Context) -> None:
    person = _person(res) if rtype in _PERSON_TYPES else None
    cards: list[tuple[str, bhyt.BhytCard]] = []
    has_insurance = False
    for ipath, ident in _identifiers(res.get("identifier"), f"{path}.identifier"):
        parsed = _identifier(ident, ipath, person, ctx)
        if ident.get("system") == systems.INSURANCE_NUMBER:
            has_insurance = True
            if isinstance(parsed, bhyt.BhytCard):
                cards.append((f"{ipath}.value", parsed))
    if rtype == "Coverage":
        _coverage(res, path, has_insurance, cards, ctx)


def _identifiers(value: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    if type(value) is list:
        return [(f"{path}[{i}]", v) for i, v in enumerate(value) if type(v) is dict]
    if type(value) is dict:
        return [(path, value)]
    return []


def _person(res: dict[str, Any]) -> _Person:
    return _Person(res.get("gender"), res.get("birthDate"), _is_vietnamese(res.get("extension")))


def _is_vietnamese(extensions: Any) -> bool:
    if type(extensions) is not list:
        return False
    for ext in extensions:
        if type(ext) is dict and ext.get("url") == systems.EXT_NATIONALITY:
            concept = ext.get("valueCodeableConcept")
            codings = concept.get("coding") if type(concept) is dict else None
            if type(codings) is list:
                return any(type(c) is dict and c.get("code") in _VIETNAM for c in codings)
    return False


def _identifier(ident: dict[str, Any], path: str, person: _Person | None, ctx: _Context) -> object | None:
    """Check one Identifier of ours; return what its value parsed into, or None."""
    system = ident.get("system")
    label = _LABELS.get(system) if type(system) is str else None
    if label is None:
        return None
    vpath = f"{path}.value"
    value = ident.get("value")
    if value is None:
        if "_value" not in ident:  # a data-absent-reason extension may stand in for the value
            ctx.error(InvalidValue("identifier.value", f"{label[0]}: thiếu giá trị",
                                   f"{label[1]}: value is missing", code="required"), vpath)
        return None
    if type(value) is not str:
        return None  # the structure validator reports the wrong JSON type
    _period_order(ident.get("period"), f"{path}.period", ctx, ("Thời hạn định danh", "Identifier period"))
    try:
        if system == systems.NATIONAL_ID:
            return _national_id(value, vpath, person, ctx)
        if system == systems.CITIZEN_ID:
            return cccd.parse_cmnd(value)
        if system == systems.PASSPORT_NUMBER:
            return passport.parse_passport(value, vietnamese=person is not None and person.vietnamese)
        if system == systems.INSURANCE_NUMBER:
            card = bhyt.parse_number(value)
            if ctx.warnings:
                ctx.warn(bhyt.unknown_group(card), vpath)
            return card
        return facility.parse_facility_code(value)
    except InvalidValue as problem:
        ctx.error(problem, vpath)
        return None


def _national_id(value: str, vpath: str, person: _Person | None, ctx: _Context) -> cccd.Cccd:
    number = cccd.parse_cccd(value)
    if person is not None:
        for problem in cccd.check_consistency(number, person.gender, person.birth_date):
            ctx.error(problem, vpath)
    if ctx.today is not None:
        future = cccd.check_not_future(number, ctx.today)
        if future is not None:
            ctx.error(future, vpath)
    ctx.warn(cccd.unknown_province(number), vpath)
    return number


def _coverage(res: dict[str, Any], path: str, is_bhyt: bool, cards: list[tuple[str, bhyt.BhytCard]],
              ctx: _Context) -> None:
    for name in ("beneficiary", "subscriber", "policyHolder"):
        ref = res.get(name)
        if type(ref) is dict and type(ref.get("identifier")) is dict:
            _identifier(ref["identifier"], f"{path}.{name}.identifier", None, ctx)
    payors = res.get("payor")
    if type(payors) is list:
        for i, ref in enumerate(payors):
            if type(ref) is dict and type(ref.get("identifier")) is dict:
                _identifier(ref["identifier"], f"{path}.payor[{i}].identifier", None, ctx)
    if not is_bhyt:
        return
    subscriber_id = res.get("subscriberId")
    if type(subscriber_id) is str:
        try:
            cards.append((f"{path}.subscriberId", bhyt.parse_number(subscriber_id)))
        except InvalidValue as problem:
            ctx.error(problem, f"{path}.subscriberId")
    if cards:
        first_path, first = cards[0]
        for other_path, card in cards[1:]:
            if card.social_insurance_number != first.social_insurance_number:
                ctx.error(InvalidValue(
                    "bhyt.number_mismatch",
                    f"Mã thẻ BHYT: mã số BHXH (10 số cuối) khác với {first_path}",
                    f"BHYT card: BHXH number (last 10 digits) differs from {first_path}",
                    code="business-rule"), other_path)
    period = res.get("period")
    if type(period) is dict:
        label = ("Hạn thẻ BHYT", "BHYT card validity")
        for end in ("start", "end"):
            value = period.get(end)
            if type(value) is str and len(value) < 10:
                ctx.error(InvalidValue(
                    "bhyt.validity_precision",
                    f"{label[0]}: {end} phải là ngày đầy đủ (yyyy-mm-dd) như trên thẻ",
                    f"{label[1]}: {end} must be a full date (yyyy-mm-dd) as printed on the card"),
                    f"{path}.period.{end}")
        _period_order(period, f"{path}.period", ctx, label)


def _period_order(period: Any, path: str, ctx: _Context, label: tuple[str, str]) -> None:
    """FHIR ``per-1`` for the periods we look at: start ≤ end, compared at the common precision (≤ day)."""
    if type(period) is not dict:
        return
    start, end = period.get("start"), period.get("end")
    if type(start) is not str or type(end) is not str:
        return
    n = min(len(start), len(end), 10)
    if start[:n] > end[:n]:
        ctx.error(InvalidValue("period.order", f"{label[0]}: ngày kết thúc trước ngày bắt đầu",
                               f"{label[1]}: end is before start", code="business-rule"), path)
