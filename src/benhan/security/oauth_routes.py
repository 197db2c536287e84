"""HTTP side of the OAuth 2.0 / SMART App Launch v2 authorization server:
``/oauth/authorize`` (login via the web session, then consent), ``/oauth/token`` and ``/oauth/revoke``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse, RedirectResponse, Response

from . import audit, csrf
from .access import Access
from .guard import FhirGuard
from .headers import HEADERS
from .oauth import (
    PageError,
    PickEncounter,
    PickPatient,
    check_client,
    check_request,
    create_code,
    decide,
    describe,
    picker_principal,
)
from .oauth_errors import OAuthError
from .oauth_tokens import GRANTS, Endpoint, revoke
from .routes import _issuer
from .web_common import client_ip, clock, login_url, read_form, signed_in, user_entry, write_tx
from .web_i18n import translator
from .web_render import render, request_lang

router = APIRouter(tags=["auth"])

AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "aud", "code_challenge",
                    "code_challenge_method", "launch", "nonce", "picked_patient", "picked_encounter")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def fhir_base(request: Request) -> str:
    settings = request.app.state.settings
    return settings.base_url.rstrip("/") if settings.base_url else f"{_issuer(request)}/fhir"


def _endpoint(request: Request) -> Endpoint:
    issuer = _issuer(request)
    return Endpoint(request.app.state.settings, issuer, fhir_base(request), f"{issuer}/oauth/token", client_ip(request),
                    request.app.state.security.keyring, clock(request))


def _redirect(uri: str, **params: str | None) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{uri}{'&' if '?' in uri else '?'}{query}", status_code=303)


def _refused_page(request: Request, vi: str, en: str, status: int = 400) -> Response:
    t = translator(request_lang(request))
    return render(request, "message.html", status=status, title=t("error.title"),
                  error=en if request_lang(request) == "en" else vi)


@router.api_route("/oauth/authorize", methods=["GET", "POST"])
async def authorize(request: Request) -> Response:
    """Authorization code + PKCE (S256): sign in, consent, then back to the app with a code."""
    form = await read_form(request) if request.method == "POST" else {}
    source: Any = form if request.method == "POST" else request.query_params
    params = {k: source[k] for k in AUTHORIZE_PARAMS if k in source}
    decision = form.get("decision")
    return await run_in_threadpool(_authorize, request, params, decision, form)


def _authorize(request: Request, params: dict[str, str], decision: str | None, form: dict[str, str]) -> Response:
    settings = request.app.state.settings
    with write_tx(request) as conn:
        try:
            client, redirect_uri = check_client(conn, params)
        except PageError as exc:
            return _refused_page(request, exc.vi, exc.en)
        state = params.get("state")
        try:
            req = check_request(client, redirect_uri, params, fhir_base(request))
        except OAuthError as exc:
            return _redirect(redirect_uri, error=exc.error, error_description=exc.en, state=state)
        current = signed_in(conn, request)
        here = f"/oauth/authorize?{urlencode(params)}"
        if current is None:
            return RedirectResponse(login_url(here), status_code=303)
        if current.user.must_change_password:
            return RedirectResponse(f"/auth/password?{urlencode({'next': here})}", status_code=303)
        try:
            grant = decide(conn, req, current.user, clock=clock(request))
        except PickPatient:
            return _picker(conn, request, client.client_id, client.name, params, current.user)
        except PickEncounter as pick:
            return _encounter_picker(conn, request, client.client_id, client.name, params, current.user,
                                     pick.patient)
        except OAuthError as exc:
            audit.append(conn, [user_entry("oauth-authorize", 400, current.user, request, client_id=client.client_id,
                                           detail=f"{exc.error}: {exc.en}")])
            return _redirect(redirect_uri, error=exc.error, error_description=exc.en, state=state)
        if decision is None:
            t = translator(request_lang(request))
            page = render(request, "consent.html", app_name=client.name, scope_items=describe(grant.scopes, t),
                          patient=grant.patient, encounter=grant.encounter, user=current.user,
                          csrf_token=current.session.csrf,
                          params=sorted(params.items()))
            page.headers["content-security-policy"] = _consent_csp(redirect_uri)
            return page
        if not csrf.matches(current.session.csrf, form.get(csrf.FIELD)):
            t = translator(request_lang(request))
            return render(request, "message.html", status=403, title=t("error.title"), error=t("csrf"))
        if decision != "allow":
            audit.append(conn, [user_entry("oauth-authorize", 403, current.user, request, client_id=client.client_id,
                                           detail="consent denied")])
            return _redirect(redirect_uri, error="access_denied", error_description="The user denied the request",
                             state=state)
        code = create_code(conn, req, grant, current.user, refresh_ttl=settings.refresh_token_ttl,
                           clock=clock(request))
        audit.append(conn, [user_entry("oauth-authorize", 200, current.user, request, client_id=client.client_id,
                                       entity=f"client/{client.client_id}", detail=f"scope={grant.scope}")])
        return _redirect(redirect_uri, code=code, state=state)


def _picker(conn: Any, request: Request, client_id: str, app_name: str, params: dict[str, str], user: Any
            ) -> Response:
    """The patient picker (standalone ``launch/patient`` by staff): the patients this user may see."""
    from .patient_picker import find_patients

    query = (request.query_params.get("q") or "").strip()[:100]
    guard = FhirGuard(conn, Access(picker_principal(conn, user, client_id=client_id, ip=client_ip(request),
                                                    clock=clock(request))))
    patients = find_patients(conn, guard, query, base_url=fhir_base(request))
    guard.flush(conn)  # what the picker showed is audited like any search
    return render(request, "picker.html", app_name=app_name, query=query, patients=patients, user=user,
                  params=sorted((k, v) for k, v in params.items() if k != "picked_patient"))


def _encounter_picker(conn: Any, request: Request, client_id: str, app_name: str, params: dict[str, str],
                      user: Any, patient: str) -> Response:
    """The encounter picker (``launch/encounter``): the chosen patient's encounters this user may see."""
    from .patient_picker import find_encounters

    guard = FhirGuard(conn, Access(picker_principal(conn, user, client_id=client_id, ip=client_ip(request),
                                                    clock=clock(request))))
    encounters = find_encounters(conn, guard, patient, base_url=fhir_base(request))
    guard.flush(conn)
    return render(request, "picker_encounter.html", app_name=app_name, patient=patient, encounters=encounters,
                  user=user, params=sorted((k, v) for k, v in params.items() if k != "picked_encounter"))


