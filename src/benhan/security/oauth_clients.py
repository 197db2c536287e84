"""Registered OAuth clients: user-facing SMART apps (``public``: PKCE only; ``confidential``: PKCE
and a ``private_key_jwt`` client assertion) and backend services (other hospitals, the Department of
Health, lab middleware) that authenticate with a JWT signed by a key from the JWKS registered here.

A user-facing app may also have a *launch URL* (SMART EHR launch): where the clinician web app sends
the browser with ``iss`` and ``launch``. It is kept in the ``redirect_uris`` column, which then holds a
JSON object ``{"redirect_uris": [...], "launch_url": "..."}`` instead of the plain array (no schema
change); both forms are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Connection, insert, select, update

from benhan.fhir.clock import system_clock

from .scopes import parse_scopes
from .tables import oauth_client

KINDS = ("public", "confidential", "backend")


class ClientError(Exception):
    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi, self.en = vi, en


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    kind: str
    redirect_uris: tuple[str, ...]
    scopes: str
    jwks: dict[str, object] | None
    disabled: bool
    launch_url: str | None = None  # SMART EHR launch: where the web app sends the browser


def _from_row(row: Any) -> Client:
    stored = orjson.loads(row["redirect_uris"])
    uris, launch_url = (stored, None) if isinstance(stored, list) else (stored["redirect_uris"], stored["launch_url"])
    return Client(row["client_id"], row["name"], row["kind"], tuple(uris), row["scopes"],
                  orjson.loads(row["jwks"]) if row["jwks"] else None, row["disabled"], launch_url)


def get_client(conn: Connection, client_id: str) -> Client | None:
    row = conn.execute(select(oauth_client).where(oauth_client.c.client_id == client_id)).mappings().first()
    return None if row is None else _from_row(row)


def launchable_clients(conn: Connection) -> list[Client]:
    """Enabled apps with a launch URL (the web app's "Apps" menu), by name."""
    rows = conn.execute(select(oauth_client).where(oauth_client.c.disabled.is_(False),
                                                   oauth_client.c.kind != "backend")
                        .order_by(oauth_client.c.name, oauth_client.c.client_id)).mappings()
    return [c for c in map(_from_row, rows) if c.launch_url]


def check_launch_url(url: str) -> str:
    """An absolute ``https`` URL (``http`` only on this machine, for development), without a fragment."""
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local) or not parts.netloc \
            or parts.fragment:
        raise ClientError("Địa chỉ khởi chạy phải là URL https tuyệt đối, không có phần #",
                          "The launch URL must be an absolute https URL without a fragment")
    return url


def add_client(conn: Connection, *, client_id: str, name: str, kind: str, scopes: str,
               redirect_uris: list[str] | tuple[str, ...] = (), jwks: dict[str, object] | None = None,
               launch_url: str | None = None) -> Client:
    if kind not in KINDS:
        raise ClientError(f"Loại ứng dụng phải là {' hoặc '.join(KINDS)}", f"kind must be one of {KINDS}")
    if get_client(conn, client_id) is not None:
        raise ClientError(f"Ứng dụng '{client_id}' đã tồn tại", f"Client '{client_id}' already exists")
    parsed = parse_scopes(scopes)
    if not parsed.resources and not parsed.other:
        raise ClientError("Không có phạm vi (scope) hợp lệ", "No valid scope given")
    if kind in ("backend", "confidential") and (not jwks or not isinstance(jwks.get("keys"), list)
                                                or not jwks["keys"]):
        raise ClientError("Ứng dụng hệ thống hoặc ứng dụng bảo mật cần JWKS có ít nhất một khoá",
                          "A backend or confidential client needs a JWKS with at least one key")
    if kind == "backend":
        if any(s.context != "system" for s in parsed.resources):
            raise ClientError("Dịch vụ hệ thống chỉ nhận phạm vi system/", "Backend clients take system/ scopes only")
    elif not redirect_uris:
        raise ClientError("Ứng dụng cần ít nhất một redirect URI", "A user-facing app needs a redirect URI")
    if launch_url is not None:
        if kind == "backend":
            raise ClientError("Dịch vụ hệ thống không có địa chỉ khởi chạy", "Backend clients have no launch URL")
        if "launch" not in parsed.other:
            raise ClientError("Ứng dụng khởi chạy từ EMR cần phạm vi 'launch'",
                              "An app launched from the EMR needs the 'launch' scope")
        check_launch_url(launch_url)
    stored: object = list(redirect_uris)
    if launch_url:
        stored = {"redirect_uris": list(redirect_uris), "launch_url": launch_url}
    conn.execute(insert(oauth_client), {
        "client_id": client_id, "name": name, "kind": kind, "redirect_uris": orjson.dumps(stored).decode(),
        "scopes": parsed.text(), "jwks": orjson.dumps(jwks).decode() if jwks else None, "disabled": False,
        "created": system_clock()})
    client = get_client(conn, client_id)
    assert client is not None
    return client


def set_client_disabled(conn: Connection, client_id: str, disabled: bool = True) -> None:
    conn.execute(update(oauth_client).where(oauth_client.c.client_id == client_id).values(disabled=disabled))
