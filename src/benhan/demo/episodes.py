"""Visits turned into FHIR resources: outpatient visits, chronic follow-ups, emergency visits and
hospital stays, each with its encounter, diagnoses, vital signs, orders, results and prescriptions.

Which work-up and which drugs go with which diagnosis is in :mod:`benhan.demo.diagnoses`; how often
people come is in :mod:`benhan.demo.history`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from . import diagnoses as dx
from .chart import Chart
from .drugs import PENICILLINS, medication_request, prescription_code
from .facility import ClinicRoom, Staff, Unit
from .history import Event
from .imaging import imaging_order
from .labs import lab_order
from .timefmt import at
from .vitals import VitalContext, vital_signs

SPECIALIST_ROOMS = {"mat", "tmh", "rhm", "dalieu", "san", "truyennhiem"}
ADULT_SIGNS = ("bp", "hr", "temp", "weight")
CHILD_SIGNS = ("hr", "temp", "rr", "weight")


def room_for(chart: Chart, clinic: str, age: int) -> ClinicRoom:
    key = clinic if age >= 16 or clinic in SPECIALIST_ROOMS else "nhi"
    return chart.spec.facility.clinic(chart.rng, key)


def signs_for(age: int, respiratory: bool, *, height: bool) -> tuple[str, ...]:
    signs = CHILD_SIGNS if age < 12 else ADULT_SIGNS
    if respiratory:
        signs = (*signs, "rr", "spo2") if age >= 12 else (*signs, "spo2")
    if height:
        signs = (*signs, "height")
    return signs


def record_vitals(chart: Chart, when: datetime, eid: str, nurse: Staff, signs: tuple[str, ...],
                  ctx: VitalContext) -> None:
    for obs in vital_signs(chart.rng, chart.physique, when, ctx, which=signs, patient_ref=chart.patient_ref,
                           encounter_ref=f"Encounter/{eid}", performer=nurse.ref, new_id=chart.new_id):
        chart.add(obs)


def _hypertension(chart: Chart) -> tuple[bool, bool]:
    hypertensive = any(p.condition.code == "I10" and p.recorded for p in chart.plans)
    return hypertensive, chart.rng.random() < 0.6


def _needs_height(chart: Chart, day: date) -> bool:
    """Children are measured at every visit, adults once."""
    if chart.age(day) < 6:
        return True
    if not chart.height_measured:
        chart.height_measured = True
        return True
    return False


def _orders(chart: Chart, eid: str, when: datetime, doctor: Staff, labs: list[str], studies: list[str],
            diagnosis: str | None, state: str | None, priority: str = "routine") -> None:
    facility = chart.spec.facility
    lab_unit, imaging_unit = facility.units["xn"], facility.units["cdha"]
    for panel in labs:
        for resource in lab_order(chart.rng, panel, chart.lab_state(state, {diagnosis} if diagnosis else None),
                                  new_id=chart.new_id, patient_ref=chart.patient_ref,
                                  encounter_ref=f"Encounter/{eid}", requester=doctor.ref,
                                  performer=lab_unit.org_ref, ordered=when, priority=priority):
            chart.add(resource)
        chart.last_done[panel] = when.date()
    for study in studies:
        reader = chart.rng.choice(imaging_unit.doctors)
        for resource in imaging_order(chart.rng, study, diagnosis, new_id=chart.new_id, patient_ref=chart.patient_ref,
                                      encounter_ref=f"Encounter/{eid}", requester=doctor.ref, reader=reader.ref,
                                      ordered=when, priority=priority):
            chart.add(resource)
        chart.last_done[study] = when.date()


def _pick(chart: Chart, options: dx.Options) -> list[str]:
    return [key for key, probability in options if chart.rng.random() < probability]


def _prescribe(chart: Chart, eid: str, when: datetime, doctor: Staff, regimen: tuple[str, ...], days: int,
               reason_id: str | None, *, age: int, category: str = "outpatient", group: bool = True) -> None:
    if age < 2:
        regimen = tuple(r for r in regimen if r in ("oresol", "paracetamol"))
    if chart.allergy == "Penicillin":
        regimen = tuple("azithromycin" if r in PENICILLINS else r for r in regimen)
    if chart.allergy and chart.allergy.startswith("Thuốc chống viêm"):
        regimen = tuple("paracetamol" if r == "meloxicam" else r for r in regimen)
    regimen = tuple(dict.fromkeys(regimen))
    if not regimen:
        return
    electronic = group and category in ("outpatient", "discharge")  # sent to the national prescription system
    code = prescription_code(chart.rng, chart.spec.facility.code) if electronic else None
    for key in regimen:
        ends = when + timedelta(days=days)
        status = "completed" if ends < chart.spec.now else "active"
        request = medication_request(key, days, patient_ref=chart.patient_ref, encounter_ref=f"Encounter/{eid}",
                                     requester=doctor.ref, authored=when, group_code=code,
                                     reason_ref=f"Condition/{reason_id}" if reason_id else None, status=status,
                                     category=category, child=age < 12)
        chart.add(request)


def outpatient(chart: Chart, event: Event) -> None:
    case: dx.Case = event.case
    rng, facility = chart.rng, chart.spec.facility
    start = event.start
    age = chart.age(start.date())
    room = room_for(chart, case.clinic, age)
    doctor, nurse = rng.choice(room.doctors), rng.choice(facility.units["K01"].nurses)
    labs, studies = _pick(chart, case.labs), _pick(chart, case.imaging)
    end = start + timedelta(minutes=rng.randint(15, 45) + (120 if labs or studies else 0))
    eid = chart.new_id()
    abated = start + timedelta(days=case.days + rng.randint(0, 7)) if case.days else end
    condition = chart.add(chart.condition(case.code, category="encounter-diagnosis", onset=start - timedelta(
        days=rng.randint(1, 5)), recorded=end, encounter_id=eid, asserter=doctor, abated=abated))
    chart.record_allergy(start, doctor)
    hypertensive, controlled = _hypertension(chart)
    signs = signs_for(age, case.respiratory, height=_needs_height(chart, start.date()))
    record_vitals(chart, start + timedelta(minutes=5), eid, nurse, signs,
                  VitalContext(case.fever, case.respiratory, hypertensive, controlled))
    _orders(chart, eid, start + timedelta(minutes=15), doctor, labs, studies, case.code, case.state)
    _prescribe(chart, eid, end, doctor, dx.choose_regimen(rng, case.drugs), case.days, condition["id"], age=age)
    chart.add(chart.encounter(eid, "AMB", "finished", start, end, type_text="Khám bệnh ngoại trú", doctor=doctor,
                              provider=facility.units["K01"].org_ref, locations=[room.location_ref],
                              diagnoses=[(condition["id"], "DD"), *chart.chronic_diagnoses()]))


def followup(chart: Chart, event: Event) -> None:
    rng, facility = chart.rng, chart.spec.facility
    start = event.start
    age = chart.age(start.date())
    main = event.chronic[0]
    room = room_for(chart, main.condition.clinic, age)
    doctor, nurse = rng.choice(room.doctors), rng.choice(facility.units["K01"].nurses)
    eid = chart.new_id()
    end = start + timedelta(minutes=rng.randint(10, 30))
    for plan in event.chronic:
        if not plan.recorded:
            condition = chart.add(chart.condition(plan.condition.code, category="problem-list-item",
                                                  onset=plan.diagnosed, recorded=end, encounter_id=eid,
                                                  asserter=doctor))
            plan.condition_id, plan.recorded = condition["id"], True
            if plan not in chart.plans:
                chart.plans.append(plan)
    chart.record_allergy(start, doctor)
    hypertensive, controlled = _hypertension(chart)
    record_vitals(chart, start + timedelta(minutes=5), eid, nurse, signs_for(age, False, height=_needs_height(
        chart, start.date())), VitalContext(hypertensive=hypertensive, controlled=controlled))
    labs: list[str] = []
    studies: list[str] = []
    for plan in event.chronic:
        for panel, months in plan.condition.labs:
            last = chart.last_done.get(panel)
            if panel not in labs and (last is None or (start.date() - last).days >= 30 * months - 7):
                labs.append(panel)
        for study, months in plan.condition.imaging:
            last = chart.last_done.get(study)
            if study not in studies and (last is None or (start.date() - last).days >= 30 * months - 7):
                studies.append(study)
    if "glucose" in labs and "biochem" in labs:
        labs.remove("glucose")
    _orders(chart, eid, start + timedelta(minutes=10), doctor, labs, studies, main.condition.code, None)
    regimen = tuple(drug for plan in event.chronic for drug in plan.regimen)
    _prescribe(chart, eid, end, doctor, regimen, min(event.supply_days, 90), main.condition_id, age=age)
    diagnoses = [(main.condition_id, "DD")] + [(p.condition_id, "CM") for p in chart.plans
                                              if p.recorded and p is not main]
    chart.add(chart.encounter(eid, "AMB", "finished", start, end, type_text="Khám bệnh mạn tính định kỳ",
                              doctor=doctor, provider=facility.units["K01"].org_ref, locations=[room.location_ref],
                              diagnoses=diagnoses))


def emergency(chart: Chart, event: Event) -> None:
    case: dx.Case = event.case
    rng, facility = chart.rng, chart.spec.facility
    unit = facility.units["K02"]
    start = event.start
    age = chart.age(start.date())
    doctor, nurse = rng.choice(unit.doctors), rng.choice(unit.nurses)
    eid = chart.new_id()
    end = start + timedelta(minutes=rng.randint(50, 240))
    abated = start + timedelta(days=(7 if event.admitted else case.days) + rng.randint(0, 7))
    condition = chart.add(chart.condition(case.code, category="encounter-diagnosis", onset=start - timedelta(
        hours=rng.randint(1, 48)), recorded=start + timedelta(minutes=30), encounter_id=eid, asserter=doctor,
        abated=abated))
    diagnoses = [(condition["id"], "DD")]
    if case.injury and rng.random() < case.injury:
        cause = chart.add(chart.condition("V29.9", category="encounter-diagnosis", onset=start - timedelta(hours=1),
                                          recorded=start + timedelta(minutes=30), encounter_id=eid, asserter=doctor,
                                          abated=start))
        diagnoses.append((cause["id"], "CM"))
    chart.record_allergy(start, doctor)
    hypertensive, controlled = _hypertension(chart)
    signs = ("bp", "hr", "temp", "rr", "spo2", "weight") if age >= 12 else ("hr", "temp", "rr", "spo2", "weight")
    record_vitals(chart, start + timedelta(minutes=3), eid, nurse, signs,
            VitalContext(case.fever, case.respiratory, hypertensive, controlled))
    _orders(chart, eid, start + timedelta(minutes=10), doctor, _pick(chart, case.labs), _pick(chart, case.imaging),
            case.code, case.state, priority="stat")
    if not event.admitted:
        _prescribe(chart, eid, end, doctor, dx.choose_regimen(rng, case.drugs), case.days, condition["id"], age=age)
    chart.add(chart.encounter(
        eid, "EMER", "finished", start, end, type_text="Cấp cứu", doctor=doctor, provider=unit.org_ref,
        locations=[unit.location_ref], diagnoses=[*diagnoses, *chart.chronic_diagnoses()],
        priority={"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActPriority", "code": "EM",
                              "display": "emergency"}], "text": "Cấp cứu"}))


def ward_unit(chart: Chart, admission: dx.Admission, age: int) -> Unit:
    code = admission.child_department if age < 16 and admission.child_department else admission.department
    return chart.spec.facility.units[code]


def admission(chart: Chart, event: Event, *, bed: tuple[str, str] | None = None) -> None:
    """A hospital stay; ``event.end`` None means the patient is still in hospital (status in-progress)."""
    case: dx.Admission = event.case
    rng = chart.rng
    start = event.start
    age = chart.age(start.date())
    unit = ward_unit(chart, case, age)
    doctor = rng.choice(unit.doctors)
    bed_id, bed_name = bed or rng.choice(unit.beds)
    eid = chart.new_id()
    end = event.end
    last = end or chart.spec.now
    abated = end + timedelta(days=rng.randint(3, 14)) if end else None
    condition = chart.add(chart.condition(case.code, category="encounter-diagnosis",
                                          onset=start - timedelta(hours=rng.randint(2, 72)), recorded=start,
                                          encounter_id=eid, asserter=doctor, abated=abated))
    chart.record_allergy(start, doctor)
    hypertensive, controlled = _hypertension(chart)
    day, number = start.date(), 0
    fever_days = max(1, int(((last - start).days + 1) * 0.4)) if case.fever else 0
    while True:
        moment = start + timedelta(minutes=20) if number == 0 else at(day, 7, rng.randint(0, 50))
        if moment > last:
            break
        nurse = rng.choice(unit.nurses)
        signs = ("bp", "hr", "temp", "rr", "spo2", "weight") if number == 0 else \
            ("bp", "hr", "temp", "rr", "spo2") if case.respiratory else ("bp", "hr", "temp")
        if age < 12:
            signs = tuple(s for s in signs if s != "bp")
        context = VitalContext(number < fever_days, case.respiratory and number < 3, hypertensive, controlled)
        record_vitals(chart, moment, eid, nurse, signs, context)
        if number > 0 and case.daily_labs:
            _orders(chart, eid, moment + timedelta(minutes=30), doctor, list(case.daily_labs), [], case.code,
                    case.state)
        number += 1
        day += timedelta(days=1)
    priority = "stat" if event.via_emergency else "routine"
    _orders(chart, eid, start + timedelta(minutes=40), doctor, list(case.labs), list(case.imaging), case.code,
            case.state, priority)
    stay = max(1, (last - start).days)
    planned = stay if end else stay + rng.randint(2, 6)
    _prescribe(chart, eid, start + timedelta(hours=1), doctor, case.ward_drugs, planned, condition["id"], age=age,
               category="inpatient", group=False)
    if end is not None:
        if stay >= 5 and "cbc" not in case.daily_labs:
            _orders(chart, eid, at((end - timedelta(days=1)).date(), 7, 30), doctor, ["cbc"], [], case.code, None)
        _prescribe(chart, eid, end - timedelta(hours=1), doctor, case.discharge_drugs, 7, condition["id"], age=age,
                   category="discharge")
    source = "emd" if event.via_emergency else "outp"
    hospitalization: dict[str, Any] = {"admitSource": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/admit-source", "code": source}],
        "text": "Vào viện qua Khoa Cấp cứu" if event.via_emergency else "Vào viện qua Khoa Khám bệnh"}}
    if end is not None:
        hospitalization["dischargeDisposition"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "home"}],
            "text": "Ra viện"}
    extra: dict[str, Any] = {"hospitalization": hospitalization}
    if end is not None:
        extra["length"] = {"value": stay, "unit": "ngày", "system": "http://unitsofmeasure.org", "code": "d"}
    encounter = chart.encounter(
        eid, "IMP", "finished" if end else "in-progress", start, end, type_text="Điều trị nội trú", doctor=doctor,
        provider=unit.org_ref, diagnoses=[(condition["id"], "AD"), *chart.chronic_diagnoses()],
        locations=[unit.location_ref, {"reference": f"Location/{bed_id}", "display": f"{unit.name} - {bed_name}"}],
        **extra)
    chart.add(encounter)


WRITERS = {"outpatient": outpatient, "followup": followup, "emergency": emergency, "admission": admission}
