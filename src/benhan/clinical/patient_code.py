"""The facility's patient management code (mã bệnh nhân): one per patient, sequential, never reused.

The number comes from the ``counter`` row ``patient-code-counter-<facility code>``, advanced in the same
transaction as the Patient it numbers (:func:`benhan.db.counters.next_value`): a failed registration gives
its number back (no gaps), and concurrent registrations queue on the row until the holder commits, so a
code is never issued twice.
"""

from __future__ import annotations

from benhan.db.counters import next_value
from benhan.fhir.repository import Repository
from benhan.vn.facility import parse_facility_code


class PatientCodeAllocator:
    """Issues ``<prefix><number, zero-padded to width>`` for one facility (``BN00000001``...)."""

    def __init__(self, facility_code: str, *, prefix: str = "", width: int = 8) -> None:
        self.facility_code = parse_facility_code(facility_code).value
        self.prefix = prefix
        self.width = width

    @property
    def counter_id(self) -> str:
        return f"patient-code-counter-{self.facility_code}"

    def next_code(self, repo: Repository) -> str:
        """Advance the counter inside ``repo``'s transaction and return the new code."""
        number = next_value(repo.conn, self.counter_id)
        return f"{self.prefix}{number:0{self.width}d}"
