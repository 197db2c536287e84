"""Registered OAuth clients: user-facing SMART apps (``public``: PKCE only; ``confidential``: PKCE
and a ``private_key_jwt`` client assertion) and backend services (other hospitals, the Department of
Health, lab middleware) that authenticate with a JWT signed by a key from the JWKS registered here.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def get_client(conn: Connection, client_id: str) -> Client | None:
    row = conn.execute(select(oauth_client).where(oauth_client.c.client_id == client_id)).mappings().first()
    if row is None:
        return None
    return Client(row["client_id"], row["name"], row["kind"], tuple(orjson.loads(row["redirect_uris"])),
                  row["scopes"], orjson.loads(row["jwks"]) if row["jwks"] else None, row["disabled"])


def add_client(conn: Connection, *, client_id: str, name: str, kind: str, scopes: str,
               redirect_uris: list[str] | tuple[str, ...] = (), jwks: dict[str, object] | None = None) -> Client:
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
    conn.execute(insert(oauth_client), {
        "client_id": client_id, "name": name, "kind": kind, "redirect_uris": orjson.dumps(list(redirect_uris)).decode(),
        "scopes": parsed.text(), "jwks": orjson.dumps(jwks).decode() if jwks else None, "disabled": False,
        "created": system_clock()})
    client = get_client(conn, client_id)
    assert client is not None
    return client


def set_client_disabled(conn: Connection, client_id: str, disabled: bool = True) -> None:
    conn.execute(update(oauth_client).where(oauth_client.c.client_id == client_id).values(disabled=disabled))
