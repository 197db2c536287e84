"""HTTP routes of the security core: SMART discovery, the server's JWKS, OAuth 2 endpoints
(``oauth.py``), break-glass (``breakglass_routes.py``) and the login pages (``benhan.web``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from .deps import require_bearer
from .keys import jwks
from .smart import smart_configuration

router = APIRouter()


@router.get("/.well-known/smart-configuration", tags=["auth"])
@router.get("/fhir/.well-known/smart-configuration", tags=["auth"], include_in_schema=False)
def smart_config(request: Request) -> JSONResponse:
    """SMART App Launch v2 discovery document (public)."""
    return JSONResponse(smart_configuration(_issuer(request)))


@router.get("/.well-known/jwks.json", tags=["auth"])
def server_jwks(request: Request) -> JSONResponse:
    """Public keys that verify the access tokens this server signs."""
    with request.app.state.engine.connect() as conn:
        return JSONResponse(jwks(conn))


def _issuer(request: Request) -> str:
    settings = request.app.state.settings
    if settings.base_url:
        return settings.base_url.removesuffix("/fhir")
    return str(request.base_url).rstrip("/")


# ---------------------------------------------------------------------------------- break-glass

def _json_error(status: int, vi: str, en: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": en, "error_description": f"{vi} / {en}"}, status_code=status, headers=headers)


def _with_principal(request: Request, work):  # type: ignore[no-untyped-def]
    """Run ``work(conn, principal)`` in one write transaction, after bearer authentication."""
    from benhan.fhir.errors import FhirError

    security = request.app.state.security
    ip = request.client.host if request.client else None
    with request.app.state.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            try:
                principal = security.principal(conn, request.headers.get("authorization"), ip)
            except FhirError as exc:
                issue = exc.issues[0]
                return _json_error(exc.status, issue.vi, issue.en, getattr(exc, "headers", None))
            return work(conn, principal)


@router.post("/auth/break-glass", tags=["auth"], dependencies=[Depends(require_bearer)])
async def break_glass_open(request: Request) -> JSONResponse:
    """Open a patient's record in an emergency: ``{"patient": "Patient/123", "reason": "..."}``."""
    import orjson

    from benhan.db import schema as s

    from . import audit
    from .breakglass import BreakGlassError, open_grant
    from .policy import load_policy

    try:
        body = orjson.loads(await request.body())
        patient = str(body["patient"]).removeprefix("Patient/")
        reason = str(body["reason"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return _json_error(400, "Cần patient và reason", "Body must be {patient, reason}")
    settings = request.app.state.settings

    def work(conn, principal):  # type: ignore[no-untyped-def]
        from sqlalchemy import select

        if principal.kind != "user" or not load_policy().any_role(principal.roles, "break_glass"):
            audit.append(conn, [audit.AuditEntry("break-glass", 403, principal.username, ",".join(principal.roles),
                                                 principal.client_id, f"Patient/{patient}", [patient], principal.ip,
                                                 audit.BREAK_GLASS, "role may not break the glass")])
            return _json_error(403, "Vai trò này không được truy cập khẩn cấp", "This role may not break the glass")
        if "user" not in principal.scopes.contexts_for("Patient", "r"):  # an app's token must be given that much
            audit.append(conn, [audit.AuditEntry("break-glass", 403, principal.username, ",".join(principal.roles),
                                                 principal.client_id, f"Patient/{patient}", [patient], principal.ip,
                                                 audit.BREAK_GLASS, "token scope does not cover user/Patient.r")])
            return _json_error(403, "Phạm vi của mã truy cập không gồm user/Patient.r",
                               "The token's scope does not include user/Patient.r")
        r = s.resource
        if conn.execute(select(r.c.pk).where(r.c.type == "Patient", r.c.id == patient, r.c.deleted.is_(False))
                        ).first() is None:
            return _json_error(404, "Không tìm thấy người bệnh", "Patient not found")
        try:
            grant = open_grant(conn, user_id=principal.user_id, username=principal.username,
                               departments=principal.departments, patient_id=patient, reason=reason,
                               minutes=settings.break_glass_minutes)
        except BreakGlassError as exc:
            return _json_error(exc.status, exc.vi, exc.en)
        audit.append(conn, [audit.AuditEntry("break-glass", 201, principal.username, ",".join(principal.roles),
                                             principal.client_id, f"Patient/{patient}", [patient], principal.ip,
                                             audit.BREAK_GLASS, grant.reason)])
        return JSONResponse(grant.to_json(), status_code=201)

    return await run_in_threadpool(_with_principal, request, work)


@router.get("/auth/break-glass", tags=["auth"])
async def break_glass_review(request: Request) -> JSONResponse:
    """Grants for review: a head of department sees those of their departments, an auditor all."""
    from . import audit
    from .breakglass import list_grants
    from .policy import load_policy

    def work(conn, principal):  # type: ignore[no-untyped-def]
        policy = load_policy()
        if principal.kind != "user" or not policy.any_role(principal.roles, "review_break_glass"):
            return _json_error(403, "Không có quyền rà soát", "Not allowed to review break-glass grants")
        if "user" not in principal.scopes.contexts_for("AuditEvent", "s"):  # the review is audit data
            return _json_error(403, "Phạm vi của mã truy cập không gồm user/AuditEvent.s",
                               "The token's scope does not include user/AuditEvent.s")
        everything = "auditor" in principal.roles
        grants = list_grants(conn, departments=None if everything else principal.departments)
        audit.append(conn, [audit.AuditEntry("break-glass-review", 200, principal.username,
                                             ",".join(principal.roles), principal.client_id, "break-glass",
                                             sorted({g.patient_id for g in grants}), principal.ip, audit.OPERATIONS)])
        return JSONResponse({"grants": [g.to_json() for g in grants]})

    return await run_in_threadpool(_with_principal, request, work)
