"""The token endpoint's grants (RFC 6749 + SMART App Launch v2 / Backend Services) and revocation
(RFC 7009).

* ``authorization_code``: PKCE verifier, same redirect URI and client, single use. A code presented
  again revokes every token issued under it (its *family*).
* ``refresh_token``: rotation. Each use returns a new refresh token and retires the old; presenting
  a retired one revokes the family (it was stolen, or the client is broken).
* ``client_credentials``: backend services authenticated by a ``private_key_jwt`` assertion.

Functions run inside the caller's write transaction and append their own audit rows; an
:class:`OAuthError` raised after a revocation must still be committed by the caller.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from sqlalchemy import Connection, delete, insert, select, update

from benhan.fhir.clock import Clock, system_clock
from benhan.settings import Settings

from . import audit, tokens
from .accounts import User, get_user
from .audit import AuditEntry
from .client_auth import authenticate_client
from .keys import ALG, KeyRing, private_key
from .oauth import digest, pkce_matches, role_scopes
from .oauth_clients import Client, get_client
from .oauth_errors import OAuthError
from .scopes import ScopeSet, narrow, parse_scopes
from .tables import auth_code, oauth_grant_token, refresh_token

BACKEND_TTL = 300  # SMART Backend Services: access tokens of at most five minutes


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and when a token request is served."""

    settings: Settings
    issuer: str  # origin of this server
    fhir_base: str
    token_url: str
    ip: str | None
    keyring: KeyRing
    clock: Clock = system_clock

    @property
    def now(self) -> int:
        return self.clock() // 1_000_000


def _grant_error(vi: str, en: str) -> OAuthError:
    return OAuthError("invalid_grant", vi, en)


def identify_client(conn: Connection, ep: Endpoint, form: dict[str, str]) -> Client:
    """The calling client: a signed assertion when one is sent (mandatory for confidential and backend
    clients), else the ``client_id`` of a public client."""
    if form.get("client_assertion") or form.get("client_assertion_type"):
        return authenticate_client(conn, form.get("client_assertion_type"), form.get("client_assertion"),
                                   ep.token_url, client_id=form.get("client_id") or None, clock=ep.clock)
    client = get_client(conn, form.get("client_id", ""))
    if client is None or client.disabled:
        raise OAuthError("invalid_client", "Ứng dụng không tồn tại hoặc đã bị vô hiệu hoá",
                         "Unknown or disabled client", status=401)
    if client.kind != "public":
        raise OAuthError("invalid_client", "Ứng dụng này phải xác thực bằng client_assertion (private_key_jwt)",
                         "This client must authenticate with a client_assertion (private_key_jwt)", status=401)
    return client


def revoke_family(conn: Connection, family: str, *, clock: Clock = system_clock) -> int:
    """Revoke every refresh and access token of one grant; returns how many access tokens."""
    conn.execute(update(refresh_token).where(refresh_token.c.family == family).values(revoked=True))
    rows = conn.execute(select(oauth_grant_token.c.jti, oauth_grant_token.c.expires)
                        .where(oauth_grant_token.c.family == family)).all()
    for jti, expires in rows:
        tokens.revoke(conn, jti, expires, clock=clock)
    conn.execute(delete(oauth_grant_token).where(oauth_grant_token.c.family == family))
    return len(rows)


def _user_entry(action: str, outcome: int, user: User | None, client: Client | None, ep: Endpoint, *,
                entity: str | None = None, patient: str | None = None, detail: str | None = None) -> AuditEntry:
    return AuditEntry(action, outcome, user.username if user else None, ",".join(user.roles) if user else None,
                      client.client_id if client else None, entity, [patient] if patient else [], ep.ip,
                      audit.OPERATIONS, detail)


def _fhir_user(user: User) -> str | None:
    if user.practitioner_id:
        return f"Practitioner/{user.practitioner_id}"
    if user.patient_id:
        return f"Patient/{user.patient_id}"
    return None


def _issue_for_user(conn: Connection, ep: Endpoint, client: Client, user: User, scopes: ScopeSet,
                    patient: str | None, family: str, nonce: str | None = None, encounter: str | None = None
                    ) -> tuple[dict[str, Any], str]:
    """Access token (+ refresh token, + id_token) for a user grant; returns the response and the jti."""
    ttl = ep.settings.access_token_ttl
    fhir_user = _fhir_user(user)
    token, claims = tokens.issue(conn, subject=user.username, kind="user", scope=scopes.text(), ttl=ttl,
                                 client_id=client.client_id, patient=patient,
                                 fhir_user=fhir_user if "fhirUser" in scopes.other else None, clock=ep.clock)
    conn.execute(delete(oauth_grant_token).where(oauth_grant_token.c.expires < ep.now))
    conn.execute(insert(oauth_grant_token), {"jti": claims.jti, "family": family, "expires": claims.expires})
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": claims.scope}
    if patient:
        body["patient"] = patient
    if encounter:
        body["encounter"] = encounter  # SMART launch/encounter: launch context, not an access limit
    if scopes.other & {"offline_access", "online_access"}:
        body["refresh_token"] = _new_refresh(conn, ep, client, user, claims.scope, patient, family)
    if "openid" in scopes.other:
        body["id_token"] = _id_token(conn, ep, client, user, fhir_user if "fhirUser" in scopes.other else None,
                                     nonce)
    return body, claims.jti


