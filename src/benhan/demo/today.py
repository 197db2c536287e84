"""Today at the hospital: the clinic queue (Encounters ``arrived`` and ``in-progress``), the
appointments booked for today (Appointment ``booked``; R4 has no ``planned`` Appointment status) and
the patients currently in the wards (Encounter ``in-progress``, each in a bed of their own).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import diagnoses as dx
from .chart import Chart
from .episodes import admission, record_vitals, room_for, signs_for, ward_unit
from .history import ER_HOURS, Event
from .timefmt import at, fhir_datetime
from .vitals import VitalContext

COMPLAINTS = {  # chief complaint (lý do khám) shown in the queue, by the diagnosis the visit will get
    "J06.9": "Sốt, sổ mũi, đau họng 2 ngày", "J02.9": "Đau họng, nuốt vướng", "J20.9": "Ho có đờm 5 ngày",
    "J18.9": "Sốt cao, ho, khó thở", "A09": "Đau bụng, đi ngoài phân lỏng", "K29.7": "Đau thượng vị",
    "M54.5": "Đau thắt lưng", "M17.9": "Đau khớp gối khi đi lại", "R51": "Đau đầu", "H10.9": "Đỏ mắt, chảy nước mắt",
    "A97.0": "Sốt cao liên tục 3 ngày", "N39.0": "Tiểu buốt, tiểu rắt", "R53": "Mệt mỏi, muốn kiểm tra sức khỏe",
}


def queue_visit(chart: Chart, ordinal: int, status: str) -> None:
    """A patient registered this morning, waiting (``arrived``) or being seen (``in-progress``)."""
    rng, spec = chart.rng, chart.spec
    arrived = min(at(spec.today, 7, 0) + timedelta(minutes=4 * ordinal + rng.randint(0, 3)),
                  spec.now - timedelta(minutes=5))
    age = chart.age(spec.today)
    case = dx.draw_case(rng, "acute", age, chart.person.sex, spec.today.month)
    room = room_for(chart, case.clinic, age)
    doctor = rng.choice(room.doctors)
    eid = chart.new_id()
    if status == "in-progress":
        nurse = rng.choice(spec.facility.units["K01"].nurses)
        signs = signs_for(age, case.respiratory, height=age < 6)
        record_vitals(chart, arrived + timedelta(minutes=10), eid, nurse, signs,
                      VitalContext(case.fever, case.respiratory))
    encounter = chart.encounter(eid, "AMB", status, arrived, None, type_text="Khám bệnh ngoại trú", doctor=doctor,
                                provider=spec.facility.units["K01"].org_ref, locations=[room.location_ref],
                                reasonCode=[{"text": COMPLAINTS.get(case.code, "Khám bệnh")}])
    if status == "arrived":
        del encounter["participant"]  # not yet called in by a doctor
    chart.add(encounter)


def appointment(chart: Chart, ordinal: int) -> None:
    """A visit booked for today (tái khám or khám theo hẹn), not yet arrived."""
    rng, spec = chart.rng, chart.spec
    plan = next((p for p in chart.plans if p.recorded), None)
    clinic = plan.condition.clinic if plan else "noi"
    room = room_for(chart, clinic, chart.age(spec.today))
    doctor = rng.choice(room.doctors)
    start = at(spec.today, 8, 0) + timedelta(minutes=15 * ordinal)
    if start.hour >= 11:
        start += timedelta(hours=2)  # lunch break 11:30-13:30
    resource = {
        "resourceType": "Appointment", "status": "booked",
        "serviceType": [{"text": "Khám bệnh"}],
        "appointmentType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0276",
                                        "code": "FOLLOWUP" if plan else "ROUTINE"}],
                            "text": "Tái khám" if plan else "Khám theo hẹn"},
        "description": f"Tái khám {dx.display(plan.condition.code).lower()}" if plan else "Khám bệnh theo lịch hẹn",
        "start": fhir_datetime(start), "end": fhir_datetime(start + timedelta(minutes=15)), "minutesDuration": 15,
        "created": fhir_datetime(start - timedelta(days=rng.randint(1, 30))),
        "participant": [
            {"actor": {"reference": chart.patient_ref}, "required": "required", "status": "accepted"},
            {"actor": doctor.ref, "required": "required", "status": "accepted"},
            {"actor": room.location_ref, "required": "required", "status": "accepted"},
        ],
    }
    if plan:
        resource["reasonReference"] = [{"reference": f"Condition/{plan.condition_id}"}]
    chart.add(resource)


def admission_start(chart: Chart, now: datetime) -> tuple[dx.Admission, datetime, bool]:
    """When and why a current inpatient came in (0-8 days ago)."""
    rng = chart.rng
    age = chart.age(chart.spec.today)
    via_emergency = rng.random() < 0.6
    if via_emergency:
        for _ in range(50):
            case = dx.draw_case(rng, "emergency", age, chart.person.sex, chart.spec.today.month)
            if case.admit:
                break
        else:
            case = dx.draw_case(rng, "admission", age, chart.person.sex, chart.spec.today.month)
            via_emergency = False
        admitted = dx.ADMISSIONS[case.admit_as or case.code] if via_emergency else case
    else:
        admitted = dx.draw_case(rng, "admission", age, chart.person.sex, chart.spec.today.month)
    day = chart.spec.today - timedelta(days=rng.randint(0, 8))
    hour = ER_HOURS.pick(rng) if via_emergency else rng.choice((8, 9, 10, 14))
    start = min(at(day, hour, rng.randrange(60)), now - timedelta(hours=1))
    return admitted, start, via_emergency


def current_admission(chart: Chart, ordinal: int, admitted: dx.Admission, start: datetime,
                      via_emergency: bool) -> None:
    unit = ward_unit(chart, admitted, chart.age(start.date()))
    bed = unit.beds[ordinal % len(unit.beds)]
    admission(chart, Event("admission", start, admitted, None, via_emergency), bed=bed)
