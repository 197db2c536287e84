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
    "/reception/communes",  # the address type-ahead: the commune catalog, nobody's data
    "/apps",  # the apps menu: registered apps only (launching one, a POST, reads and audits the patient)
}


def _fill(path: str, values: dict[str, str]) -> str:
    path = path.replace("{path:path}", "Patient/{pid}").replace("{patient_id}", "{pid}")
    return path.replace("{encounter_id}", "{eid}").format(**values)


def _prepare(web):  # type: ignore[no-untyped-def]  # noqa: F811
    """A patient waiting at reception, a full visit, a break-glass grant; values for the route templates."""
    from benhan.security.accounts import get_user
    from benhan.security.breakglass import open_grant
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
    return values, visit_values, {"tiepdon": front, "bacsi": doctor}


def _bearer(app, username: str, scope: str = "user/*.cruds") -> dict[str, str]:  # type: ignore[no-untyped-def]
    from benhan.security import tokens

    with app.engine.begin() as conn:
        token, _ = tokens.issue(conn, subject=username, kind="user", scope=scope, ttl=600)
    return {"Authorization": f"Bearer {token}"}


def _last_seq(app) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from benhan.security.tables import audit_log

    with app.engine.connect() as conn:
        return conn.execute(select(func.max(audit_log.c.seq))).scalar() or 0


def _rows_after(app, seq: int, username: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    from sqlalchemy import select

    from benhan.security.tables import audit_log

    with app.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).where(
            audit_log.c.seq > seq, audit_log.c.username == username)).mappings()]


def test_every_route_serving_patient_data_leaves_an_audit_row(web):  # noqa: F811  (the fixture)
    """Request each patient-data GET route as a user who may, and find its audit row naming the patient."""
    from starlette.testclient import TestClient

    values, visit_values, browsers = _prepare(web)
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
        last = _last_seq(web)
        if who.startswith("bearer:"):
            username = who.split(":", 1)[1]
            resp = api.get(url, headers=_bearer(web, username))
        else:
            resp = browsers[who].get(url)
            username = who
        if resp.status_code != 200:
            problems.append(f"{template}: {resp.status_code}")
            continue
        rows = _rows_after(web, last, username)
        if not any(r["action"] == action and f",{ctx['pid']}," in (r["patients"] or "") and r["outcome"] == 200
                   for r in rows):
            problems.append(f"{template}: no '{action}' row naming the patient; got "
                            f"{[(r['action'], r['patients']) for r in rows]}")
    assert problems == [], "\n".join(problems)


# Who must be refused on each kind of route: the auditor sees no patient data (role), a doctor may not
# review break-glass grants; bearer routes also with the right user but a scope that does not cover them.
WRONG_USER = {"/auth/break-glass": "bacsi"}
NARROW_SCOPE = {"/auth/break-glass": "user/Patient.rs"}  # the review needs user/AuditEvent.s
# APIs whose service searches return nothing (rather than 403) for a type the caller may not search: an empty
# answer, no audit row naming the patient. Every other route must answer 403 (the registration searches too).
EMPTY_INSTEAD: set[str] = set()


def test_every_patient_data_route_refuses_the_wrong_role_and_a_narrow_scope(web):  # noqa: F811
    """The same routes as a user whose role does not allow them, and (bearer) with a scope that does not cover
    them: refused (403), with no successful audit row naming the patient — and nothing of the patient shown."""
    from starlette.testclient import TestClient

    values, visit_values, _ = _prepare(web)
    api = TestClient(web.app)  # type: ignore[arg-type]
    auditor = web.browser("kiemtra")
    problems = []
    for template, (who, query, _action) in PATIENT_DATA.items():
        ctx = visit_values if template.startswith("/visit/") or template.startswith("/patients/") else values
        url = _fill(template, ctx) + query.format(**ctx)
        attempts = []
        wrong = WRONG_USER.get(template, "kiemtra")
        if who.startswith("bearer:"):
            right = who.split(":", 1)[1]
            attempts.append((f"role {wrong}", wrong, lambda u=url, w=wrong: api.get(u, headers=_bearer(web, w))))
            scope = NARROW_SCOPE.get(template, "user/Organization.rs")
            attempts.append((f"scope {scope}", right,
                             lambda u=url, r=right, sc=scope: api.get(u, headers=_bearer(web, r, sc))))
        else:
            attempts.append(("role auditor", "kiemtra", lambda u=url: auditor.get(u)))
        for label, username, request in attempts:
            last = _last_seq(web)
            resp = request()
            leaked = [r for r in _rows_after(web, last, username)
                      if r["outcome"] == 200 and f",{ctx['pid']}," in (r["patients"] or "")]
            allowed = {403, 200} if template in EMPTY_INSTEAD else {403}
            shown = ctx["pid"] in resp.text or ("{name}" not in query and ctx["name"] in resp.text)  # (q= is echoed)
            if resp.status_code not in allowed or leaked or shown:
                problems.append(f"{template} ({label}): {resp.status_code}, audit {len(leaked)} row(s)")
    assert problems == [], "\n".join(problems)
