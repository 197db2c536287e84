"""The exam-room queue (hàng đợi khám): queue numbers, today's order, calling the next patient.

* **Queue numbers** (số thứ tự khám) are issued per exam room per hospital day by the ``counter`` row
  ``queue-counter-<room id>`` (its period is the day), advanced in the same transaction as the visit like
  the patient code (:mod:`benhan.db.counters`): a failed registration gives the number back, and
  concurrent workers queue on the row, so a number is never issued twice.
* **Order** (Luật KCB 2023 Art. 3 cl. 2): emergencies first, then the other legal priority groups
  (children under 6, pregnant women, severe disability, aged 75 or older, meritorious service), then
  everyone else; within each band by arrival (``period.start``), then by queue number.
* :func:`call_next` takes the first waiting visit of the room: ``arrived`` → ``in-progress``, the
  calling practitioner as participant ``ATND``; :func:`skip` sends a called patient who did not come
  back to the end of their band (``queue-requeued`` extension), :func:`recall` calls one out of turn.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from benhan.db.counters import next_value
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.vn import systems

from .mpi.candidates import search_resources

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the hospital day runs on local time
QUEUE_NUMBER = systems.QUEUE_NUMBER  # Encounter.identifier: số thứ tự khám (per room, per day)
EXT_QUEUE_PRIORITY = systems.EXT_QUEUE_PRIORITY  # valueCoding, repeated per group
QUEUE_PRIORITY_SYSTEM = systems.QUEUE_PRIORITY
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
EXT_REQUEUED = systems.EXT_QUEUE_REQUEUED  # valueDateTime: sent back, not there when called

# Luật KCB 2023 Art. 3 cl. 2, in the law's order (code, Vietnamese, English).
PRIORITY_GROUPS: dict[str, tuple[str, str]] = {
    "emergency": ("Cấp cứu", "Emergency"),
    "child-under-6": ("Trẻ em dưới 6 tuổi", "Child under 6"),
    "pregnant": ("Phụ nữ có thai", "Pregnant"),
    "severe-disability": ("Người khuyết tật đặc biệt nặng, nặng", "Severe disability"),
    "age-75": ("Người từ đủ 75 tuổi", "Aged 75 or older"),
    "meritorious": ("Người có công với cách mạng", "Meritorious service"),
}
WAITING, IN_PROGRESS = "arrived", "in-progress"


def local_day(moment: datetime) -> date:
    """The hospital day of an aware ``moment``."""
    return moment.astimezone(VN_TZ).date()


class DailyCounter:
    """A number sequence restarting at 1 each hospital day (a ``counter`` row, :mod:`benhan.db.counters`)."""

    def __init__(self, counter_id: str) -> None:
        self.counter_id = counter_id

    def next(self, repo: Repository, day: date) -> int:
        """Advance the counter inside ``repo``'s transaction and return the new number for ``day``."""
        return next_value(repo.conn, self.counter_id, day.isoformat())


def _lock_room(repo: Repository, room_id: str) -> None:
    """PostgreSQL: one caller at a time per room until the transaction ends (SQLite has one writer anyway)."""
    if repo.conn.dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"call-{room_id}".encode()).digest()
    repo.conn.execute(select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True))))


def queue_counter(room_id: str) -> DailyCounter:
    return DailyCounter(f"queue-counter-{room_id}")


def next_queue_number(repo: Repository, room_id: str, day: date) -> int:
    """The next queue number of exam room ``room_id`` on ``day`` (1, 2, ...), in the caller's transaction."""
    return queue_counter(room_id).next(repo, day)


# ---------------------------------------------------------------------- reading the queue


def priority_groups(encounter: dict[str, Any]) -> list[str]:
    """The legal priority groups recorded on a visit (queue-priority extensions)."""
    return [(ext.get("valueCoding") or {}).get("code", "") for ext in encounter.get("extension") or []
            if ext.get("url") == EXT_QUEUE_PRIORITY]


def priority_band(encounter: dict[str, Any]) -> int:
    """0 emergency, 1 another legal priority group, 2 everyone else."""
    groups = priority_groups(encounter)
    codes = {c.get("code") for c in (encounter.get("priority") or {}).get("coding") or []}
    if "emergency" in groups or "EM" in codes:
        return 0
    if groups or "UR" in codes:
        return 1
    return 2


def queue_number(encounter: dict[str, Any]) -> str | None:
    return next((i.get("value") for i in encounter.get("identifier") or [] if i.get("system") == QUEUE_NUMBER),
                None)


def started(encounter: dict[str, Any]) -> datetime | None:
    value = (encounter.get("period") or {}).get("start")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)


def requeued(encounter: dict[str, Any]) -> datetime | None:
    value = next((e.get("valueDateTime") for e in encounter.get("extension") or [] if e.get("url") == EXT_REQUEUED),
                 None)
    return started({"period": {"start": value}}) if value else None


def queue_key(encounter: dict[str, Any]) -> tuple[int, float, int, str]:
    """Band, then arrival (or the time the patient was sent back to the queue), then queue number."""
    moment = requeued(encounter) or started(encounter)
    number = queue_number(encounter)
    return (priority_band(encounter), moment.timestamp() if moment else 0.0,
            int(number) if number and number.isdigit() else 0, encounter.get("id", ""))


def room_of(encounter: dict[str, Any]) -> str | None:
    ref = ((encounter.get("location") or [{}])[0].get("location") or {}).get("reference", "")
    return ref.split("/", 1)[1] if ref.startswith("Location/") else None


