"""SMART App Launch v2 authorization requests: checking them, deciding what is granted, and the
short-lived, single-use authorization code (bound to client, redirect URI, scopes, user, patient
context and PKCE challenge; stored as a SHA-256 hash).

Granted scopes = requested ∩ the client's registered scopes ∩ what the user's roles allow.
``launch/patient`` (and any ``patient/`` scope) needs a patient context: a patient user's own
Patient; for staff the patient of an EHR launch (scope ``launch`` with the opaque ``launch`` value the
web app made, see :mod:`.ehr_launch`), or else one chosen in the picker (:class:`PickPatient`), which
comes back as ``picked_patient``. The context is checked against the user's access again here.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from benhan.db import schema as s
from benhan.fhir.clock import Clock, system_clock

from .access import Access
from .accounts import User
from .ehr_launch import LaunchContext, LaunchError, open_launch
from .oauth_clients import Client, get_client
from .oauth_errors import OAuthError
from .policy import load_policy
from .principal import Principal, active_grants
from .scopes import ResourceScope, ScopeSet, narrow, parse_scopes
from .tables import auth_code, refresh_token

CODE_TTL = 120  # seconds
_PKCE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class PageError(Exception):
    """A request that cannot be sent back to the client (unknown client, unregistered redirect URI):
    shown to the user instead, never redirected (RFC 6749 section 4.1.2.1)."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en


class PickPatient(Exception):
    """Staff asked for a patient context without naming a patient: show the patient picker."""


class PickEncounter(Exception):
    """``launch/encounter`` without a chosen encounter: show the encounters of ``patient``."""

    def __init__(self, patient: str) -> None:
        super().__init__(patient)
        self.patient = patient


@dataclass(frozen=True, slots=True)
class AuthorizeRequest:
    client: Client
    redirect_uri: str
    state: str
    scope: str
    code_challenge: str
    launch: str | None
    nonce: str | None = None
    picked: str | None = None  # the patient chosen in our picker (standalone launch/patient)
    picked_encounter: str | None = None  # the encounter chosen in our picker (launch/encounter)


@dataclass(frozen=True, slots=True)
class Grant:
    scopes: ScopeSet
    patient: str | None
    encounter: str | None = None

    @property
    def scope(self) -> str:
        return self.scopes.text()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_client(conn: Connection, params: dict[str, str]) -> tuple[Client, str]:
    """The client and its registered redirect URI (exact match), else :class:`PageError`."""
    client = get_client(conn, params.get("client_id", ""))
    if client is None or client.disabled or client.kind == "backend":
        raise PageError("Ứng dụng không được đăng ký hoặc đã bị vô hiệu hoá", "Unknown or disabled application")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise PageError("redirect_uri không khớp với địa chỉ đã đăng ký của ứng dụng",
                        "redirect_uri does not match the application's registered one")
    return client, redirect_uri


def check_request(client: Client, redirect_uri: str, params: dict[str, str], fhir_base: str) -> AuthorizeRequest:
    """The rest of the request; errors here are sent back to the client's redirect URI."""
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "Chỉ hỗ trợ response_type=code", "Only response_type=code")
    if not params.get("state"):
        raise OAuthError("invalid_request", "Thiếu state", "state is required")
    if params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "PKCE bắt buộc dùng code_challenge_method=S256 (không nhận plain)",
                         "PKCE with code_challenge_method=S256 is required (plain is refused)")
    challenge = params.get("code_challenge", "")
    if not _PKCE.match(challenge):
        raise OAuthError("invalid_request", "code_challenge không hợp lệ", "Invalid code_challenge")
    if params.get("aud", "").rstrip("/") != fhir_base.rstrip("/"):
        raise OAuthError("invalid_request", f"aud phải là địa chỉ FHIR của máy chủ này ({fhir_base})",
                         f"aud must be this server's FHIR base URL ({fhir_base})")
    if not params.get("scope", "").strip():
        raise OAuthError("invalid_scope", "Thiếu scope", "scope is required")
    nonce = params.get("nonce") or None
    if nonce is not None and len(nonce) > 200:
        raise OAuthError("invalid_request", "nonce quá dài", "nonce is too long")
    return AuthorizeRequest(client, redirect_uri, params["state"], params["scope"], challenge,
                            params.get("launch") or None, nonce, params.get("picked_patient") or None,
                            params.get("picked_encounter") or None)


