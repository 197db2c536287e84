"""FHIR date/dateTime/instant values as inclusive ranges of integer microseconds (UTC).

A FHIR date is a range, not an instant: ``2024`` is the whole year, ``2024-05-01T10:00`` the whole
minute. Search compares ranges (``eq`` means "the value's range is inside the parameter's range"),
and the index stores ``low``/``high`` as integers so that both SQLite and PostgreSQL compare them
exactly and fast. The search engine parses query values with the same function.

Values without a timezone (dates, and times written without ``Z``/offset) are read as UTC: FHIR
leaves their zone unspecified, and one fixed rule keeps index and query consistent.
"""

from __future__ import annotations

import re

MIN_TIME = -(2**63)
"""The low end of an open range (BIGINT minimum): 'since always'."""
MAX_TIME = 2**63 - 1
"""The high end of an open range (BIGINT maximum): 'until forever'."""

_US_PER_SECOND = 1_000_000
_US_PER_MINUTE = 60 * _US_PER_SECOND
_US_PER_DAY = 86_400 * _US_PER_SECOND
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_PATTERN = re.compile(
    r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (era arithmetic, no datetime)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _malformed(value: str) -> ValueError:
    return ValueError(f"not a FHIR date/dateTime/instant: {value!r}")


def date_range(value: str) -> tuple[int, int]:
    """The inclusive range ``(low, high)`` in microseconds since the epoch (UTC) that ``value`` covers.

    Accepts every precision FHIR allows (year, month, day, minute, second, fraction of a second) with
    ``Z`` or a ``±hh:mm`` offset after a time. Raises ``ValueError`` for anything else.
    """
    match = _PATTERN.fullmatch(value) if type(value) is str else None
    if match is None:
        raise _malformed(str(value))
    year_s, month_s, day_s, hour_s, minute_s, second_s, fraction_s, zone = match.groups()
    year = int(year_s)
    if year == 0:
        raise _malformed(value)
    if month_s is None:
        low = _days_from_civil(year, 1, 1) * _US_PER_DAY
        return low, _days_from_civil(year + 1, 1, 1) * _US_PER_DAY - 1
    month = int(month_s)
    if not 1 <= month <= 12:
        raise _malformed(value)
    if day_s is None:
        low = _days_from_civil(year, month, 1) * _US_PER_DAY
        following = _days_from_civil(year + month // 12, month % 12 + 1, 1)
        return low, following * _US_PER_DAY - 1
    day = int(day_s)
    last_day = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    if not 1 <= day <= last_day:
        raise _malformed(value)
    low = _days_from_civil(year, month, day) * _US_PER_DAY
    if hour_s is None:
        return low, low + _US_PER_DAY - 1
    hour, minute = int(hour_s), int(minute_s)
    if hour > 23 or minute > 59:
        raise _malformed(value)
    low += hour * 3_600 * _US_PER_SECOND + minute * _US_PER_MINUTE
    if second_s is None:
        span = _US_PER_MINUTE
    else:
        second = int(second_s)
        if second > 59:
            raise _malformed(value)
        low += second * _US_PER_SECOND
        if fraction_s is None:
            span = _US_PER_SECOND
        else:
            digits = len(fraction_s)
            # Precision below a microsecond cannot be stored: such values cover one microsecond.
            low += int(fraction_s[:6].ljust(6, "0"))
            span = 10 ** (6 - digits) if digits < 6 else 1
    if zone is not None and zone != "Z":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 14 or zone_minutes > 59:
            raise _malformed(value)
        offset = (zone_hours * 60 + zone_minutes) * _US_PER_MINUTE
        low += -offset if zone[0] == "+" else offset
    return low, low + span - 1
