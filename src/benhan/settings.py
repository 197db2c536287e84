"""Runtime settings, read once from ``BENHAN_*`` environment variables.

The names are a stable contract: operators' scripts and our own checks rely on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def default_database_url() -> str:
    """SQLite file under ``./var/`` (the embedded default)."""
    return f"sqlite:///{Path('var') / 'benhan.db'}"


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration of one Bệnh Án process."""

    database_url: str = field(default_factory=default_database_url)
    # Public base URL of the FHIR endpoint (e.g. https://emr.bv.vn/fhir); derived from the request if empty.
    base_url: str = ""
    max_bundle_bytes: int = 10 * 1024 * 1024
    max_resource_bytes: int = 2 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 1000
    demo: bool = False
    # This hospital's 5-character BHYT facility code (mã cơ sở KCB), e.g. 01001.
    facility_code: str = "01999"
    sql_echo: bool = False
    # Requests a worker runs at once in its thread pool (more wait in the event loop); see docs/architecture.md.
    request_threads: int = 8
    # Security (see docs/security.md).
    access_token_ttl: int = 900  # seconds; bearer tokens are short-lived
    refresh_token_ttl: int = 8 * 3600
    password_min_length: int = 12
    lockout_threshold: int = 5  # failures before the first lock
    lockout_base_seconds: int = 60  # first lock; doubles with each further failure
    totp_required_roles: tuple[str, ...] = ("admin",)
    session_idle_seconds: int = 15 * 60
    session_absolute_seconds: int = 8 * 3600
    secure_cookies: bool = True
    break_glass_minutes: int = 60

    @classmethod
    def from_env(cls) -> Settings:
        """Build settings from the process environment."""
        return cls(
            database_url=os.environ.get("BENHAN_DATABASE_URL") or default_database_url(),
            base_url=os.environ.get("BENHAN_BASE_URL", "").rstrip("/"),
            max_bundle_bytes=_env_int("BENHAN_MAX_BUNDLE_BYTES", 10 * 1024 * 1024),
            max_resource_bytes=_env_int("BENHAN_MAX_RESOURCE_BYTES", 2 * 1024 * 1024),
            default_page_size=_env_int("BENHAN_DEFAULT_PAGE_SIZE", 20),
            max_page_size=_env_int("BENHAN_MAX_PAGE_SIZE", 1000),
            demo=_env_bool("BENHAN_DEMO", False),
            facility_code=os.environ.get("BENHAN_FACILITY_CODE") or "01999",
            sql_echo=_env_bool("BENHAN_SQL_ECHO", False),
            request_threads=max(1, _env_int("BENHAN_REQUEST_THREADS", 8)),
            access_token_ttl=_env_int("BENHAN_ACCESS_TOKEN_TTL", 900),
            refresh_token_ttl=_env_int("BENHAN_REFRESH_TOKEN_TTL", 8 * 3600),
            password_min_length=_env_int("BENHAN_PASSWORD_MIN_LENGTH", 12),
            lockout_threshold=_env_int("BENHAN_LOCKOUT_THRESHOLD", 5),
            lockout_base_seconds=_env_int("BENHAN_LOCKOUT_BASE_SECONDS", 60),
            totp_required_roles=tuple(r.strip() for r in os.environ.get("BENHAN_TOTP_REQUIRED_ROLES", "admin")
                                      .split(",") if r.strip()),
            session_idle_seconds=_env_int("BENHAN_SESSION_IDLE_SECONDS", 15 * 60),
            session_absolute_seconds=_env_int("BENHAN_SESSION_ABSOLUTE_SECONDS", 8 * 3600),
            secure_cookies=_env_bool("BENHAN_SECURE_COOKIES", True),
            break_glass_minutes=_env_int("BENHAN_BREAK_GLASS_MINUTES", 60),
        )
