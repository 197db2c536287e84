"""Unit conversion for quantity search: a small, documented table of common clinical UCUM units.

R4 (search.html, quantity) lets a server match a quantity "in canonical form": a search for ``0.5`` ``g``
should find an Observation stored as ``500 mg``. Rather than storing a second, canonical row for every
quantity (more rows written on every ingestion), the *search value* is converted into each unit of the same
dimension listed here and the alternatives are ORed, so the stored values are compared as written, through
the ordinary quantity index. Units outside the table (and units with an offset, such as ``Cel`` and
``[degF]``) are compared as written, as before.

Factors are exact definitions from the UCUM specification (https://ucum.org/ucum, "ucum-essence"), relative
to one unit of each dimension; only the ratios matter. Codes are UCUM case-sensitive codes.
"""

from __future__ import annotations

from decimal import Decimal

UCUM = "http://unitsofmeasure.org"

_DIMENSIONS: dict[str, dict[str, str]] = {
    "mass": {"kg": "1000", "g": "1", "mg": "0.001", "ug": "0.000001", "ng": "1e-9", "pg": "1e-12",
             "[lb_av]": "453.59237", "[oz_av]": "28.349523125"},
    "volume": {"L": "1", "l": "1", "dL": "0.1", "dl": "0.1", "mL": "0.001", "ml": "0.001",
               "uL": "0.000001", "ul": "0.000001", "fL": "1e-15", "fl": "1e-15", "mm3": "0.000001",
               "cm3": "0.001", "m3": "1000"},
    "amount": {"mol": "1", "mmol": "0.001", "umol": "0.000001", "nmol": "1e-9", "pmol": "1e-12"},
    "mass/volume": {"g/L": "1", "g/l": "1", "g/dL": "10", "g/dl": "10", "mg/dL": "0.01", "mg/dl": "0.01",
                    "mg/L": "0.001", "mg/l": "0.001", "mg/mL": "1", "ug/mL": "0.001", "ug/L": "0.000001",
                    "ng/mL": "0.000001", "ng/L": "1e-9", "pg/mL": "1e-9", "kg/m3": "1"},
    "amount/volume": {"mol/L": "1", "mmol/L": "0.001", "mmol/l": "0.001", "umol/L": "0.000001",
                      "umol/l": "0.000001", "nmol/L": "1e-9", "pmol/L": "1e-12"},
    "number/volume": {"/L": "1", "10*3/L": "1000", "10*6/L": "1e6", "10*9/L": "1e9", "10*12/L": "1e12",
                      "/uL": "1e6", "/mm3": "1e6", "10*3/uL": "1e9", "10*3/mm3": "1e9", "10*6/uL": "1e12",
                      "10*6/mm3": "1e12"},
    "length": {"m": "1", "cm": "0.01", "mm": "0.001", "um": "0.000001", "km": "1000", "[in_i]": "0.0254",
               "[ft_i]": "0.3048", "[yd_i]": "0.9144", "[mi_i]": "1609.344", "[nmi_i]": "1852"},
    "time": {"s": "1", "ms": "0.001", "min": "60", "h": "3600", "d": "86400", "wk": "604800",
             "mo": "2629800", "a": "31557600"},
    "pressure": {"Pa": "1", "kPa": "1000", "mm[Hg]": "133.322387415", "cm[H2O]": "98.0665", "bar": "100000"},
    "frequency": {"/s": "1", "/min": "0.0166666666666666666666666667", "/h": "0.000277777777777777777777777778",
                  "/d": "0.0000115740740740740740740740741"},
    "energy": {"J": "1", "kJ": "1000", "cal": "4.184", "kcal": "4184"},
}
_UNIT_DIMENSION: dict[str, tuple[str, Decimal]] = {
    code: (dim, Decimal(factor)) for dim, units in _DIMENSIONS.items() for code, factor in units.items()
}


def commensurable(code: str) -> list[tuple[str, Decimal]]:
    """``(unit, ratio)`` for every unit of ``code``'s dimension (``code`` itself with ratio 1 first): a value
    ``v`` in ``code`` is ``v * ratio`` in ``unit``. Empty when ``code`` is not in the table."""
    found = _UNIT_DIMENSION.get(code)
    if found is None:
        return []
    dim, factor = found
    return [(code, Decimal(1))] + [(unit, factor / Decimal(other)) for unit, other in _DIMENSIONS[dim].items()
                                   if unit != code]
