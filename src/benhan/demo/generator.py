"""The demo data set: shared resources (hospital, staff) and one independent chart per patient.

``DemoSpec`` says what to generate; :class:`Generator` turns patient number ``i`` into its list of
resources, always the same for the same spec, whichever process asks and in whatever order. Nothing
is kept between patients, so memory does not grow with the number of patients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from . import today as today_mod
from .chart import Chart, Spec
from .episodes import WRITERS
from .facility import build_facility
from .history import timeline
from .identifiers import SerialNumbers
from .population import PopulationModel
from .rand import patient_rng
from .timefmt import add_years, at

DEFAULT_FACILITY = "01999"  # Hà Nội + 999: a code no real facility is likely to have (unverified)
MAX_QUEUE, MAX_APPOINTMENTS, MAX_INPATIENTS = 60, 40, 15  # 15 keeps every current inpatient in a bed of their own


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """What to generate: ``patients`` patients with ``years`` of history up to ``today``."""

    seed: int = 1
    patients: int = 100
    years: int = 3
    facility_code: str = DEFAULT_FACILITY
    today: date = field(default_factory=date.today)
    now_hour: int = 10  # "now" is this hour of ``today``: the morning clinic queue has formed
    local_share: float = 0.85
    with_today: bool = True  # today's queue, appointments and current inpatients

    @property
    def now(self) -> datetime:
        return at(self.today, self.now_hour)

    def today_counts(self) -> tuple[int, int, int]:
        """(clinic queue, appointments, current inpatients) for this number of patients."""
        if not self.with_today:
            return 0, 0, 0
        n = self.patients
        return min(MAX_QUEUE, n // 10), min(MAX_APPOINTMENTS, n // 15), min(MAX_INPATIENTS, n // 40)


class Generator:
    def __init__(self, spec: DemoSpec) -> None:
        if spec.patients < 0 or spec.years < 1:
            raise ValueError("patients must be >= 0 and years >= 1")
        self.spec = spec
        self.facility = build_facility(spec.seed, spec.facility_code, spec.today)
        self.population = PopulationModel(self.facility.province.code, spec.local_share)
        self.serials = SerialNumbers(spec.seed)
        self.chart_spec = Spec(spec.seed, self.facility, spec.today, spec.now, add_years(spec.today, -spec.years))
        self.queue, self.appointments, self.inpatients = spec.today_counts()

    def shared(self) -> list[dict[str, Any]]:
        """The hospital, its departments, rooms, beds and staff, and the payer."""
        return list(self.facility.resources)

    def role(self, index: int) -> tuple[str | None, int]:
        """What patient ``index`` does today: (queue-arrived | queue-in-progress | appointment | inpatient, ordinal)."""
        if index < self.queue:
            return ("queue-in-progress" if index % 3 == 0 else "queue-arrived"), index
        index -= self.queue
        if index < self.appointments:
            return "appointment", index
        index -= self.appointments
        if index < self.inpatients:
            return "inpatient", index
        return None, 0

    def _chart(self, index: int) -> Chart:
        rng = patient_rng(self.spec.seed, index)
        person = self.population.person(rng, self.spec.today)
        return Chart(self.chart_spec, index, rng, person, self.serials.cccd_serial(index),
                     self.serials.bhxh_serial(index))

    def registration(self, index: int) -> list[dict[str, Any]]:
        """Only the Patient (and Coverage) of patient ``index``: the first resources of :meth:`patient`."""
        return self._chart(index).resources

    def patient(self, index: int) -> list[dict[str, Any]]:
        """All resources of patient ``index``, referenced resources before the ones that refer to them."""
        spec = self.spec
        role, ordinal = self.role(index)
        chart = self._chart(index)
        rng, person = chart.rng, chart.person
        until = None
        current = None
        if role == "inpatient":
            current = today_mod.admission_start(chart, spec.now)
            until = current[1]
        events, _ = timeline(rng, person.birth_date, person.sex, self.chart_spec.history_start, spec.today,
                                 spec.now, until=until)
        for event in events:
            WRITERS[event.kind](chart, event)
        if role in ("queue-arrived", "queue-in-progress"):
            today_mod.queue_visit(chart, ordinal, "arrived" if role == "queue-arrived" else "in-progress")
        elif role == "appointment":
            today_mod.appointment(chart, ordinal)
        elif current is not None:
            today_mod.current_admission(chart, ordinal, *current)
        return chart.resources

    def patients(self, start: int = 0, stop: int | None = None) -> Iterator[list[dict[str, Any]]]:
        for index in range(start, self.spec.patients if stop is None else stop):
            yield self.patient(index)
