"""Server-side web sessions (table ``web_session``), shared by every worker: nothing in memory.

The browser holds a random session id in an HttpOnly cookie; the database keeps only its SHA-256,
the user, a session-bound CSRF token, and the creation / last-seen times that the idle and
absolute timeouts are measured against. Logging out revokes one row, "log out everywhere" all of
the user's rows. Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from benhan.fhir.clock import Clock, system_clock
from benhan.settings import Settings

from .tables import web_session

COOKIE = "benhan_session"
_US = 1_000_000


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    id_hash: str
    user_id: int
    csrf: str
    created: int
    last_seen: int


def create(conn: Connection, user_id: int, *, ip: str | None, clock: Clock = system_clock) -> tuple[str, Session]:
    """A new session for ``user_id``; returns the cookie value (shown once) and the session."""
    sid = secrets.token_urlsafe(32)
    now = clock()
    row = {"id_hash": digest(sid), "user_id": user_id, "csrf": secrets.token_urlsafe(24), "created": now,
           "last_seen": now, "revoked": False, "ip": (ip or "")[:64] or None}
    conn.execute(insert(web_session), row)
    return sid, Session(row["id_hash"], user_id, row["csrf"], now, now)  # type: ignore[arg-type]


def load(conn: Connection, settings: Settings, sid: str | None, *, clock: Clock = system_clock,
         touch: bool = True) -> Session | None:
    """The live session for cookie value ``sid``, or None (unknown, revoked, idle or too old).

    ``touch`` moves the idle deadline forward (every request the user makes).
    """
    if not sid:
        return None
    row = conn.execute(select(web_session).where(web_session.c.id_hash == digest(sid))).mappings().first()
    if row is None or row["revoked"]:
        return None
    now = clock()
    if now - row["last_seen"] > settings.session_idle_seconds * _US or \
            now - row["created"] > settings.session_absolute_seconds * _US:
        conn.execute(update(web_session).where(web_session.c.id_hash == row["id_hash"]).values(revoked=True))
        return None
    if touch:
        conn.execute(update(web_session).where(web_session.c.id_hash == row["id_hash"]).values(last_seen=now))
    return Session(row["id_hash"], row["user_id"], row["csrf"], row["created"], now if touch else row["last_seen"])


def revoke(conn: Connection, id_hash: str) -> None:
    conn.execute(update(web_session).where(web_session.c.id_hash == id_hash).values(revoked=True))


def revoke_all(conn: Connection, user_id: int, *, keep: str | None = None) -> int:
    """Revoke every session of the user (except ``keep``, an id hash); returns how many were live."""
    cond = [web_session.c.user_id == user_id, web_session.c.revoked.is_(False)]
    if keep is not None:
        cond.append(web_session.c.id_hash != keep)
    return int(conn.execute(update(web_session).where(*cond).values(revoked=True)).rowcount or 0)


def purge(conn: Connection, settings: Settings, *, clock: Clock = system_clock) -> None:
    """Delete rows that can no longer be used (revoked or past the absolute timeout)."""
    oldest = clock() - settings.session_absolute_seconds * _US
    conn.execute(delete(web_session).where((web_session.c.revoked.is_(True)) | (web_session.c.created < oldest)))
