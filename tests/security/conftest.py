"""Fixtures for the security tests: a fresh app per test (SQLite and PostgreSQL) and helpers that
create real users and sign real tokens in that database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from benhan.security import accounts, tokens
from benhan.settings import Settings
from tests.conftest import FhirClient, system_token

STRONG = "Ngan-Hang-Mau-2026!"


@dataclass
class SecureApp:
    app: object
    engine: Engine
    settings: Settings
    http: object  # TestClient without credentials
    admin: FhirClient  # system/*.cruds, to load data

    def tx(self):  # type: ignore[no-untyped-def]
        conn = self.engine.connect()
        conn.info["write"] = True
        return _Tx(conn)

    def user(self, username: str, roles: list[str], *, departments: list[str] = (), practitioner: str | None = None,
             patient: str | None = None, password: str = STRONG, totp: bool = False) -> accounts.User:
        with self.tx() as conn:
            user, _ = accounts.add_user(conn, self.settings, username=username, display_name=username.title(),
                                        roles=roles, password=password, departments=list(departments),
                                        practitioner_id=practitioner, patient_id=patient, totp=totp)
        return user

    def token(self, username: str, scope: str, *, patient: str | None = None, ttl: int = 600) -> str:
        with self.tx() as conn:
            token, _ = tokens.issue(conn, subject=username, kind="user", scope=scope, ttl=ttl, patient=patient)
        return token

    def client_for(self, token: str) -> FhirClient:
        from starlette.testclient import TestClient

        http = TestClient(self.app, headers={"Authorization": f"Bearer {token}"})  # type: ignore[arg-type]
        return FhirClient(http)

    def as_user(self, username: str, roles: list[str], scope: str = "user/*.cruds", **kw) -> FhirClient:  # type: ignore[no-untyped-def]
        patient = kw.pop("launch_patient", None)
        self.user(username, roles, **kw)
        return self.client_for(self.token(username, scope, patient=patient))


class _Tx:
    def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
        self.conn = conn

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.trans = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type, *_):  # type: ignore[no-untyped-def]
        if exc_type is None:
            self.trans.commit()
        else:
            self.trans.rollback()
        self.conn.close()


@pytest.fixture
def secure(database_url: str) -> Iterator[SecureApp]:
    from starlette.testclient import TestClient

    from benhan.app import create_app

    settings = Settings(database_url=database_url, base_url="http://testserver/fhir", lockout_threshold=3,
                        lockout_base_seconds=60)
    app = create_app(settings)
    engine = app.state.engine
    with TestClient(app) as http:
        token = system_token(engine, "system/*.cruds")
        admin = FhirClient(TestClient(app, headers={"Authorization": f"Bearer {token}"}))
        yield SecureApp(app, engine, settings, http, admin)


def patient(pid: str, *labels: str) -> dict:  # type: ignore[type-arg]
    res = {"resourceType": "Patient", "id": pid, "name": [{"family": "Nguyễn", "given": [pid]}]}
    if labels:
        res["meta"] = {"security": [_label(code) for code in labels]}
    return res


def observation(oid: str, pid: str, *labels: str) -> dict:  # type: ignore[type-arg]
    res = {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "Mạch"},
           "subject": {"reference": f"Patient/{pid}"}, "valueQuantity": {"value": 80, "unit": "/min"}}
    if labels:
        res["meta"] = {"security": [_label(code) for code in labels]}
    return res


def encounter(eid: str, pid: str, department: str) -> dict:  # type: ignore[type-arg]
    return {"resourceType": "Encounter", "id": eid, "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": f"Patient/{pid}"}, "serviceProvider": {"reference": f"Organization/{department}"}}


def _label(code: str) -> dict:  # type: ignore[type-arg]
    system = ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality" if code in ("R", "V")
              else "http://terminology.hl7.org/CodeSystem/v3-ActCode")
    return {"system": system, "code": code}


def put(client: FhirClient, resource: dict) -> None:  # type: ignore[type-arg]
    resp = client.put(f"{resource['resourceType']}/{resource['id']}", resource)
    assert resp.status_code in (200, 201), resp.text


DEPARTMENTS = ("khoa-noi", "khoa-ngoai")


def seed_two_departments(admin: FhirClient) -> None:
    """Organizations khoa-noi and khoa-ngoai; patients p1 (an encounter e1 in khoa-noi) and p2 (e2 in khoa-ngoai)."""
    for org in DEPARTMENTS:
        put(admin, {"resourceType": "Organization", "id": org, "name": org})
    for pid in ("p1", "p2"):
        put(admin, patient(pid))
    put(admin, encounter("e1", "p1", "khoa-noi"))
    put(admin, encounter("e2", "p2", "khoa-ngoai"))
