"""Who is making a request: a user (with roles, departments, links to FHIR resources) or a system
client, the token's scopes and launch context, where from, and the user's active break-glass grants.

Built once per request from a verified token and the database (roles are never taken from the token).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, exists, select

from benhan.fhir.clock import Clock, system_clock

from .accounts import User, aggregated, split_list, user_from_row, user_select
from .oauth_clients import get_client
from .scopes import ScopeSet, parse_scopes
from .tables import break_glass, revoked_token, user_account
from .tokens import TokenClaims, TokenError


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # user | system
    scopes: ScopeSet
    username: str | None = None
    user_id: int | None = None
    roles: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    practitioner_id: str | None = None
    patient_id: str | None = None  # the user's own Patient (portal users)
    facility_id: str | None = None
    client_id: str | None = None
    launch_patient: str | None = None  # SMART launch context for patient/ scopes
    grants: tuple[str, ...] = ()  # Patient ids opened by break-glass, still valid
    jti: str | None = None
    expires: int = 0
    ip: str | None = None

    @property
    def who(self) -> str:
        return self.username or self.client_id or "?"


def active_grants(conn: Connection, user_id: int, clock: Clock = system_clock) -> tuple[str, ...]:
    rows = conn.execute(select(break_glass.c.patient_id).where(
        break_glass.c.user_id == user_id, break_glass.c.expires > clock())).scalars().all()
    return tuple(sorted(set(rows)))


def from_claims(conn: Connection, claims: TokenClaims, *, ip: str | None, clock: Clock = system_clock) -> Principal:
    """The principal for a token whose signature was verified; refuses revoked tokens and disabled users
    or clients.

    For users, the account, roles, departments, break-glass grants and the revocation check are ONE
    statement: this runs before every API request.
    """
    scopes = parse_scopes(claims.scope)
    if claims.client_id:
        client = get_client(conn, claims.client_id)
        if client is None or client.disabled:
            raise TokenError("invalid_token", "Ứng dụng đã bị vô hiệu hoá", "The client has been disabled")
    if claims.kind == "system":
        if conn.execute(_revoked_statement(), {"jti": claims.jti}).scalar():
            raise _revoked()
        return Principal("system", scopes, client_id=claims.client_id or claims.subject, jti=claims.jti,
                         expires=claims.expires, ip=ip)
    row = conn.execute(_user_statement(), {"username": claims.subject, "jti": claims.jti, "now": clock()}
                       ).mappings().first()
    if row is not None and row["revoked"]:
        raise _revoked()
    user = None if row is None else user_from_row(row)
    if user is None or user.disabled:
        raise TokenError("invalid_token", "Tài khoản không còn hoạt động", "The account is no longer active")
    return Principal("user", scopes, username=user.username, user_id=user.id, roles=user.roles,
                     departments=user.departments, practitioner_id=user.practitioner_id, patient_id=user.patient_id,
                     facility_id=user.facility_id, client_id=claims.client_id, launch_patient=claims.patient,
                     grants=split_list(row["grant_list"]), jti=claims.jti, expires=claims.expires, ip=ip)


def _is_revoked() -> Any:
    return exists(select(revoked_token.c.jti).where(revoked_token.c.jti == bindparam("jti")))


@cache
def _revoked_statement() -> Any:
    """Has the token (``:jti``) been revoked? Built once: statement building was CPU on every request."""
    return select(_is_revoked())


@cache
def _user_statement() -> Any:
    """The account (``:username``) with roles, departments, break-glass grants still open at ``:now`` and
    whether the token ``:jti`` is revoked; built once, run with parameters on every request."""
    bg = break_glass
    grants = select(aggregated(bg.c.patient_id)).where(bg.c.user_id == user_account.c.id,
                                                       bg.c.expires > bindparam("now"))
    return user_select(bindparam("username")).add_columns(grants.scalar_subquery().label("grant_list"),
                                                          _is_revoked().label("revoked"))


def _revoked() -> TokenError:
    return TokenError("invalid_token", "Mã truy cập đã bị thu hồi", "The access token has been revoked")


# The web app's session stands for the user at the desk: every resource type the user's roles allow
# (scopes never widen roles; the policy still decides per record).
WEB_SESSION_SCOPES = "openid fhirUser user/*.cruds"
WEB_CLIENT_ID = "benhan-web"  # audit: what the user worked through


def for_web_session(conn: Connection, user: User, *, ip: str | None, clock: Clock = system_clock) -> Principal:
    """The principal of a signed-in web session (the clinician web app) for an enabled ``user``."""
    return Principal("user", parse_scopes(WEB_SESSION_SCOPES), username=user.username, user_id=user.id,
                     roles=user.roles, departments=user.departments, practitioner_id=user.practitioner_id,
                     patient_id=user.patient_id, facility_id=user.facility_id, client_id=WEB_CLIENT_ID,
                     grants=active_grants(conn, user.id, clock), ip=ip)