def _consent_csp(redirect_uri: str) -> str:
    """Our CSP, with the app's origin added to ``form-action``: browsers apply it to the redirect that
    follows the consent form, which would otherwise never reach the app."""
    parts = urlsplit(redirect_uri)
    policy = dict(HEADERS)[b"content-security-policy"].decode()
    return policy.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def _oauth_error(exc: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="benhan", error="invalid_client"'
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


@router.post("/oauth/token")
async def token(request: Request) -> Response:
    """Token endpoint: ``authorization_code``, ``refresh_token``, ``client_credentials``."""
    form = await read_form(request)
    grant = GRANTS.get(form.get("grant_type", ""))
    if grant is None:
        return _oauth_error(OAuthError("unsupported_grant_type", "grant_type không được hỗ trợ",
                                       "Unsupported grant_type"))
    return await run_in_threadpool(_run, request, grant, form)


def _run(request: Request, work: Any, form: dict[str, str]) -> Response:
    ep = _endpoint(request)
    try:
        with write_tx(request) as conn:
            try:
                return JSONResponse(work(conn, ep, form) or {}, headers=_NO_STORE)
            except OAuthError as exc:
                # revocations done before the refusal (a replayed code or refresh token) are kept
                audit.append(conn, [audit.AuditEntry(
                    "token-refused", exc.status, client_id=(form.get("client_id") or "")[:128] or None, ip=ep.ip,
                    purpose=audit.OPERATIONS, detail=f"grant={form.get('grant_type', 'revoke')}: {exc.error}")])
                return _oauth_error(exc)
    except IntegrityError:  # a concurrent request recorded the same assertion jti first
        return _oauth_error(OAuthError("invalid_client", "client_assertion (jti) đã được dùng",
                                       "This client assertion (jti) was already used", status=401))


@router.post("/oauth/revoke")
async def revoke_token(request: Request) -> Response:
    """RFC 7009 revocation of an access or refresh token (always 200 for a known client)."""
    form = await read_form(request)
    return await run_in_threadpool(_run, request, revoke, form)
