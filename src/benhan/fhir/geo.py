"""Positions on the Earth for ``Location?near=``: what is indexed on write and the great-circle test.

``Location.position`` (WGS84 latitude and longitude in degrees) is indexed as one ``idx_position`` row
(:mod:`benhan.fhir.special_tables`): the latitude, the longitude brought into [-180, 180), and the point's
unit vector ``(x, y, z)`` on the sphere. Distances are great-circle distances on a sphere of the mean
Earth radius (:data:`EARTH_RADIUS_KM`, IUGG R1), the haversine distance:

    d = 2 R asin(sqrt(a)),  a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)

``sqrt(a)`` is half the straight-line (chord) distance between the two unit vectors, so "``d`` is at most
``D``" is exactly "the squared chord is at most ``4 sin²(D / 2R)``" (:func:`chord2_limit`). The search
compares squared chords, which is arithmetic only: the same SQL on SQLite (which may lack trigonometric
functions) and PostgreSQL, with nothing registered on the connection. On the ellipsoid real distances
differ by up to about 0.5 %; R4 lets a server choose its accuracy ("Servers may search using various
techniques that might have differing accuracies").
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG R1), kilometres."""
HALF_CIRCUMFERENCE_KM = math.pi * EARTH_RADIUS_KM


def _number(value: Any) -> float | None:
    if value.__class__ is bool or not isinstance(value, (int, float, Decimal)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    """The point of the unit sphere at (latitude, longitude), in degrees."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def wrap_longitude(longitude: float) -> float:
    """The same meridian in [-180, 180)."""
    return (longitude + 180.0) % 360.0 - 180.0


def position_row(resource: dict[str, Any]) -> tuple[float, float, float, float, float] | None:
    """``(latitude, longitude, x, y, z)`` of a Location's position; None without a usable one.

    A latitude outside [-90, 90] is no place on Earth and is not indexed (so never "near" anything).
    """
    position = resource.get("position")
    if position.__class__ is not dict:
        return None
    latitude, longitude = _number(position.get("latitude")), _number(position.get("longitude"))
    if latitude is None or longitude is None or not -90.0 <= latitude <= 90.0:
        return None
    longitude = wrap_longitude(longitude)
    return (latitude, longitude, *unit_vector(latitude, longitude))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (the haversine formula)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dlon = math.radians(lon2 - lon1) / 2
    a = math.sin((phi2 - phi1) / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlon) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def chord2_limit(distance_km: float) -> float | None:
    """The largest squared chord of two unit vectors at most ``distance_km`` apart (None: any two are)."""
    if distance_km >= HALF_CIRCUMFERENCE_KM:
        return None
    return (2 * math.sin(distance_km / (2 * EARTH_RADIUS_KM))) ** 2


_MARGIN = 1e-9  # degrees (0.1 mm): the box only has to contain the circle, never to be tight


def bounding_box(latitude: float, longitude: float, distance_km: float
                 ) -> tuple[float, float, list[tuple[float, float]] | None]:
    """A box containing every point within ``distance_km``: latitude bounds and longitude ranges
    (None: every longitude, when the circle holds a pole or is too wide to bound)."""
    angle = distance_km / EARTH_RADIUS_KM  # radians
    spread = math.degrees(angle) + _MARGIN
    low, high = latitude - spread, latitude + spread
    if low <= -90.0 or high >= 90.0 or angle >= math.pi / 2:
        return max(low, -90.0), min(high, 90.0), None
    ratio = math.sin(angle) / math.cos(math.radians(latitude))
    if ratio >= 1.0:
        return low, high, None
    half = math.degrees(math.asin(ratio)) + _MARGIN
    west, east = longitude - half, longitude + half
    if west < -180.0:
        return low, high, [(west + 360.0, 180.0), (-180.0, east)]
    if east >= 180.0:
        return low, high, [(west, 180.0), (-180.0, east - 360.0)]
    return low, high, [(west, east)]
