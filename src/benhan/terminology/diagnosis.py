"""Rules applied when a diagnosis is recorded: the code must exist in the ICD-10 version valid at the
encounter's end date, may not be the main diagnosis when the Ministry says so, and must fit the
patient's sex and age (QĐ 4469 annexes A2, A3.x, A4). An asterisk code listed in annex A1 should be
recorded with one of its dagger codes (a warning). Issues are bilingual values
(:class:`benhan.fhir.errors.Issue`); callers raise on errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import Connection, select

from benhan.db import schema as s
from benhan.fhir.errors import Issue

from . import concepts, systems
from .model import Flag

Resolve = Callable[[str, str], dict[str, Any] | None]
ENCOUNTER_DIAGNOSIS = "encounter-diagnosis"
MAX_LISTED = 8  # dagger codes named in a message


@dataclass(frozen=True, slots=True)
class AgeRule:
    """One age annex: a day is valid when ``birth + min <= day <= birth + max`` (offsets ``(years, days)``)."""

    annex: str  # "A3.1"
    flag: int
    title: str  # as published, e.g. "Bệnh trẻ sơ sinh"
    range: str  # as published, e.g. "0 - 365 ngày"
    min: tuple[int, int] | None
    max: tuple[int, int] | None

    def too_young(self, birth: date, day: date) -> bool:
        return self.min is not None and day < _shift(birth, self.min)

    def too_old(self, birth: date, day: date) -> bool:
        return self.max is not None and day > _shift(birth, self.max)

    @property
    def range_en(self) -> str:
        text = self.range.replace("–", "-")
        for vi, en in (("ngày tuổi", "days"), ("trở lên", "and over"), ("ngày", "days"), ("tuổi", "years"),
                       ("trên", "over")):
            text = text.replace(vi, en)
        return re.sub(r"\b1 years", "1 year", text)


@dataclass(frozen=True, slots=True)
class Rules:
    """The rules shipped beside an ICD-10 list (``data/icd10-<version>-rules.json``)."""

    age: tuple[AgeRule, ...]
    pairs: dict[str, tuple[str, ...]]  # asterisk code -> dagger codes it may go with (annex A1)


@cache
def rules(version: str) -> Rules:
    """The age and dagger/asterisk rules of ICD-10 list ``version`` (none when no rules file is shipped)."""
    path = resources.files("benhan.terminology").joinpath(f"data/icd10-{version}-rules.json")
    if not path.is_file():
        return Rules((), {})
    data = json.loads(path.read_text(encoding="utf-8"))
    age = tuple(AgeRule(annex, r["flag"], r["title"], r["range"], _pair(r["min"]), _pair(r["max"]))
                for annex, r in data["age"].items())
    return Rules(age, {k: tuple(v) for k, v in data["pairs"].items()})


def birth_range(value: str | date | None) -> tuple[date, date] | None:
    """The earliest and latest possible birth date of a FHIR ``date`` (``1980``, ``1980-05``, ``1980-05-17``)."""
    if isinstance(value, date):
        return value, value
    if not value:
        return None
    try:
        if len(value) == 4:
            return date(int(value), 1, 1), date(int(value), 12, 31)
        if len(value) == 7:
            first = date(int(value[:4]), int(value[5:7]), 1)
            return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day, day


def check_age(code: str, flags: int, birth: tuple[date, date], first: date, last: date, ruleset: Rules,
              expression: str | None = None) -> list[Issue]:
    """Errors for an age annex (A3.x) the patient is certainly outside of on every day ``first``..``last``.

    A partial birth date counts as violating only if every birth date it allows does.
    """
    issues = []
    for rule in ruleset.age:
        if not flags & rule.flag:
            continue
        if rule.too_young(birth[0], last):
            age_vi, age_en = _age(birth[0], last)
        elif rule.too_old(birth[1], first):
            age_vi, age_en = _age(birth[1], first)
        else:
            continue
        issues.append(Issue("business-rule",
                            f"Mã {code} chỉ hợp lệ ở tuổi {rule.range} (QĐ 4469 Phụ lục {rule.annex}: {rule.title}); "
                            f"người bệnh {age_vi}",
                            f"Code {code} is valid only at age {rule.range_en} (QĐ 4469 annex {rule.annex}); "
                            f"the patient is {age_en}", expression))
    return issues


def permitted_daggers(pairs: dict[str, tuple[str, ...]], asterisk: str) -> list[str]:
    """The dagger codes annex A1 lists for ``asterisk``, its subdivisions or its category."""
    found = {d for a, daggers in pairs.items() if a.startswith(asterisk) or asterisk.startswith(a) for d in daggers}
    return sorted(found)


def missing_daggers(pairs: dict[str, tuple[str, ...]], codes: Iterable[str]) -> dict[str, list[str]]:
    """Asterisk codes among ``codes`` recorded without any of their A1 dagger codes -> the daggers expected.

    Codes match by prefix either way: a recorded ``A09.0`` satisfies a listed ``A09``, ``F02.8`` a listed ``F02.80``.
    """
    recorded = list(codes)
    out: dict[str, list[str]] = {}
    for code in recorded:
        daggers = permitted_daggers(pairs, code)
        others = [c for c in recorded if c != code]
        if daggers and not any(o.startswith(d) or d.startswith(o) for o in others for d in daggers):
            out[code] = daggers
    return out


def check_pairs(conn: Connection, codes: list[tuple[str, str | None]], *, encounter_end_date: date | None,
                today: date | None = None) -> list[Issue]:
    """Warnings for annex A1: ``codes`` are one encounter's ``(code, expression)``s."""
    day = encounter_end_date or today or date.today()
    choice = concepts.choose(concepts.versions(conn, url=systems.ICD10), on=day)
    if choice is None:
        return []
    where = dict(reversed(codes))
    issues = []
    for code, daggers in missing_daggers(rules(choice.version.version).pairs, [c for c, _ in codes]).items():
        more_vi = f" và {len(daggers) - MAX_LISTED} mã khác" if len(daggers) > MAX_LISTED else ""
        more_en = f" and {len(daggers) - MAX_LISTED} more" if len(daggers) > MAX_LISTED else ""
        listed = ", ".join(daggers[:MAX_LISTED])
        issues.append(Issue("business-rule",
                            f"Mã {code} (mã *) phải đi kèm mã nguyên nhân † (QĐ 4469 Phụ lục A1): {listed}{more_vi}",
                            f"Code {code} (asterisk) must be recorded with its dagger code (QĐ 4469 annex A1): "
                            f"{listed}{more_en}", where.get(code), "warning"))
    return issues


