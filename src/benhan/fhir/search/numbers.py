"""Number and quantity parameters.

A search number carries its precision: ``100`` means [99.5, 100.5) for ``eq``/``ne`` and ``1.50``
means [1.495, 1.505) (half a unit of the last significant digit, exponent notation included, so
``1e2`` means [50, 150)). ``gt lt ge le`` compare with the exact value, ``sa``/``eb`` behave as
``gt``/``lt``, and ``ap`` accepts values within 10% of the search value (or within its precision
range, whichever is wider).

Quantities are ``[prefix]number|system|code``, ``[prefix]number||code`` (matches the code or the
unit as written) or a bare number. With the UCUM system and a unit of :mod:`.ucum`'s table the value is
also converted into the other units of its dimension (``0.5|http://unitsofmeasure.org|g`` finds 500 mg);
other units are compared as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from . import ucum
from .problems import bad_value
from .query import split_escaped, split_prefix, unescape

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")


@dataclass(frozen=True, slots=True)
class SearchNumber:
    prefix: str
    value: float
    lo: float  # inclusive
    hi: float  # exclusive

    def scaled(self, ratio: Decimal) -> SearchNumber:
        """The same search in another unit (``ratio`` > 0 keeps the order, so prefixes keep their meaning)."""
        if ratio == 1:
            return self
        return SearchNumber(self.prefix, *(float(Decimal(repr(x)) * ratio) for x in (self.value, self.lo, self.hi)))


def parse_number(param: str, text: str, original: str) -> SearchNumber:
    prefix, number = split_prefix(text)
    if not _NUMBER.fullmatch(number):
        raise bad_value(param, original, "không phải số (có thể có tiền tố eq/ne/gt/lt/ge/le/sa/eb/ap)",
                        "not a number (optionally prefixed with eq/ne/gt/lt/ge/le/sa/eb/ap)")
    dec = Decimal(number)
    exponent = dec.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5).scaleb(exponent - 1)
    return SearchNumber(prefix, float(dec), float(dec - half), float(dec + half))


def value_condition(col: Any, n: SearchNumber) -> ColumnElement[bool]:
    in_range = and_(col >= n.lo, col < n.hi)
    p = n.prefix
    if p == "eq":
        return in_range
    if p == "ne":
        return not_(in_range)
    if p in ("gt", "sa"):
        return col > n.value
    if p in ("lt", "eb"):
        return col < n.value
    if p == "ge":
        return col >= n.value
    if p == "le":
        return col <= n.value
    margin = abs(n.value) * 0.1  # "ap"
    return or_(in_range, and_(col >= n.value - margin, col <= n.value + margin))


def range_condition(low: Any, high: Any, n: SearchNumber) -> ColumnElement[bool]:
    """A Range value ``[low, high]`` (indexed as ``<code>:low``/``<code>:high`` rows) against a search
    number, with the range semantics used for dates."""
    inside = and_(low >= n.lo, high < n.hi)
    p = n.prefix
    if p == "eq":
        return inside
    if p == "ne":
        return not_(inside)
    if p == "gt":
        return high > n.value
    if p == "lt":
        return low < n.value
    if p == "ge":
        return high >= n.value
    if p == "le":
        return low <= n.value
    if p == "sa":
        return low > n.value
    if p == "eb":
        return high < n.value
    margin = abs(n.value) * 0.1  # "ap": overlaps the search value widened by 10%
    return and_(low <= max(n.value + margin, n.hi), high >= min(n.value - margin, n.lo))


def number_condition(t: Any, value: str, param: str) -> ColumnElement[bool]:
    return value_condition(t.c.value, parse_number(param, unescape(value), value))


def number_range_condition(low_t: Any, high_t: Any, value: str, param: str) -> ColumnElement[bool]:
    return range_condition(low_t.c.value, high_t.c.value, parse_number(param, unescape(value), value))


def parse_quantity(param: str, value: str) -> tuple[SearchNumber, str | None, str | None]:
    """``[prefix]number[|system|code]`` -> (number, system or None, code or None)."""
    parts = split_escaped(value, "|")
    if len(parts) not in (1, 3):
        raise bad_value(param, value, "cần dạng [tiền tố]số|hệ-thống|mã",
                        "expected [prefix]number|system|code")
    number = parse_number(param, unescape(parts[0]), value)
    if len(parts) == 1:
        return number, None, None
    return number, unescape(parts[1]) or None, unescape(parts[2]) or None


def unit_condition(t: Any, system: str | None, code: str | None) -> ColumnElement[bool] | None:
    if system is not None:
        return and_(t.c.system == system, t.c.code == code) if code is not None else t.c.system == system
    if code is not None:
        return or_(t.c.code == code, t.c.unit == code)
    return None


def _in_units(t: Any, number: SearchNumber, system: str | None, code: str | None,
              build: Any) -> ColumnElement[bool] | None:
    """A UCUM search value in a unit of :mod:`.ucum`'s table: the value converted into every unit of its
    dimension, ORed (``0.5|http://unitsofmeasure.org|g`` also matches ``500 mg``). None otherwise."""
    if system != ucum.UCUM or code is None:
        return None
    units = ucum.commensurable(code)
    if not units:
        return None
    return and_(t.c.system == ucum.UCUM,
                or_(*(and_(t.c.code == unit, build(number.scaled(ratio))) for unit, ratio in units)))


def quantity_condition(t: Any, value: str, param: str) -> ColumnElement[bool]:
    number, system, code = parse_quantity(param, value)
    converted = _in_units(t, number, system, code, lambda n: value_condition(t.c.value, n))
    if converted is not None:
        return converted
    cond = value_condition(t.c.value, number)
    units = unit_condition(t, system, code)
    return cond if units is None else and_(cond, units)


def quantity_range_condition(low_t: Any, high_t: Any, value: str, param: str) -> ColumnElement[bool]:
    number, system, code = parse_quantity(param, value)
    converted = _in_units(low_t, number, system, code,
                          lambda n: range_condition(low_t.c.value, high_t.c.value, n))
    if converted is not None:
        return converted
    cond = range_condition(low_t.c.value, high_t.c.value, number)
    units = unit_condition(low_t, system, code)
    return cond if units is None else and_(cond, units)
