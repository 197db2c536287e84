"""Time for the store: integer microseconds since the Unix epoch (UTC), and FHIR instants."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

Clock = Callable[[], int]


def system_clock() -> int:
    """Now, in microseconds since the epoch."""
    return time.time_ns() // 1000


def to_instant(us: int) -> str:
    """Microseconds -> FHIR instant with millisecond precision, e.g. ``2026-11-22T08:00:00.123Z``."""
    seconds, micros = divmod(us, 1_000_000)
    return f"{_instant_second(seconds)}{micros // 1000:03d}Z"


@lru_cache(maxsize=1024)
def _instant_second(seconds: int) -> str:
    """``2026-11-22T08:00:00.`` (cached: every write formats the current second twice, strftime is slow)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def to_http_date(us: int) -> str:
    """Microseconds -> RFC 7231 HTTP date (for Last-Modified)."""
    dt = datetime.fromtimestamp(us / 1_000_000, UTC)
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


VIETNAM = timezone(timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh, no daylight saving


def local_date(us: int) -> date:
    """The calendar date in Vietnam at ``us`` (what "today" means for a hospital here)."""
    return datetime.fromtimestamp(us / 1_000_000, VIETNAM).date()
