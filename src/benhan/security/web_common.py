"""Helpers shared by the HTML routes (login pages, OAuth consent): transactions, the injectable
clock, form parsing, the signed-in user of a request and the cookies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from benhan.fhir.clock import Clock, system_clock

from . import sessions
from .accounts import User, get_user
from .audit import AuditEntry

MAX_FORM_BYTES = 64 * 1024


def clock(request: Request) -> Clock:
    """``app.state.clock`` when a test sets one, else the system clock."""
    return getattr(request.app.state, "clock", system_clock)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@contextmanager
def write_tx(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            yield conn


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (first value of each field); {} for anything else."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    out: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        out.setdefault(key, value)
    return out


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: an open redirect would hand our login page to phishers."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_url(next_path: str, *, expired: bool = False) -> str:
    return f"/auth/login?next={quote(next_path, safe='')}" + ("&expired=1" if expired else "")


def secure_cookies(request: Request) -> bool:
    """Secure cookies when served over HTTPS (directly or per the configured public URL)."""
    settings = request.app.state.settings
    return settings.secure_cookies and (request.url.scheme == "https" or settings.base_url.startswith("https://"))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure_cookies(request))


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: sessions.Session
    user: User


def signed_in(conn: Connection, request: Request) -> SignedIn | None:
    """The live session and its (enabled) user; refreshes the idle deadline."""
    session = sessions.load(conn, request.app.state.settings, request.cookies.get(sessions.COOKIE),
                            clock=clock(request))
    if session is None:
        return None
    user = get_user(conn, user_id=session.user_id)
    if user is None or user.disabled:
        sessions.revoke(conn, session.id_hash)
        return None
    return SignedIn(session, user)


def to_login(request: Request) -> RedirectResponse:
    """Back to the login page, then here; says the session expired when a cookie was presented."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(login_url(here, expired=sessions.COOKIE in request.cookies), status_code=303)
    clear_cookie(request, response, sessions.COOKIE)
    return response


def user_entry(action: str, outcome: int, user: User | None, request: Request, *, entity: str | None = None,
               client_id: str | None = None, detail: str | None = None) -> AuditEntry:
    """An audit entry about a user's own account (no secrets, no personal data beyond the login)."""
    return AuditEntry(action, outcome, user.username if user else None, ",".join(user.roles) if user else None,
                      client_id, entity or (f"user/{user.username}" if user else None), [], client_ip(request),
                      None, detail)
