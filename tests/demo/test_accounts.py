"""Demo accounts exist only in demo mode, one per role, linked to the demo hospital."""

from __future__ import annotations

import pytest

from benhan.demo.accounts import DEMO_PASSWORD, ensure_demo_accounts
from benhan.demo.small import load_small_demo
from benhan.security import accounts
from benhan.security.login import authenticate
from benhan.settings import Settings


def test_no_demo_accounts_outside_demo_mode(engine):
    with pytest.raises(RuntimeError):
        ensure_demo_accounts(engine, Settings(demo=False))


def test_one_account_per_role_linked_and_idempotent(engine):
    load_small_demo(engine, patients=8)
    settings = Settings(demo=True)
    first = ensure_demo_accounts(engine, settings)
    assert {a.role for a in first} == {"reception", "doctor", "nurse", "technician", "pharmacist", "cashier",
                                       "head-of-department", "admin", "auditor", "patient"}
    assert [a.username for a in ensure_demo_accounts(engine, settings)] == [a.username for a in first]
    with engine.connect() as conn:
        doctor = accounts.get_user(conn, "bacsi")
        patient = accounts.get_user(conn, "benhnhan")
        admin = accounts.get_user(conn, "quantri")
    assert doctor.practitioner_id and doctor.departments
    assert patient.patient_id
    assert admin.totp_secret  # administrators always need a second factor
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            assert authenticate(conn, settings, "bacsi", DEMO_PASSWORD, None).ok
