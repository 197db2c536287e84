"""Walk every route the application registers: none may answer an unauthenticated caller with data, and
every GET route that serves patient data leaves an audit row naming the patient.

A new route is public only if it is added to ``PUBLIC`` below on purpose (login pages, discovery
documents, the CapabilityStatement, liveness). Everything else must refuse a request without
credentials (401, or a redirect to the login page for browser pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.web.conftest import web  # noqa: F401  (the demo hospital app)

PUBLIC = {
    "/healthz", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
    "/fhir/metadata", "/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration",
    "/.well-known/jwks.json", "/auth/login", "/auth/static/auth.css", "/oauth/authorize", "/oauth/token",
    "/oauth/revoke",
    "/static",  # the web app's CSS, scripts, fonts (no data); mounted directory
}
REFUSED = {401, 403, 405}


def _routes(routes) -> Iterator[tuple[str, frozenset[str]]]:  # type: ignore[no-untyped-def]
    for route in routes:
        if hasattr(route, "path"):
            yield route.path, frozenset(getattr(route, "methods", None) or {"GET"})
        elif hasattr(route, "original_router"):  # FastAPI include_router wrapper
            yield from _routes(route.original_router.routes)
        elif hasattr(route, "routes"):
            yield from _routes(route.routes)


def _concrete(path: str) -> str:
    """A request path for a route template: every parameter gets a harmless value."""
    path = path.replace("{path:path}", "Patient/example")
    return re.sub(r"\{[^}]+\}", "example", path)


def test_every_non_public_route_refuses_anonymous_callers(database_url):
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.settings import Settings

    app = create_app(Settings(database_url=database_url))
    seen = list(_routes(app.routes))
    assert any(p.startswith("/fhir") for p, _ in seen) and any(p.startswith("/api/") for p, _ in seen)
    problems = []
    with TestClient(app, follow_redirects=False) as http:
        for template, methods in seen:
            if template in PUBLIC or template.startswith("/auth/static"):
                continue
            for method in sorted(methods - {"HEAD", "OPTIONS"}):
                body = {} if method in ("POST", "PUT", "PATCH") else None
                resp = http.request(method, _concrete(template), json=body)
                to_login = resp.status_code in (302, 303, 307) and "/auth/login" in resp.headers.get("location", "")
                if resp.status_code not in REFUSED and not to_login:
                    problems.append(f"{method} {template} -> {resp.status_code}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", ["Patient", "Patient/example", "Observation?code=1234", "_history",
                                  "Patient/example/$everything", "AuditEvent", ""])
def test_fhir_paths_need_a_token(client, path):
    # the `client` fixture carries a token: strip it to act as an anonymous caller
    http = client.http
    resp = http.get(f"/fhir/{path}", headers={"Authorization": ""})
    assert resp.status_code == 401
    assert resp.json()["resourceType"] == "OperationOutcome"


# --------------------------------------------------------------------------- every patient-data read is audited

# GET routes that serve patient data: (who asks, query string, the audit action that must name the patient).
# ``{pid}``/``{eid}``/``{room}`` are the walk's patient, visit and exam room. A new GET route must be put here or in
# NO_PATIENT_DATA on purpose, or the walk fails.
PATIENT_DATA = {
    "/reception": ("tiepdon", "?q={name}", "search"),
    "/reception/search": ("tiepdon", "?q={name}", "search"),
    "/reception/patient/{patient_id}": ("tiepdon", "", "read"),
    "/reception/ticket/{encounter_id}": ("tiepdon", "", "read"),
    "/exam": ("bacsi", "?room={room}", "search"),
    "/queue/display": ("bacsi", "?room={room}", "search"),
    "/queue/display/board": ("bacsi", "?room={room}", "search"),
    "/visit/{encounter_id}": ("bacsi", "", "read"),
    "/visit/{encounter_id}/icd10": ("bacsi", "?q=J06", "read"),
    "/visit/{encounter_id}/orders": ("bacsi", "", "read"),
    "/visit/{encounter_id}/orders/suggest": ("bacsi", "?q=cong", "read"),
    "/visit/{encounter_id}/prescription": ("bacsi", "", "read"),
    "/visit/{encounter_id}/prescription/suggest": ("bacsi", "?q=para", "read"),
    "/visit/{encounter_id}/prescription/preview": ("bacsi", "", "read"),
    "/visit/{encounter_id}/prescription/view": ("bacsi", "", "read"),
    "/visit/{encounter_id}/conclusion": ("bacsi", "", "read"),
    "/visit/{encounter_id}/print/record.pdf": ("bacsi", "", "print"),
    "/visit/{encounter_id}/print/prescription.pdf": ("bacsi", "", "print"),
    "/patients": ("bacsi", "?q={name}", "search"),
    "/patients/{patient_id}": ("bacsi", "", "read"),
    "/patients/{patient_id}/visits": ("bacsi", "", "search"),
    "/fhir/{path:path}": ("bearer:bacsi", "", "read"),  # /fhir/Patient/{pid}
    "/fhir": ("bearer:bacsi", "?_type=Patient&_id={pid}", "search"),
    "/api/registration/duplicates": ("bearer:tiepdon", "?name={name}&gender=male", "search"),
    "/api/registration/patients": ("bearer:tiepdon", "?name={name}", "search"),
    "/auth/break-glass": ("bearer:kiemtra", "", "break-glass-review"),
}
NO_PATIENT_DATA = {
    "/",  # a redirect to the user's start page
    "/signing-keys/{kid}",  # a public key
    "/auth/account", "/auth/password", "/auth/totp",  # the signed-in user's own account
    "/apps",  # the apps menu: registered apps only (launching one, a POST, reads and audits the patient)
}


def _fill(path: str, values: dict[str, str]) -> str:
    path = path.replace("{path:path}", "Patient/{pid}").replace("{patient_id}", "{pid}")
    return path.replace("{encounter_id}", "{eid}").format(**values)


def test_every_route_serving_patient_data_leaves_an_audit_row(web):  # noqa: F811  (the fixture)
    """Request each patient-data GET route as a user who may, and find its audit row naming the patient."""
    from sqlalchemy import func, select

    from benhan.security import tokens
    from benhan.security.accounts import get_user
    from benhan.security.breakglass import open_grant
    from benhan.security.tables import audit_log
    from tests.clinical.test_signing import make_visit
    from tests.web.test_queue import arrive, outpatient_doctor, ticking_clock
    from tests.web.test_reception import read, rooms

    ticking_clock(web)
    front = web.browser("tiepdon")
    name = "Trịnh Văn Bình"
    waiting, _ = arrive(web, front, name, "01/02/1980", "male", [], 11)
    pid = read(web, "Encounter", waiting)["subject"]["reference"].split("/", 1)[1]
    doctor = outpatient_doctor(web)
    visit = make_visit(web.engine)  # the record pages need a full visit (vitals, orders, prescription)
    values = {"pid": pid, "eid": waiting, "room": rooms(web)[0]["id"], "name": name}
    visit_values = {"pid": visit.patient_id, "eid": visit.encounter_id, "room": values["room"], "name": name}
    with web.engine.begin() as conn:  # a break-glass grant, for the auditor's review page to name the patient
        grantee = get_user(conn, "bacsi")
        assert grantee is not None
        open_grant(conn, user_id=grantee.id, username="bacsi", departments=grantee.departments, patient_id=pid,
                   reason="Cấp cứu: kiểm tra nhật ký truy cập", minutes=60)
    browsers = {"tiepdon": front, "bacsi": doctor}

    def bearer(username: str) -> dict[str, str]:
        with web.engine.begin() as conn:
            token, _ = tokens.issue(conn, subject=username, kind="user", scope="user/*.cruds", ttl=600)
        return {"Authorization": f"Bearer {token}"}

    from starlette.testclient import TestClient

    api = TestClient(web.app)  # type: ignore[arg-type]
    seen = {p for p, m in _routes(web.app.routes) if "GET" in m}
    unclassified = sorted(p for p in seen if p not in PATIENT_DATA and p not in NO_PATIENT_DATA
                          and p not in PUBLIC and not p.startswith("/auth/static"))
    assert unclassified == [], f"classify these GET routes (patient data or not): {unclassified}"
    problems = []
    for template, (who, query, action) in PATIENT_DATA.items():
        if template not in seen:
            problems.append(f"{template}: no such route any more")
            continue
        ctx = visit_values if template.startswith("/visit/") or template.startswith("/patients/") else values
        url = _fill(template, ctx) + query.format(**ctx)
        with web.engine.connect() as conn:
            last = conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0
        if who.startswith("bearer:"):
            resp = api.get(url, headers=bearer(who.split(":", 1)[1]))
            username = who.split(":", 1)[1]
        else:
            resp = browsers[who].get(url)
            username = who
        if resp.status_code != 200:
            problems.append(f"{template}: {resp.status_code}")
            continue
        with web.engine.connect() as conn:
            rows = conn.execute(select(audit_log).where(audit_log.c.seq > last, audit_log.c.username == username)
                                ).mappings().all()
        if not any(r["action"] == action and f",{ctx['pid']}," in (r["patients"] or "") and r["outcome"] == 200
                   for r in rows):
            problems.append(f"{template}: no '{action}' row naming the patient; got "
                            f"{[(r['action'], r['patients']) for r in rows]}")
    assert problems == [], "\n".join(problems)
