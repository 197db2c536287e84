"""Jinja2 environment of the web app (``templates/``, autoescaped) and page rendering helpers."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from benhan.security.web_render import WEB_DIR

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # hospital local time (UTC+7, no daylight saving)


def local_time(value: str | datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A FHIR dateTime / instant (or datetime) shown in hospital time, Vietnamese day-first order."""
    if not value:
        return ""
    if isinstance(value, str):
        if len(value) <= 10:
            return local_date(value)
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(VN_TZ)
    return value.strftime(fmt)


def local_date(value: str | date | None) -> str:
    """``yyyy-mm-dd`` (or a partial FHIR date) as ``dd/mm/yyyy``."""
    if not value:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    parts = value[:10].split("-")
    return "/".join(reversed(parts))


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["local_time"] = local_time
    env.filters["local_date"] = local_date
    return env


def render_template(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
