"""A patient's timeline of visits: when they came, why, and for how long they stayed.

Rates per person-year among the hospital's patients (our model, not published figures): acute
outpatient visits 1.8/yr under one year of age, 1.5 under 6, 0.6 under 16, 0.45 to 40, 0.7 to 60,
1.0 above; emergency visits 0.04-0.09/yr (injuries more often among young men); direct admissions
0.01-0.06/yr; births 0.07/yr for women aged 18-42. Chronic patients (diagnoses.CHRONIC) return
every 1, 2 or 3 months (55/25/20%) and miss one visit in ten. Clinics open Monday to Saturday
morning, mostly in the morning; emergencies come at any hour, more in the evening.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from . import diagnoses as dx
from .rand import Weighted, lognormal_mean, poisson_count
from .timefmt import VN_TZ, add_years, age_on, at

FOLLOW_UP_MONTHS = Weighted([(1, 55), (2, 25), (3, 20)])
MISSED_VISIT = 0.1
KNOWN_BEFORE_JOINING = 0.65
_CLINIC_HOURS = Weighted([(7, 22), (8, 26), (9, 20), (10, 12), (13, 8), (14, 8), (15, 4)])
ER_HOURS = Weighted([(h, w) for h, w in enumerate(
    (2, 1.5, 1, 1, 1, 1.5, 2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 6, 7, 7, 6, 5, 4, 3))])


@dataclass(slots=True)
class ChronicPlan:
    condition: dx.Chronic
    diagnosed: date
    regimen: tuple[str, ...]
    condition_id: str = ""  # set when the Condition resource is written
    recorded: bool = False


@dataclass(slots=True)
class Event:
    kind: str  # outpatient | followup | emergency | admission
    start: datetime
    case: Any = None  # diagnoses.Case or diagnoses.Admission
    end: datetime | None = None  # admissions: discharge time (None: still in hospital)
    via_emergency: bool = False
    admitted: bool = False  # emergency visits: the patient was admitted from the emergency room
    chronic: list[ChronicPlan] = field(default_factory=list)
    supply_days: int = 30  # follow-ups: days of drugs until the next visit


def _rate(age: int, table: tuple[tuple[int, float], ...]) -> float:
    return next(rate for below, rate in table if age < below)


OUTPATIENT_RATE = ((1, 1.8), (6, 1.5), (16, 0.6), (40, 0.45), (60, 0.7), (200, 1.0))
EMERGENCY_RATE = ((6, 0.06), (16, 0.04), (40, 0.05), (60, 0.05), (200, 0.09))
ADMISSION_RATE = ((6, 0.03), (16, 0.01), (60, 0.02), (200, 0.06))
BIRTH_RATE = 0.07


def _clinic_time(rng: random.Random, day: date) -> datetime:
    if day.weekday() == 6:  # Sunday: the clinic is closed, come on Monday
        day += timedelta(days=1)
    hour = _CLINIC_HOURS.pick(rng)
    if day.weekday() == 5 and hour >= 12:  # Saturday: mornings only
        hour = rng.choice((7, 8, 9, 10))
    return at(day, hour, rng.randrange(60), rng.randrange(60))


def _random_day(rng: random.Random, start: date, end: date) -> date:
    span = (end - start).days
    return start + timedelta(days=rng.randrange(span)) if span > 0 else start


def chronic_plans(rng: random.Random, age: int, sex: str, joined: date, today: date,
                  birth: date) -> list[ChronicPlan]:
    plans: list[ChronicPlan] = []
    codes: set[str] = set()
    for condition in dx.CHRONIC:
        share = condition.share(age, sex)
        if condition.code in dx.COMORBID_BOOST and codes & {"I10", "E11.9"}:
            share += dx.COMORBID_BOOST[condition.code]
        if rng.random() >= share:
            continue
        old_enough = add_years(birth, condition.min_age)  # never diagnosed before the condition's minimum age
        if old_enough > today:
            continue
        if rng.random() < KNOWN_BEFORE_JOINING:
            earliest = max(birth + timedelta(days=365), joined - timedelta(days=3650), old_enough)
            diagnosed = _random_day(rng, earliest, joined) if earliest < joined else max(joined, old_enough)
        else:
            diagnosed = _random_day(rng, max(joined, old_enough), today)
        plans.append(ChronicPlan(condition, diagnosed, dx.choose_regimen(rng, condition.regimens)))
        codes.add(condition.code)
    return plans


def timeline(rng: random.Random, birth: date, sex: str, start: date, today: date, now: datetime,
             *, until: datetime | None = None) -> tuple[list[Event], list[ChronicPlan]]:
    """Visits between ``start`` and ``until`` (default: the start of ``today``), in time order.

    Stays that would still be going on at ``now`` are dropped: current inpatients are placed
    deliberately (demo.today), so that no two of them share a bed.
    """
    limit = until or datetime.combine(today, datetime.min.time(), VN_TZ)
    first = max(start, birth + timedelta(days=1))
    joined = first if rng.random() < 0.45 else _random_day(rng, first, limit.date())
    age_now = age_on(birth, today)
    plans = chronic_plans(rng, age_now, sex, joined, today, birth)
    events: list[Event] = []
    years = max(0.0, (limit.date() - joined).days / 365.25)
    mid_age = age_on(birth, joined + (limit.date() - joined) / 2)
    female_fertile = sex == "female"

    for _ in range(poisson_count(rng, _rate(mid_age, OUTPATIENT_RATE) * years) + (0 if plans else 1)):
        when = _clinic_time(rng, _random_day(rng, joined, limit.date()))
        age = age_on(birth, when.date())
        events.append(Event("outpatient", when, dx.draw_case(rng, "acute", age, sex, when.month)))
    er_rate = _rate(mid_age, EMERGENCY_RATE) * (1.5 if sex == "male" and 16 <= mid_age < 40 else 1.0)
    for _ in range(poisson_count(rng, er_rate * years)):
        day = _random_day(rng, joined, limit.date())
        when = at(day, ER_HOURS.pick(rng), rng.randrange(60), rng.randrange(60))
        case = dx.draw_case(rng, "emergency", age_on(birth, day), sex, when.month)
        visit = Event("emergency", when, case)
        events.append(visit)
        if case.admit and rng.random() < case.admit:
            visit.admitted = True
            admission = dx.ADMISSIONS[case.admit_as or case.code]
            admitted = when + timedelta(minutes=rng.randint(60, 240))
            events.append(_admission(rng, admission, admitted, via_emergency=True))
    for _ in range(poisson_count(rng, _rate(mid_age, ADMISSION_RATE) * years)):
        when = _clinic_time(rng, _random_day(rng, joined, limit.date()))
        admission = dx.draw_case(rng, "admission", age_on(birth, when.date()), sex, when.month)
        events.append(_admission(rng, admission, when))
    if female_fertile:
        for _ in range(poisson_count(rng, BIRTH_RATE * years)):
            day = _random_day(rng, joined, limit.date())
            if not 18 <= age_on(birth, day) <= 42:
                continue
            code = "O82" if rng.random() < dx.BIRTH_CAESAREAN_SHARE else "O80"
            when = at(day, ER_HOURS.pick(rng), rng.randrange(60))
            events.append(_admission(rng, dx.ADMISSIONS[code], when))

    if plans:
        months = max(FOLLOW_UP_MONTHS.pick(rng), 3 if all(p.condition.code == "B18.1" for p in plans) else 1)
        first_visit = max(joined, min(p.diagnosed for p in plans))
        day = first_visit
        while day < limit.date():
            active = [p for p in plans if p.diagnosed <= day]
            if active and (day == first_visit or rng.random() >= MISSED_VISIT):
                events.append(Event("followup", _clinic_time(rng, day), chronic=active, supply_days=30 * months))
            day += timedelta(days=30 * months + rng.randint(-4, 4))

    events = [e for e in events if e.start < limit]
    return _without_overlaps(sorted(events, key=lambda e: e.start), min(now, limit)), plans


def _admission(rng: random.Random, admission: dx.Admission, when: datetime, *, via_emergency: bool = False) -> Event:
    days = max(1, round(lognormal_mean(rng, *admission.los)))
    discharge = (when + timedelta(days=days)).replace(hour=rng.choice((9, 10, 14, 15)), minute=rng.randrange(60))
    return Event("admission", when, admission, discharge, via_emergency)


def _without_overlaps(events: list[Event], cutoff: datetime) -> list[Event]:
    """Drop visits during a hospital stay, stays that overlap an earlier one and stays not over by ``cutoff``."""
    kept: list[Event] = []
    busy_until: datetime | None = None
    for event in events:
        if busy_until is not None and event.start < busy_until:
            continue
        if event.kind == "admission":
            assert event.end is not None
            if event.end > cutoff:
                if kept and kept[-1].kind == "emergency":
                    kept[-1].admitted = False
                continue
            busy_until = event.end
        kept.append(event)
    for i, event in enumerate(kept):  # an admission dropped for overlap leaves its emergency visit
        if event.kind == "emergency" and event.admitted:
            following = kept[i + 1] if i + 1 < len(kept) else None
            event.admitted = following is not None and following.kind == "admission" and following.via_emergency
    return kept