def _new_refresh(conn: Connection, ep: Endpoint, client: Client, user: User, scope: str, patient: str | None,
                 family: str) -> str:
    value = secrets.token_urlsafe(32)
    conn.execute(delete(refresh_token).where(refresh_token.c.expires < ep.now))
    conn.execute(insert(refresh_token), {
        "token_hash": digest(value), "family": family, "client_id": client.client_id, "user_id": user.id,
        "scope": scope, "patient_id": patient, "expires": ep.now + ep.settings.refresh_token_ttl, "used": False,
        "revoked": False})
    return value


def _id_token(conn: Connection, ep: Endpoint, client: Client, user: User, fhir_user: str | None,
              nonce: str | None) -> str:
    kid, key = private_key(conn)
    claims: dict[str, Any] = {"iss": ep.issuer, "sub": user.username, "aud": client.client_id, "iat": ep.now,
                              "exp": ep.now + ep.settings.access_token_ttl}
    if fhir_user:
        claims["fhirUser"] = f"{ep.fhir_base}/{fhir_user}"
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode(claims, key, algorithm=ALG, headers={"kid": kid})  # type: ignore[arg-type]


def _active_user(conn: Connection, user_id: int) -> User:
    user = get_user(conn, user_id=user_id)
    if user is None or user.disabled:
        raise _grant_error("Tài khoản không còn hoạt động", "The account is no longer active")
    return user


def authorization_code(conn: Connection, ep: Endpoint, form: dict[str, str]) -> dict[str, Any]:
    client = identify_client(conn, ep, form)
    code = form.get("code", "")
    row = conn.execute(select(auth_code).where(auth_code.c.code_hash == digest(code))).mappings().first()
    if row is None or row["client_id"] != client.client_id:
        raise _grant_error("Mã cấp quyền không hợp lệ", "Invalid authorization code")
    if row["used"]:
        _replayed_code(conn, ep, client, row["code_hash"])
    if row["expires"] <= ep.now:
        raise _grant_error("Mã cấp quyền đã hết hạn", "The authorization code has expired")
    if form.get("redirect_uri") != row["redirect_uri"]:
        raise _grant_error("redirect_uri khác với lúc xin mã", "redirect_uri differs from the authorization request")
    if not pkce_matches(form.get("code_verifier", ""), row["code_challenge"]):
        raise _grant_error("code_verifier không khớp (PKCE)", "code_verifier does not match (PKCE)")
    claimed = conn.execute(update(auth_code).where(auth_code.c.code_hash == row["code_hash"],
                                                   auth_code.c.used.is_(False)).values(used=True))
    if claimed.rowcount != 1:
        _replayed_code(conn, ep, client, row["code_hash"])
    user = _active_user(conn, row["user_id"])
    scopes = parse_scopes(row["scope"])
    body, jti = _issue_for_user(conn, ep, client, user, scopes, row["patient_id"], family=row["code_hash"],
                                nonce=row["nonce"], encounter=row["encounter_id"])
    detail = f"grant=authorization_code scope={body['scope']}"
    audit.append(conn, [_user_entry("token-issue", 200, user, client, ep, entity=f"token/{jti}",
                                    patient=row["patient_id"], detail=detail)])
    return body


def _replayed_code(conn: Connection, ep: Endpoint, client: Client, code_hash: str) -> None:
    revoked = revoke_family(conn, code_hash, clock=ep.clock)
    audit.append(conn, [_user_entry("code-reuse", 400, None, client, ep,
                                    detail=f"authorization code used twice; {revoked} access token(s) revoked")])
    raise _grant_error("Mã cấp quyền đã được dùng; các mã truy cập cấp từ nó đã bị thu hồi",
                       "The authorization code was already used; tokens issued from it are revoked")


