"""Break-glass ("phá kính"): a clinician outside the care relationship opens one patient's record in
an emergency, giving a reason. The grant is time-limited, every access under it is audited with the
purpose ``BTG``, and grants are listed for review by the head of department (and auditors).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from benhan.fhir.clock import Clock, system_clock, to_instant

from .tables import break_glass

MIN_REASON = 10


class BreakGlassError(Exception):
    def __init__(self, status: int, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.status, self.vi, self.en = status, vi, en


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    username: str
    patient_id: str
    reason: str
    departments: str
    granted: int
    expires: int

    @property
    def granted_at(self) -> str:
        return to_instant(self.granted)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "user": self.username, "patient": f"Patient/{self.patient_id}", "reason": self.reason,
                "departments": [d for d in self.departments.split(",") if d], "granted": to_instant(self.granted),
                "expires": to_instant(self.expires)}


def open_grant(conn: Connection, *, user_id: int, username: str, departments: tuple[str, ...], patient_id: str,
               reason: str, minutes: int, clock: Clock = system_clock) -> Grant:
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise BreakGlassError(400, f"Cần ghi rõ lý do (ít nhất {MIN_REASON} ký tự)",
                              f"A reason of at least {MIN_REASON} characters is required")
    now = clock()
    values = {"user_id": user_id, "username": username, "patient_id": patient_id, "reason": reason[:1000],
              "departments": ",".join(departments), "granted": now, "expires": now + minutes * 60 * 1_000_000}
    gid = conn.execute(insert(break_glass).returning(break_glass.c.id), values).scalar_one()
    return Grant(gid, username, patient_id, values["reason"], values["departments"], now, values["expires"])


def list_grants(conn: Connection, *, department: str | None = None, departments: tuple[str, ...] | None = None,
                limit: int = 500) -> list[Grant]:
    """Most recent first; restricted to grants made by staff of ``department(s)`` when given."""
    b = break_glass
    stmt = select(b.c.id, b.c.username, b.c.patient_id, b.c.reason, b.c.departments, b.c.granted, b.c.expires)
    wanted = [department] if department else list(departments or [])
    rows = conn.execute(stmt.order_by(b.c.granted.desc()).limit(limit)).all()
    grants = [Grant(*row) for row in rows]
    if department is not None or departments is not None:
        grants = [g for g in grants if set(g.departments.split(",")) & set(wanted)]
    return grants