def role_scopes(scopes: ScopeSet, user: User) -> ScopeSet:
    """Keep the interactions the user's roles allow on the named types (``*``: on any type).

    ``system/`` scopes are never given to a user; the request-time checks still apply on top.
    """
    rules = load_policy().rules_for(user.roles)
    kept: list[ResourceScope] = []
    for sc in scopes.resources:
        if sc.context == "system":
            continue
        types = list(rules) if sc.rtype == "*" else [sc.rtype] if sc.rtype in rules else []
        allowed = frozenset().union(*(rules[t].interactions for t in types)) if types else frozenset()
        if sc.context == "patient" and all(rules[t].patients == "none" for t in types):
            allowed = frozenset()
        letters = sc.interactions & allowed
        if letters:
            kept.append(ResourceScope(sc.context, sc.rtype, letters))
    return ScopeSet(tuple(kept), scopes.other)


def decide(conn: Connection, req: AuthorizeRequest, user: User, *, clock: Clock = system_clock) -> Grant:
    """What this user would grant the client; :class:`OAuthError` ``invalid_scope`` when nothing, or when
    a patient context is needed and there is none the user may access."""
    scopes = role_scopes(narrow(parse_scopes(req.scope), parse_scopes(req.client.scopes)), user)
    if not scopes.resources and not (scopes.other - {"offline_access", "online_access"}):
        raise OAuthError("invalid_scope", "Không có phạm vi nào được cấp cho ứng dụng này và vai trò của bạn",
                         "None of the requested scopes is allowed for this application and your roles")
    launch = _ehr_launch(conn, req, user, scopes, clock)
    patient = encounter = None
    if launch is not None:  # the EHR's context; the pickers are not offered
        patient = _patient_context(conn, user, launch.patient, clock)
        if launch.encounter:
            encounter = _encounter_context(conn, user, patient, launch.encounter, clock)
    elif scopes.other & {"launch/patient", "launch/encounter"} or scopes.has_context("patient"):
        patient = _patient_context(conn, user, req.picked, clock)
    if "launch/encounter" in scopes.other and encounter is None:
        assert patient is not None
        encounter = _encounter_context(conn, user, patient, req.picked_encounter, clock)
    return Grant(scopes, patient, encounter)


def _ehr_launch(conn: Connection, req: AuthorizeRequest, user: User, scopes: ScopeSet, clock: Clock
                ) -> LaunchContext | None:
    """The EHR launch context of the request: the ``launch`` value, made for this app and this user."""
    if req.launch is None:
        if "launch" in scopes.other:
            raise OAuthError("invalid_request", "Phạm vi 'launch' chỉ dùng khi ứng dụng được mở từ EMR (thiếu launch)",
                             "The 'launch' scope is for an EHR launch: the launch parameter is missing")
        return None
    if "launch" not in scopes.other:
        raise OAuthError("invalid_scope", "Khởi chạy từ EMR cần phạm vi 'launch' (đã đăng ký cho ứng dụng)",
                         "An EHR launch needs the 'launch' scope, registered for this app")
    try:
        return open_launch(conn, req.launch, client_id=req.client.client_id, user_id=user.id, clock=clock)
    except LaunchError as exc:
        raise OAuthError("invalid_request", exc.vi, exc.en) from exc


def picker_principal(conn: Connection, user: User, *, client_id: str | None = None, ip: str | None = None,
                     clock: Clock = system_clock) -> Principal:
    """The user choosing a patient for an app: reads Patients under the user's own rules (audited as such)."""
    return Principal("user", parse_scopes("user/Patient.rs user/Encounter.rs"), username=user.username, user_id=user.id,
                     roles=user.roles, departments=user.departments, practitioner_id=user.practitioner_id,
                     patient_id=user.patient_id, facility_id=user.facility_id, client_id=client_id,
                     grants=active_grants(conn, user.id, clock), ip=ip)