@dataclass(frozen=True, slots=True)
class RoomQueue:
    waiting: list[dict[str, Any]]  # ordered: next to call first
    in_progress: list[dict[str, Any]]  # by arrival


def today_queue(repo: Repository, room_id: str, now: datetime, *, limit: int = 500) -> RoomQueue:
    """Today's visits of exam room ``room_id`` that wait or are being seen, in calling order."""
    found = search_resources(repo, "Encounter", [("location", f"Location/{room_id}"),
                                                 ("status", f"{WAITING},{IN_PROGRESS}")], limit)
    day = local_day(now)
    today = [e for e in found if room_of(e) == room_id and (m := started(e)) is not None and local_day(m) == day]
    waiting = sorted((e for e in today if e.get("status") == WAITING), key=queue_key)
    busy = sorted((e for e in today if e.get("status") == IN_PROGRESS), key=lambda e: queue_key(e)[1:])
    return RoomQueue(waiting, busy)


# ---------------------------------------------------------------------- calling


def call_next(repo: Repository, room_id: str, practitioner_id: str | None, now: datetime, *,
              participation: str = "ATND") -> dict[str, Any] | None:
    """Call the first waiting patient of the room: status ``in-progress``, ``ATND`` = the practitioner.

    ``participation`` is the v3-ParticipationType of the caller: ``ATND`` for the doctor who sees the
    patient, ``PART`` when a nurse calls the patient in for the doctor.

    Returns the updated Encounter, or None when nobody waits. Two doctors calling at once cannot get
    the same patient: the update is conditional on the version read (412 for the slower one), and on
    PostgreSQL the room is locked for the transaction first.
    """
    _lock_room(repo, room_id)
    queue = today_queue(repo, room_id, now)
    if not queue.waiting:
        return None
    stored = repo.read("Encounter", queue.waiting[0]["id"])
    encounter = stored.resource()
    if encounter.get("status") != WAITING:
        raise FhirError.one(409, "conflict", "Người bệnh này vừa được gọi; hãy gọi lại",
                            "This patient was just called; call again")
    return _start(repo, encounter, practitioner_id, now, stored.version, participation)


def recall(repo: Repository, encounter_id: str, practitioner_id: str | None, now: datetime, *,
           participation: str = "ATND") -> dict[str, Any]:
    """Call a particular waiting patient (out of turn, e.g. one who was not there when called)."""
    stored = repo.read("Encounter", encounter_id)
    encounter = stored.resource()
    if encounter.get("status") != WAITING:
        raise FhirError.one(409, "business-rule", "Lượt khám không còn ở trạng thái chờ",
                            "The visit is not waiting any more")
    return _start(repo, encounter, practitioner_id, now, stored.version, participation)


def _start(repo: Repository, encounter: dict[str, Any], practitioner_id: str | None, now: datetime,
           version: int, participation: str = "ATND") -> dict[str, Any]:
    stamp = now.astimezone(VN_TZ).isoformat(timespec="seconds")
    history = list(encounter.get("statusHistory") or [])
    history.append({"status": WAITING, "period": {k: v for k, v in
                                                  (("start", (encounter.get("period") or {}).get("start")),
                                                   ("end", stamp)) if v}})
    encounter["statusHistory"] = history
    encounter["status"] = IN_PROGRESS
    for loc in encounter.get("location") or []:
        loc["status"] = "active"
    if practitioner_id:
        participants = [p for p in encounter.get("participant") or [] if not any(
            c.get("code") == participation for t in p.get("type") or [] for c in t.get("coding") or [])]
        display = "attender" if participation == "ATND" else "participation"
        participants.append({"type": [{"coding": [{"system": PARTICIPATION, "code": participation,
                                                   "display": display}]}],
                             "period": {"start": stamp},
                             "individual": {"reference": f"Practitioner/{practitioner_id}"}})
        encounter["participant"] = participants
    result = repo.update("Encounter", encounter["id"], encounter, if_match=f'W/"{version}"')
    assert result.stored is not None
    return result.stored.resource()


def skip(repo: Repository, encounter_id: str, now: datetime) -> dict[str, Any]:
    """A called patient did not come in: back to ``arrived``, behind those of the same band waiting now."""
    stored = repo.read("Encounter", encounter_id)
    encounter = stored.resource()
    if encounter.get("status") != IN_PROGRESS:
        raise FhirError.one(409, "business-rule", "Lượt khám không ở trạng thái đang khám",
                            "The visit is not being seen")
    stamp = now.astimezone(VN_TZ).isoformat(timespec="seconds")
    history = list(encounter.get("statusHistory") or [])
    called = (history[-1].get("period") or {}).get("end") if history else None
    history.append({"status": IN_PROGRESS, "period": {k: v for k, v in (("start", called), ("end", stamp)) if v}})
    encounter["statusHistory"] = history
    encounter["status"] = WAITING
    for loc in encounter.get("location") or []:
        loc["status"] = "planned"
    for participant in encounter.get("participant") or []:
        period = participant.setdefault("period", {})
        period.setdefault("end", stamp)
    encounter["extension"] = [e for e in encounter.get("extension") or [] if e.get("url") != EXT_REQUEUED]
    encounter["extension"].append({"url": EXT_REQUEUED, "valueDateTime": stamp})
    result = repo.update("Encounter", encounter_id, encounter, if_match=f'W/"{stored.version}"')
    assert result.stored is not None
    return result.stored.resource()