def refresh(conn: Connection, ep: Endpoint, form: dict[str, str]) -> dict[str, Any]:
    client = identify_client(conn, ep, form)
    row = conn.execute(select(refresh_token).where(refresh_token.c.token_hash == digest(form.get("refresh_token", "")))
                       ).mappings().first()
    if row is None or row["client_id"] != client.client_id or row["revoked"]:
        raise _grant_error("Refresh token không hợp lệ hoặc đã bị thu hồi", "Invalid or revoked refresh token")
    if row["used"]:
        _replayed_refresh(conn, ep, client, row)
    if row["expires"] <= ep.now:
        raise _grant_error("Refresh token đã hết hạn", "The refresh token has expired")
    claimed = conn.execute(update(refresh_token).where(refresh_token.c.token_hash == row["token_hash"],
                                                       refresh_token.c.used.is_(False)).values(used=True))
    if claimed.rowcount != 1:
        _replayed_refresh(conn, ep, client, row)
    user = _active_user(conn, row["user_id"])
    granted = parse_scopes(row["scope"])
    if form.get("scope"):
        granted = narrow(parse_scopes(form["scope"]), granted)
    scopes = role_scopes(granted, user)
    if not scopes.resources:
        raise OAuthError("invalid_scope", "Không còn phạm vi nào được phép", "No scope is allowed any more")
    # SMART: the refreshed token response repeats the grant's launch context (patient, encounter)
    encounter = conn.execute(select(auth_code.c.encounter_id).where(auth_code.c.code_hash == row["family"])).scalar()
    body, jti = _issue_for_user(conn, ep, client, user, scopes, row["patient_id"], family=row["family"],
                                encounter=encounter)
    audit.append(conn, [_user_entry("token-refresh", 200, user, client, ep, entity=f"token/{jti}",
                                    patient=row["patient_id"], detail=f"scope={body['scope']}")])
    return body


def _replayed_refresh(conn: Connection, ep: Endpoint, client: Client, row: Any) -> None:
    revoked = revoke_family(conn, row["family"], clock=ep.clock)
    user = get_user(conn, user_id=row["user_id"])
    audit.append(conn, [_user_entry("refresh-reuse", 400, user, client, ep,
                                    detail=f"rotated refresh token presented again; family revoked "
                                           f"({revoked} access token(s))")])
    raise _grant_error("Refresh token đã được dùng; toàn bộ phiên cấp quyền đã bị thu hồi",
                       "The refresh token was already used; the whole grant has been revoked")


def client_credentials(conn: Connection, ep: Endpoint, form: dict[str, str]) -> dict[str, Any]:
    if not form.get("client_assertion"):
        raise OAuthError("invalid_client", "Cần client_assertion (private_key_jwt)",
                         "A client_assertion (private_key_jwt) is required", status=401)
    client = identify_client(conn, ep, form)
    if client.kind != "backend":
        raise OAuthError("unauthorized_client", "Ứng dụng này không được dùng client_credentials",
                         "This client may not use client_credentials")
    granted = narrow(parse_scopes(form.get("scope", "")), parse_scopes(client.scopes))
    scopes = ScopeSet(tuple(sc for sc in granted.resources if sc.context == "system"), frozenset())
    if not scopes.resources:
        raise OAuthError("invalid_scope", "Không có phạm vi system/ nào được phép cho ứng dụng này",
                         "None of the requested system/ scopes is registered for this client")
    ttl = min(ep.settings.access_token_ttl, BACKEND_TTL)
    token, claims = tokens.issue(conn, subject=client.client_id, kind="system", scope=scopes.text(), ttl=ttl,
                                 client_id=client.client_id, clock=ep.clock)
    audit.append(conn, [_user_entry("token-issue", 200, None, client, ep, entity=f"token/{claims.jti}",
                                    detail=f"grant=client_credentials scope={claims.scope}")])
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": claims.scope}


GRANTS = {"authorization_code": authorization_code, "refresh_token": refresh, "client_credentials": client_credentials}


def revoke(conn: Connection, ep: Endpoint, form: dict[str, str]) -> None:
    """RFC 7009: revoke a refresh token (with its whole grant) or an access token of the calling client.

    Unknown, expired or foreign tokens are ignored (the answer is 200 either way).
    """
    client = identify_client(conn, ep, form)
    value = form.get("token", "")
    if not value:
        raise OAuthError("invalid_request", "Thiếu token", "token is required")
    if form.get("token_type_hint") != "access_token":
        row = conn.execute(select(refresh_token).where(refresh_token.c.token_hash == digest(value))).mappings().first()
        if row is not None:
            if row["client_id"] == client.client_id:
                count = revoke_family(conn, row["family"], clock=ep.clock)
                user = get_user(conn, user_id=row["user_id"])
                audit.append(conn, [_user_entry("token-revoke", 200, user, client, ep,
                                                detail=f"refresh token and grant ({count} access token(s))")])
            return
    try:
        claims = tokens.verify(conn, value, ep.keyring, clock=ep.clock)
    except tokens.TokenError:
        return
    if claims.client_id != client.client_id:
        return
    tokens.revoke(conn, claims.jti, claims.expires, clock=ep.clock)
    user = get_user(conn, claims.subject) if claims.kind == "user" else None
    audit.append(conn, [_user_entry("token-revoke", 200, user, client, ep, entity=f"token/{claims.jti}",
                                    detail="access token")])
