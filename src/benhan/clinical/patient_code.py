"""The facility's patient management code (mã bệnh nhân): one per patient, sequential, never reused.

Design: a **counter row updated in the same transaction** as the Patient it numbers. The counter is
a FHIR ``Basic`` resource (id ``patient-code-counter-<facility code>``) written through the
Repository like everything else, so the number is versioned, audited and rolls back with a failed
registration (no gaps from failures). Several workers:

* PostgreSQL: a transaction-scoped advisory lock keyed on the counter id
  (``pg_advisory_xact_lock``) is taken before the counter is read, so concurrent registrations queue
  for the few milliseconds until the holder commits (a row lock would not cover the counter's
  first creation);
* SQLite: writers take the database lock at ``BEGIN IMMEDIATE`` (``conn.info["write"]``);
* either way, two writers that both read version *n* cannot both write version *n+1*: the history
  primary key (res_pk, version) refuses the second (a 409 "retry"), so a code is never issued twice.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select

from benhan.fhir.repository import Repository
from benhan.vn import systems
from benhan.vn.facility import parse_facility_code

EXT_COUNTER_VALUE = systems.EXT_COUNTER_VALUE  # valueInteger: the last number issued
COUNTER_TEXT = "Bộ đếm mã bệnh nhân / patient code counter"


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
        self._lock(repo)
        # The counter is the facility's bookkeeping, not the user's data: the receptionist registering
        # a patient may not write Basic resources, yet the code must advance in the same transaction.
        with repo.as_system():
            current = repo.current("Basic", self.counter_id)
            last = 0
            if current is not None and not current.deleted:
                last = _counter_value(current.resource())
            number = last + 1
            repo.update("Basic", self.counter_id, self._counter(number))
        return f"{self.prefix}{number:0{self.width}d}"

    def _lock(self, repo: Repository) -> None:
        if repo.conn.dialect.name != "postgresql":
            return
        digest = hashlib.sha256(self.counter_id.encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        repo.conn.execute(select(func.pg_advisory_xact_lock(key)))

    def _counter(self, number: int) -> dict[str, Any]:
        return {
            "resourceType": "Basic", "id": self.counter_id,
            "extension": [{"url": EXT_COUNTER_VALUE, "valueInteger": number}],
            "identifier": [{"system": systems.PROVIDER_CODE, "value": self.facility_code}],
            "code": {"text": COUNTER_TEXT},
        }


def _counter_value(resource: dict[str, Any]) -> int:
    for ext in resource.get("extension", []):
        if ext.get("url") == EXT_COUNTER_VALUE and isinstance(ext.get("valueInteger"), int):
            return int(ext["valueInteger"])
    return 0