def _patient_context(conn: Connection, user: User, chosen: str | None, clock: Clock) -> str:
    wanted = chosen.removeprefix("Patient/") if chosen else None
    if user.patient_id and "patient" in user.roles:
        if wanted not in (None, user.patient_id):
            raise OAuthError("invalid_scope", "Người bệnh chỉ được mở hồ sơ của chính mình",
                             "A patient may only open their own record")
        return user.patient_id
    access = Access(picker_principal(conn, user, clock=clock))
    if access.effective("Patient", "r") is None:
        raise OAuthError("invalid_scope", "Vai trò của bạn không được xem hồ sơ người bệnh",
                         "Your roles may not see patients, so no patient context can be given")
    if not wanted:
        raise PickPatient()
    r = s.resource
    pk = conn.execute(select(r.c.pk).where(r.c.type == "Patient", r.c.id == wanted, r.c.deleted.is_(False))).scalar()
    if pk is None or not access.visible(conn, "Patient", int(pk), "r"):
        raise OAuthError("invalid_scope", "Bạn không có quyền truy cập người bệnh đã chọn",
                         "You may not access the chosen patient")
    return wanted


def _encounter_context(conn: Connection, user: User, patient: str, picked: str | None, clock: Clock) -> str:
    """An Encounter of ``patient`` that the user may read (patients: their own; staff: by their rules)."""
    access = Access(picker_principal(conn, user, clock=clock))
    if access.effective("Encounter", "r") is None:
        raise OAuthError("invalid_scope", "Vai trò của bạn không được xem lượt khám",
                         "Your roles may not see encounters, so no encounter context can be given")
    if not picked:
        raise PickEncounter(patient)
    r, c = s.resource, s.compartment
    pk = conn.execute(select(r.c.pk).where(
        r.c.type == "Encounter", r.c.id == picked, r.c.deleted.is_(False),
        r.c.pk.in_(select(c.c.res_pk).where(c.c.comp_type == "Patient", c.c.comp_id == patient)))).scalar()
    if pk is None or not access.visible(conn, "Encounter", int(pk), "r"):
        raise OAuthError("invalid_scope", "Lượt khám đã chọn không thuộc người bệnh này hoặc bạn không được xem",
                         "The chosen encounter is not this patient's or you may not see it")
    return picked


def create_code(conn: Connection, req: AuthorizeRequest, grant: Grant, user: User, *,
                refresh_ttl: int, clock: Clock = system_clock) -> str:
    """A new authorization code (returned once; only its hash is stored)."""
    now = clock() // 1_000_000
    # Used codes are kept while their tokens may live, so that a replay can still revoke them, and while
    # their grant has a live refresh token: a refresh repeats the code's launch context (encounter_id).
    live = select(refresh_token.c.family).where(refresh_token.c.expires >= now, refresh_token.c.revoked.is_(False))
    conn.execute(delete(auth_code).where(auth_code.c.expires < now - refresh_ttl, auth_code.c.code_hash.not_in(live)))
    code = secrets.token_urlsafe(32)
    conn.execute(insert(auth_code), {
        "code_hash": digest(code), "client_id": req.client.client_id, "user_id": user.id,
        "redirect_uri": req.redirect_uri, "scope": grant.scope, "code_challenge": req.code_challenge,
        "patient_id": grant.patient, "expires": now + CODE_TTL, "used": False, "nonce": req.nonce,
        "encounter_id": grant.encounter})
    return code


def pkce_matches(verifier: str, challenge: str) -> bool:
    if not _PKCE.match(verifier or ""):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return secrets.compare_digest(computed, challenge)


def describe(scopes: ScopeSet, t: Any) -> list[dict[str, str]]:
    """Consent-page lines for ``scopes`` in the translator ``t``'s language."""
    items = []
    for sc in scopes.resources:
        verbs = ", ".join(t(f"scope.{c}") for c in "cruds" if c in sc.interactions)
        what = t("scope.all_types") if sc.rtype == "*" else sc.rtype
        items.append({"scope": sc.text(), "text": f"{verbs}: {what} {t(f'scope.ctx.{sc.context}')}"})
    for other in sorted(scopes.other):
        items.append({"scope": other, "text": t(f"scope.{other}")})
    return items
