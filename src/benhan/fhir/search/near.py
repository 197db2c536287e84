"""``Location?near=[latitude]|[longitude]|[distance]|[units]`` (R4 SearchParameter ``Location-near``).

WGS84 degrees; the distance is optional (:data:`DEFAULT_DISTANCE_KM`, our choice: R4 leaves "near" to the
server) and its units default to kilometres, as R4 says; any UCUM length unit of
:mod:`benhan.fhir.search.ucum` is accepted (``km``, ``m``, ``[mi_i]``, ``[ft_i]``...). A Location matches
when the great-circle distance from the given point to its ``position`` is at most the distance
(:mod:`benhan.fhir.geo`): the index rows are first narrowed to a latitude/longitude box around the circle
(an index range), then tested exactly by comparing squared chords, in plain SQL arithmetic on both
engines. Commas OR points, repeated parameters AND them; ``:missing`` tells Locations with and without an
indexed position apart. Malformed values are a 400 whose location is ``http.near``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, literal, or_

from ..errors import FhirError, Issue
from ..geo import bounding_box, chord2_limit, unit_vector, wrap_longitude
from ..special_tables import idx_position
from . import ucum
from .problems import bad_modifier
from .query import split_escaped, unescape
from .sql import Context, any_of, correlate

DEFAULT_DISTANCE_KM = 10.0
"""The distance when the query gives none: about a district of Hà Nội or Hồ Chí Minh City."""
DEFAULT_UNITS = "km"
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # FHIR decimal


def _bad(raw: str, value: str, vi: str, en: str) -> FhirError:
    return FhirError(400, [Issue("invalid", f"Giá trị '{value}' của tham số '{raw}' không hợp lệ: {vi}",
                                 f"Invalid value '{value}' for search parameter '{raw}': {en}", raw,
                                 location=f"http.{raw}")])


def _decimal(raw: str, value: str, text: str, what_vi: str, what_en: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise _bad(raw, value, f"{what_vi} '{text}' không phải số", f"the {what_en} '{text}' is not a number")
    number = float(Decimal(text))
    if number in (float("inf"), float("-inf")):
        raise _bad(raw, value, f"{what_vi} '{text}' quá lớn", f"the {what_en} '{text}' is too large")
    return number


def parse(raw: str, value: str) -> tuple[float, float, float]:
    """``(latitude, longitude, distance in km)`` of one ``near`` value (escaped), or a 400."""
    parts = [unescape(part).strip() for part in split_escaped(value, "|")]
    if len(parts) < 2 or len(parts) > 4:
        raise _bad(raw, value, "cần vĩ độ|kinh độ|khoảng cách|đơn vị", "expected latitude|longitude|distance|units")
    latitude = _decimal(raw, value, parts[0], "vĩ độ", "latitude")
    longitude = _decimal(raw, value, parts[1], "kinh độ", "longitude")
    if not -90.0 <= latitude <= 90.0:
        raise _bad(raw, value, "vĩ độ phải trong [-90, 90]", "the latitude must be within [-90, 90]")
    if not -180.0 <= longitude <= 180.0:
        raise _bad(raw, value, "kinh độ phải trong [-180, 180]", "the longitude must be within [-180, 180]")
    distance_text = parts[2] if len(parts) > 2 else ""
    units = (parts[3] if len(parts) > 3 else "") or DEFAULT_UNITS
    if not distance_text:  # R4: without a distance the server decides, "and units are irrelevant"
        return latitude, longitude, DEFAULT_DISTANCE_KM
    distance = _decimal(raw, value, distance_text, "khoảng cách", "distance")
    if distance < 0:
        raise _bad(raw, value, "khoảng cách không được âm", "the distance cannot be negative")
    ratio = dict(ucum.commensurable(units)).get("km")
    if ratio is None:
        raise _bad(raw, value, f"'{units}' không phải đơn vị độ dài UCUM được hỗ trợ",
                   f"'{units}' is not a supported UCUM unit of length (km, m, [mi_i], ...)")
    return latitude, longitude, float(Decimal(distance_text) * ratio)


def _within(p: Any, latitude: float, longitude: float, distance_km: float) -> ColumnElement[bool]:
    """Rows of ``idx_position`` (alias ``p``) at most ``distance_km`` from the point: box, then exact."""
    longitude = wrap_longitude(longitude)  # as stored (180 is -180)
    low, high, longitudes = bounding_box(latitude, longitude, distance_km)
    conds: list[ColumnElement[bool]] = [p.c.latitude >= low, p.c.latitude <= high]
    if longitudes is not None:
        conds.append(any_of([and_(p.c.longitude >= west, p.c.longitude <= east) for west, east in longitudes]))
    limit = chord2_limit(distance_km)
    if limit is not None:
        x, y, z = (literal(v, Float) for v in unit_vector(latitude, longitude))
        dx, dy, dz = p.c.x - x, p.c.y - y, p.c.z - z
        conds.append(dx * dx + dy * dy + dz * dz <= literal(limit, Float))
    return and_(*conds)


def condition(ctx: Context, modifier: str | None, values: list[str], raw: str) -> ColumnElement[bool]:
    """``near`` with its OR-ed points (``:missing`` is answered by :func:`present`)."""
    if modifier is not None:
        raise bad_modifier(raw, modifier)
    p = idx_position.alias(ctx.alias_name("pos"))
    circles = [_within(p, *parse(raw, value)) for value in values]
    return correlate(ctx.dialect, p, p.c.res_pk, ctx.res.c.pk, or_(*circles) if len(circles) > 1 else circles[0])


def present(ctx: Context) -> ColumnElement[bool]:
    """The Location has an indexed position (for ``near:missing``)."""
    p = idx_position.alias(ctx.alias_name("pos"))
    return correlate(ctx.dialect, p, p.c.res_pk, ctx.res.c.pk)