def check_diagnosis(conn: Connection, code: str, *, main: bool, patient_gender: str | None,
                    encounter_end_date: date | None, today: date | None = None,
                    expression: str | None = None, patient_birth_date: str | date | None = None,
                    encounter_start_date: date | None = None) -> list[Issue]:
    """Issues for recording ICD-10 ``code`` (an open encounter is checked at ``today``).

    Age rules hold if the patient had a valid age on some day from ``encounter_start_date`` (default: the
    check day) to the encounter's end (or ``today``).
    """
    day = encounter_end_date or today or date.today()
    choice = concepts.choose(concepts.versions(conn, url=systems.ICD10), on=day)
    if choice is None:
        return [Issue("not-found", "Chưa nạp danh mục ICD-10 (benhan terminology load)",
                      "No ICD-10 list is loaded (run: benhan terminology load)", expression, "warning")]
    v = choice.version
    issues: list[Issue] = []
    if choice.outdated:
        issues.append(Issue("business-rule", f"Không có danh mục ICD-10 hiệu lực ngày {day:%d/%m/%Y}; "
                            f"đã kiểm tra theo phiên bản {v.version}",
                            f"No ICD-10 list valid on {day.isoformat()} is loaded; checked against {v.version}",
                            expression, "warning"))
    found = concepts.concept(conn, v, code)
    if found is None:
        issues.append(Issue("code-invalid", f"Mã ICD-10 '{code}' không có trong danh mục {v.version}",
                            f"ICD-10 code '{code}' is not in list {v.version}", expression))
        return issues
    if main and found.flags & (Flag.NOT_MAIN | Flag.ASTERISK):
        issues.append(Issue("business-rule", f"Mã {code} không được dùng làm bệnh chính",
                            f"Code {code} may not be the main diagnosis", expression))
    if patient_gender == "male" and found.flags & Flag.FEMALE_ONLY:
        issues.append(Issue("business-rule", f"Mã {code} chỉ dùng cho người bệnh nữ",
                            f"Code {code} is for female patients only", expression))
    if patient_gender == "female" and found.flags & Flag.MALE_ONLY:
        issues.append(Issue("business-rule", f"Mã {code} chỉ dùng cho người bệnh nam",
                            f"Code {code} is for male patients only", expression))
    birth = birth_range(patient_birth_date)
    if birth is not None and birth[0] <= day:
        issues += check_age(code, found.flags, birth, min(encounter_start_date or day, day), day, rules(v.version),
                            expression)
    return issues


