"""Demo accounts, one per role, for ``make run`` — DEMO MODE ONLY (``BENHAN_DEMO=1``).

Each clinical account is linked to a real practitioner and department of the demo hospital so the
relationship-based access rules show what they would in a hospital. The shared password is printed
on start; outside demo mode nothing here runs, so there are no default passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select

from benhan.db import schema
from benhan.demo.facility import DEPARTMENT_CODE_SYSTEM
from benhan.security import accounts
from benhan.settings import Settings

DEMO_PASSWORD = "Zebra-Orbit-7392!"  # printed on start; demo databases only


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: str
    label: str  # Vietnamese role name
    totp_secret: str | None = None


_ACCOUNTS = (
    ("tiepdon", "reception", "Tiếp đón", None),
    ("bacsi", "doctor", "Bác sĩ", "doctor"),
    ("dieuduong", "nurse", "Điều dưỡng", "nurse"),
    ("ktv", "technician", "Kỹ thuật viên", None),
    ("duocsi", "pharmacist", "Dược sĩ", None),
    ("thungan", "cashier", "Thu ngân", None),
    ("truongkhoa", "head-of-department", "Trưởng khoa", "doctor2"),
    ("quantri", "admin", "Quản trị", None),
    ("kiemtra", "auditor", "Kiểm tra", None),
    ("benhnhan", "patient", "Người bệnh", None),
)


def ensure_demo_accounts(engine: Engine, settings: Settings) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet; return all of them (for printing)."""
    if not settings.demo:
        raise RuntimeError("demo accounts exist only in demo mode (BENHAN_DEMO=1)")
    out: list[DemoAccount] = []
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            roles = _practitioner_roles(conn)
            patient_id = _first(conn, "Patient")
            for username, role, label, kind in _ACCOUNTS:
                user = accounts.get_user(conn, username)
                if user is None:
                    link: dict[str, Any] = {}
                    if kind and roles.get(kind):
                        practitioner, department = roles[kind]
                        link = {"practitioner_id": practitioner, "departments": [department]}
                    if role == "patient":
                        if patient_id is None:
                            continue
                        link = {"patient_id": patient_id}
                    user, _ = accounts.add_user(conn, settings, username=username, display_name=f"{label} (demo)",
                                                roles=[role], password=DEMO_PASSWORD, **link)
                out.append(DemoAccount(username, role, label, user.totp_secret))
    return out


OUTPATIENT_DEPARTMENT = "K01"  # Khoa Khám bệnh: manages the exam rooms where today's queue waits


def _practitioner_roles(conn: Any) -> dict[str, tuple[str, str]]:
    """Doctors and nurses of the outpatient department, by account kind: (practitioner id, department id).

    ``doctor`` and ``doctor2`` are two different doctors (the second for the head of department), so a
    demo can show one doctor unable to change what another signed.
    """
    r = schema.resource
    department = None
    for (content,) in conn.execute(select(r.c.content).where(r.c.type == "Organization", r.c.deleted.is_(False))
                                   .order_by(r.c.pk).limit(500)):
        org = orjson.loads(content)
        if any(i.get("system") == DEPARTMENT_CODE_SYSTEM and i.get("value") == OUTPATIENT_DEPARTMENT
               for i in org.get("identifier") or []):
            department = org["id"]
            break
    found: dict[str, tuple[str, str]] = {}
    rows = conn.execute(select(r.c.content).where(r.c.type == "PractitionerRole", r.c.deleted.is_(False))
                        .order_by(r.c.pk).limit(2000))
    for (content,) in rows:
        role = orjson.loads(content)
        codes = {c.get("code") for cc in role.get("code") or [] for c in cc.get("coding") or []}
        practitioner = (role.get("practitioner") or {}).get("reference", "")
        org = (role.get("organization") or {}).get("reference", "")
        if not practitioner or not org or (department and org != f"Organization/{department}"):
            continue
        for kind in ("doctor", "nurse"):
            if kind in codes:
                key = kind if kind not in found else f"{kind}2"
                found.setdefault(key, (practitioner.split("/", 1)[1], org.split("/", 1)[1]))
    return found


def _first(conn: Any, rtype: str) -> str | None:
    r = schema.resource
    row = conn.execute(select(r.c.id).where(r.c.type == rtype, r.c.deleted.is_(False)).order_by(r.c.pk)
                       .limit(1)).first()
    return row[0] if row else None


def print_logins(demo_accounts: list[DemoAccount], base: str) -> str:
    """The banner printed by ``make run``."""
    lines = ["", "=" * 78, "  TÀI KHOẢN DEMO — CHỈ DÙNG THỬ / DEMO ACCOUNTS — DEMO ONLY, NEVER IN PRODUCTION",
             f"  Mật khẩu chung / shared password: {DEMO_PASSWORD}", f"  Đăng nhập / sign in: {base}/auth/login",
             "  Tiếp đón / reception: tiepdon -> /reception     Bác sĩ / doctor: bacsi -> /exam",
             "-" * 78]
    for acc in demo_accounts:
        extra = f"   TOTP secret: {acc.totp_secret}" if acc.totp_secret else ""
        lines.append(f"  {acc.username:<12} {acc.label:<14} ({acc.role}){extra}")
    lines += ["  Mã truy cập API / API token:  benhan token issue --user bacsi --scope 'user/*.cruds'",
              "=" * 78, ""]
    return "\n".join(lines)
