"""Vietnamese local time (UTC+07:00, no daylight saving) and FHIR date/time strings."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def today_in_vietnam() -> date:
    """The hospital's calendar day (between 17:00 and 24:00 UTC it is already tomorrow in Vietnam)."""
    return datetime.now(VN_TZ).date()


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """``day`` at the given Vietnamese wall-clock time."""
    return datetime.combine(day, time(hour, minute, second), VN_TZ)


def fhir_datetime(moment: datetime) -> str:
    """``2024-03-05T08:15:00+07:00`` (seconds precision, valid as FHIR dateTime and instant)."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def fhir_date(day: date) -> str:
    return day.isoformat()


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, day: date) -> int:
    """Age in completed years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