def check_resource(conn: Connection, resource: dict[str, Any], *, resolve: Resolve | None = None,
                   today: date | None = None) -> list[Issue]:
    """Issues for a ``Condition`` (category encounter-diagnosis) or an ``Encounter`` with diagnoses.

    ``resolve(type, id)`` reads a referenced resource (default: the current stored version); the write
    path passes one that also sees the transaction's pending writes.
    """
    resolve = resolve or (lambda t, i: _stored(conn, t, i))
    rtype = resource.get("resourceType")
    if rtype == "Condition" and _is_encounter_diagnosis(resource):
        codes = _icd_codes(resource)
        if not codes:  # e.g. SNOMED CT only: no ICD-10 rule applies, and the patient need not be read
            return []
        ctx = _context(resource, resolve, encounter=_ref(resource.get("encounter")))
        start = ctx.start or _date(resource.get("recordedDate"))
        return [i for code in codes for i in
                check_diagnosis(conn, code, main=False, patient_gender=ctx.gender, encounter_end_date=ctx.end,
                                today=today, expression="Condition.code", patient_birth_date=ctx.birth,
                                encounter_start_date=start)]
    if rtype == "Encounter" and resource.get("diagnosis"):
        ctx = _context(resource, resolve, encounter=None)
        period = resource.get("period") or {}
        end, start = _date(period.get("end")), _date(period.get("start"))
        issues: list[Issue] = []
        recorded: list[tuple[str, str | None]] = []
        for n, diag in enumerate(resource["diagnosis"]):
            ref = _ref(diag.get("condition"))
            condition = resolve(*ref) if ref and ref[0] == "Condition" else None
            for code in _icd_codes(condition or {}):
                recorded.append((code, f"Encounter.diagnosis[{n}]"))
                issues += check_diagnosis(conn, code, main=diag.get("rank") == 1, patient_gender=ctx.gender,
                                          encounter_end_date=end, today=today,
                                          expression=f"Encounter.diagnosis[{n}]", patient_birth_date=ctx.birth,
                                          encounter_start_date=start)
        return issues + check_pairs(conn, recorded, encounter_end_date=end, today=today)
    return []


def _is_encounter_diagnosis(resource: dict[str, Any]) -> bool:
    return any(c.get("code") == ENCOUNTER_DIAGNOSIS for cat in resource.get("category") or []
               for c in cat.get("coding") or [])


def _icd_codes(resource: dict[str, Any]) -> list[str]:
    return [c["code"] for c in (resource.get("code") or {}).get("coding") or []
            if c.get("system") == systems.ICD10 and c.get("code")]


def _ref(value: Any) -> tuple[str, str] | None:
    ref = (value or {}).get("reference") if isinstance(value, dict) else None
    if not ref or "/" not in ref:
        return None
    parts = ref.split("/")
    return parts[-2], parts[-1]


@dataclass(frozen=True, slots=True)
class _Context:
    gender: str | None
    birth: str | None
    start: date | None
    end: date | None


def _context(resource: dict[str, Any], resolve: Resolve, encounter: tuple[str, str] | None) -> _Context:
    """The patient's gender and birth date and the encounter's dates, as far as they can be read."""
    subject = _ref(resource.get("subject"))
    patient = resolve(*subject) if subject and subject[0] == "Patient" else None
    enc = resolve(*encounter) if encounter and encounter[0] == "Encounter" else None
    period = (enc or {}).get("period") or {}
    birth = (patient or {}).get("birthDate")
    return _Context((patient or {}).get("gender"), birth if isinstance(birth, str) else None,
                    _date(period.get("start")), _date(period.get("end")))


def _pair(value: list[int] | None) -> tuple[int, int] | None:
    return (value[0], value[1]) if value else None


def _shift(birth: date, offset: tuple[int, int]) -> date:
    """``birth`` plus whole years (29 February -> 28 February) plus days."""
    years, days = offset
    try:
        moved = birth.replace(year=birth.year + years)
    except ValueError:
        moved = birth.replace(year=birth.year + years, day=28)
    return moved + timedelta(days=days)


def _age(birth: date, day: date) -> tuple[str, str]:
    """The age on ``day`` in words: days under one year, completed years from then."""
    years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    if years < 1:
        days = (day - birth).days
        return f"{days} ngày tuổi", f"{days} day{'s' if days != 1 else ''} old"
    return f"{years} tuổi", f"{years} year{'s' if years != 1 else ''} old"


def _date(value: str | None) -> date | None:
    if not value or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _stored(conn: Connection, rtype: str, rid: str) -> dict[str, Any] | None:
    import orjson

    r = s.resource
    row = conn.execute(select(r.c.content, r.c.deleted).where(r.c.type == rtype, r.c.id == rid)).first()
    return orjson.loads(row[0]) if row and not row[1] else None
