"""The registration API as the application serves it: authenticated, access-checked and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from benhan.security.tables import audit_log

from .test_api import BODY


def test_registration_requires_a_token(database_url):
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=database_url))
    with TestClient(app) as http:
        resp = http.post("/api/registration", json=BODY)
        assert resp.status_code == 401
        assert resp.json()["resourceType"] == "OperationOutcome"


def test_registration_through_the_app_is_audited(client):
    engine = client.http.app.state.engine
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    resp = client.http.post("/api/registration", json=BODY)
    assert resp.status_code == 201, resp.text
    patient_id = resp.json()["patient"]["id"]
    assert client.get(f"Patient/{patient_id}").json()["name"][0]["family"] == "Nguyễn"
    with engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    assert after > before


def _receptionist_app(database_url: str) -> tuple[Any, str]:
    """The app on ``database_url`` and a bearer token of a receptionist account."""
    from benhan.app import create_app
    from benhan.security import accounts, tokens
    from benhan.settings import Settings

    settings = Settings(database_url=database_url)
    app = create_app(settings)
    with app.state.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            accounts.add_user(conn, settings, username="tiepdon1", display_name="Lê Thị Mai", roles=["reception"],
                              password="Ngan-Hang-Mau-2026!")
            token, _ = tokens.issue(conn, subject="tiepdon1", kind="user", scope="user/*.cruds", ttl=600)
    return app, token


def test_a_receptionist_can_register_a_patient(database_url):
    """Found by benchmarks/workday.py: reception got 403 while the patient-code counter was a Basic resource."""
    from starlette.testclient import TestClient

    app, token = _receptionist_app(database_url)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
        resp = http.post("/api/registration", json=BODY)
        assert resp.status_code == 201, resp.text
        assert http.get("/fhir/Basic").status_code == 403  # Basic resources stay out of reception's reach


def test_registration_reads_the_account_once(database_url):
    """The route's require_bearer dependency authenticates; the write transaction reuses its principal."""
    from sqlalchemy import event
    from starlette.testclient import TestClient

    app, token = _receptionist_app(database_url)
    account_reads: list[str] = []

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM user_account" in statement:
            account_reads.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", on_execute)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
        resp = http.post("/api/registration", json=BODY)
        assert resp.status_code == 201, resp.text
    assert len(account_reads) == 1
