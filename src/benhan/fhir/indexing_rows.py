"""Turning one FHIR value of a known type into search-index row tuples, per search type.

An *emitter* is ``emit(sink, param, grp, value)``: it adds row tuples — the columns of one
``idx_*`` table in order, starting with ``param`` and ``grp`` — as keys of ``sink`` (a dict used
as an ordered set, which also removes duplicates). :func:`emitter` picks the emitter for a
(search type, FHIR type) pair once, when the indexing plan of a resource type is built.

Decisions the search engine relies on:

* string: ``value`` is :func:`normalize` (lower case, no diacritics) cut to 255, ``exact`` the text.
  A HumanName also gives its full name both ways ("given… family" and "family given…"), an Address
  its parts joined ("line… district city state postalCode country", ``exact`` with ", ").
* token: ContactPoint gives ``code`` = its value and no system (ContactPoint.system is not a URI).
  A CodeableConcept's text gets a row of its own (system and code NULL) only when no coding's
  display normalises to the same text (``:text`` finds it on that coding's row).
  Booleans are ``true``/``false``. Identifier.type codings go to ``type_system``/``type_code``.
* quantity and number: a Range is stored as two rows, ``<param>:low`` and ``<param>:high``, that share
  a ``grp`` number of their own; an open end is stored as :data:`RANGE_OPEN_LOW`/:data:`RANGE_OPEN_HIGH`.
  Money is a quantity with system ``urn:iso:std:iso:4217`` and the currency as code. SampledData
  is not indexed.
* date: Period open ends are :data:`MIN_TIME`/:data:`MAX_TIME`; a Timing is one range from its
  earliest to its latest event (and ``repeat.boundsPeriod``).
* reference: see :func:`reference_row`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from benhan.fhir.dates import MAX_TIME, MIN_TIME, date_range
from benhan.fhir.text import normalize

Sink = dict[tuple[Any, ...], None]
Emit = Callable[[Sink, str, int, Any], None]

RANGE_OPEN_LOW = -1.0e308
"""``value`` of a ``:low`` row for a Range without a low end."""
RANGE_OPEN_HIGH = 1.0e308
"""``value`` of a ``:high`` row for a Range without a high end."""
ISO_4217 = "urn:iso:std:iso:4217"

_TEXT, _URI, _ID = 255, 500, 64
_QUANTITY_TYPES = frozenset({"Quantity", "Age", "Duration", "Count", "Distance", "SimpleQuantity",
                             "MoneyQuantity"})
_CONTACT_SYSTEMS = frozenset({"phone", "fax", "email", "pager", "url", "sms", "other"})
_ADDRESS_PARTS = ("district", "city", "state", "postalCode", "country")
_RELATIVE = re.compile(r"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?")
_ABSOLUTE_TAIL = re.compile(
    r"/([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?$"
)


def _cut(text: Any, size: int = _TEXT) -> str | None:
    if text.__class__ is not str:
        return None
    return text if len(text) <= size else text[:size]


@lru_cache(maxsize=16384)
def _norm(text: str) -> str:
    """:func:`normalize`, cut to the column; cached because codes' displays repeat endlessly (names and
    addresses mostly do not: the bound keeps a long-running process's memory flat)."""
    return normalize(text)[:_TEXT]


def _is_number(value: Any) -> bool:
    return value.__class__ in (int, float) or (value.__class__.__name__ == "Decimal")


# -- string -------------------------------------------------------------------------------------

def _string_text(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is str and value:
        sink[(param, grp, _norm(value), _cut(value))] = None


def _human_name(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    family = value.get("family")
    given = [part for part in value.get("given") or () if part.__class__ is str and part]
    for part in (family, *(value.get("prefix") or ()), *(value.get("suffix") or ()), value.get("text"), *given):
        _string_text(sink, param, grp, part)
    if family.__class__ is str and family and given:
        _string_text(sink, param, grp, " ".join((*given, family)))
        _string_text(sink, param, grp, " ".join((family, *given)))


def _address(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    parts = [line for line in value.get("line") or () if line.__class__ is str and line]
    parts += [value[key] for key in _ADDRESS_PARTS if value.get(key).__class__ is str and value[key]]
    for part in parts:
        _string_text(sink, param, grp, part)
    _string_text(sink, param, grp, value.get("text"))
    if len(parts) > 1:
        sink[(param, grp, _norm(" ".join(parts)), _cut(", ".join(parts)))] = None


def _string_any(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is str:
        _string_text(sink, param, grp, value)
    elif value.__class__ is dict:
        if "family" in value or "given" in value:
            _human_name(sink, param, grp, value)
        elif "line" in value or "city" in value or "country" in value:
            _address(sink, param, grp, value)


# -- token --------------------------------------------------------------------------------------

def _coding(sink: Sink, param: str, grp: int, value: Any) -> str | None:
    """Adds the Coding's row; returns its normalised display (for :func:`_codeable_concept`)."""
    if value.__class__ is not dict:
        return None
    system, code, display = value.get("system"), value.get("code"), value.get("display")
    text = _norm(display) if display.__class__ is str else None
    if system is not None or code is not None or text:
        sink[(param, grp, _cut(system), _cut(code), text, None, None)] = None
    return text


def _codeable_concept(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    shown = [_coding(sink, param, grp, coding) for coding in value.get("coding") or ()]
    text = value.get("text")
    if text.__class__ is str and text:
        norm = _norm(text)
        # ":text" matches CodeableConcept.text or a Coding.display: a text that a coding's row
        # already carries (the usual "text = display of the first coding") needs no row of its own.
        if norm not in shown:
            sink[(param, grp, None, None, norm, None, None)] = None


def identifier_rows(sink: Sink, param: str, grp: int, value: Any) -> None:
    """An Identifier as token rows (also used for ``Reference.identifier``)."""
    if value.__class__ is not dict:
        return
    system, code = _cut(value.get("system")), _cut(value.get("value"))
    if system is None and code is None:
        return
    kind = value.get("type")
    kind = kind if kind.__class__ is dict else {}
    text = _norm(kind["text"]) if kind.get("text").__class__ is str else None
    codings = [c for c in kind.get("coding") or () if c.__class__ is dict]
    if not codings:
        sink[(param, grp, system, code, text, None, None)] = None
    for coding in codings:
        sink[(param, grp, system, code, text, _cut(coding.get("system")), _cut(coding.get("code")))] = None


def _contact_point(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is dict and value.get("value").__class__ is str:
        sink[(param, grp, None, _cut(value["value"]), None, None, None)] = None


def _token_primitive(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is bool:
        sink[(param, grp, None, "true" if value else "false", None, None, None)] = None
    elif value.__class__ is str and value:
        sink[(param, grp, None, _cut(value), None, None, None)] = None


def _token_any(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        _token_primitive(sink, param, grp, value)
    elif "coding" in value or ("text" in value and "value" not in value):
        _codeable_concept(sink, param, grp, value)
    elif "code" in value:
        _coding(sink, param, grp, value)
    elif "value" in value and value.get("system") in _CONTACT_SYSTEMS:
        _contact_point(sink, param, grp, value)
    elif "value" in value:
        identifier_rows(sink, param, grp, value)


# -- date ---------------------------------------------------------------------------------------

def _range_of(value: Any) -> tuple[int, int] | None:
    try:
        return date_range(value)
    except ValueError:
        return None  # malformed dates are the validator's business; they are simply not indexed


def _date_primitive(sink: Sink, param: str, grp: int, value: Any) -> None:
    span = _range_of(value) if value.__class__ is str else None
    if span is not None:
        sink[(param, grp, span[0], span[1])] = None


def _period(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    start, end = value.get("start"), value.get("end")
    if start is None and end is None:
        return
    low = _range_of(start) if start is not None else (MIN_TIME, MIN_TIME)
    high = _range_of(end) if end is not None else (MAX_TIME, MAX_TIME)
    if low is not None and high is not None:
        # per-1 (start <= end) is not enforced on write; the index keeps low <= high whatever the input,
        # which the date conditions rely on (search/datetimes.py)
        sink[(param, grp, min(low[0], high[1]), max(low[0], high[1]))] = None


def _timing(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    spans = [span for event in value.get("event") or () if event.__class__ is str
             and (span := _range_of(event)) is not None]
    repeat = value.get("repeat")
    bounds = repeat.get("boundsPeriod") if repeat.__class__ is dict else None
    if bounds.__class__ is dict and (bounds.get("start") or bounds.get("end")):
        start, end = bounds.get("start"), bounds.get("end")
        low = _range_of(start) if start else (MIN_TIME, MIN_TIME)
        high = _range_of(end) if end else (MAX_TIME, MAX_TIME)
        if low is not None and high is not None:
            spans.append((min(low[0], high[1]), max(low[0], high[1])))
    if spans:
        sink[(param, grp, min(span[0] for span in spans), max(span[1] for span in spans))] = None


def _date_any(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is str:
        _date_primitive(sink, param, grp, value)
    elif value.__class__ is dict and ("start" in value or "end" in value):
        _period(sink, param, grp, value)
    elif value.__class__ is dict and ("event" in value or "repeat" in value):
        _timing(sink, param, grp, value)


# -- number and quantity ------------------------------------------------------------------------

def _number(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not bool and _is_number(value):
        sink[(param, grp, float(value))] = None
    elif value.__class__ is dict and _is_number(value.get("value")):  # a Quantity searched as a number
        sink[(param, grp, float(value["value"]))] = None


def _quantity(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is dict and _is_number(value.get("value")):
        sink[(param, grp, float(value["value"]), _cut(value.get("system")), _cut(value.get("code")),
              _cut(value.get("unit")))] = None


def _money(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is dict and _is_number(value.get("value")):
        sink[(param, grp, float(value["value"]), ISO_4217, _cut(value.get("currency")), None)] = None


def range_rows(sink: Sink, param: str, grp: int, value: Any, quantity: bool) -> None:
    """A Range as ``<param>:low``/``<param>:high`` rows with the same ``grp`` (see module doc)."""
    if value.__class__ is not dict:
        return
    low, high = value.get("low"), value.get("high")
    low = low if low.__class__ is dict and _is_number(low.get("value")) else None
    high = high if high.__class__ is dict and _is_number(high.get("value")) else None
    if low is None and high is None:
        return
    for suffix, bound, open_value in ((":low", low, RANGE_OPEN_LOW), (":high", high, RANGE_OPEN_HIGH)):
        number = float(bound["value"]) if bound is not None else open_value
        if not quantity:
            sink[(param + suffix, grp, number)] = None
            continue
        units = bound if bound is not None else (high if suffix == ":low" else low) or {}
        sink[(param + suffix, grp, number, _cut(units.get("system")), _cut(units.get("code")),
              _cut(units.get("unit")))] = None


def _quantity_any(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is not dict:
        return
    if "currency" in value:
        _money(sink, param, grp, value)
    elif "value" in value:
        _quantity(sink, param, grp, value)


# -- uri and reference --------------------------------------------------------------------------

def _uri(sink: Sink, param: str, grp: int, value: Any) -> None:
    if value.__class__ is str and value:
        sink[(param, grp, _cut(value, _URI))] = None


@lru_cache(maxsize=8192)
def reference_row(reference: str, resource_types: frozenset[str]) -> tuple[Any, ...] | None:
    """``(target_type, target_id, target_version, url)`` for a ``Reference.reference`` string.

    ``Type/id[/_history/v]`` -> the target columns; ``#id``, ``urn:uuid:`` and other URIs -> ``url``;
    an absolute URL ending in ``/Type/id`` gets both ``url`` and the target columns, so that the
    search engine can match it by id (and check the server base with ``url`` if it needs to).
    Cached for the references that repeat close together (a patient's, an encounter's, the staff's);
    most others are new ids, which a larger cache only held on to: an entry costs ~300 bytes, so the
    earlier 65,536 entries grew a demo loader by up to ~19 MB per process; 8,192 stop at ~2.4 MB.
    """
    if not reference:
        return None
    match = _RELATIVE.fullmatch(reference)
    if match is not None and match.group(1) in resource_types:
        return (match.group(1), match.group(2), match.group(3), None)
    url = _cut(reference, _URI)
    if reference[0] != "#" and not reference.startswith("urn:"):
        tail = _ABSOLUTE_TAIL.search(reference)
        if tail is not None and tail.group(1) in resource_types:
            return (tail.group(1), tail.group(2), tail.group(3), url)
    return (None, None, None, url)


def canonical_row(value: str) -> tuple[Any, ...] | None:
    """A canonical (``url|version``) as ``(None, None, version, url)``: matched by URL, not by id."""
    if not value:
        return None
    url, _, version = value.partition("|")
    return (None, None, _cut(version, _ID) if version else None, _cut(url, _URI))


Emitters = dict[str, Emit]

STRING: Emitters = {"HumanName": _human_name, "Address": _address, None: _string_any}  # type: ignore[dict-item]
TOKEN: Emitters = {"Coding": _coding, "CodeableConcept": _codeable_concept, "Identifier": identifier_rows,
                   "ContactPoint": _contact_point, None: _token_any}  # type: ignore[dict-item]
DATE: Emitters = {"date": _date_primitive, "dateTime": _date_primitive, "instant": _date_primitive,
                  "Period": _period, "Timing": _timing, None: _date_any}  # type: ignore[dict-item]
QUANTITY: Emitters = {"Money": _money, None: _quantity_any}  # type: ignore[dict-item]
_PRIMITIVE_STRINGS = frozenset({"string", "markdown", "code", "id", "uri", "url", "canonical", "oid", "uuid"})


REFERENCE_TYPES = frozenset({"Reference", "canonical", "uri", "url", "Resource", None})
"""FHIR types a reference parameter indexes (the caller turns them into reference rows)."""


def writes_rows(kind: str, fhir_type: str | None) -> bool:
    """Whether a ``kind`` parameter indexes values of ``fhir_type`` (Range and Reference included)."""
    if kind == "reference":
        return fhir_type in REFERENCE_TYPES
    if kind in ("quantity", "number") and fhir_type in ("Range", None):
        return True
    return emitter(kind, fhir_type) is not None


def emitter(kind: str, fhir_type: str | None) -> Emit | None:
    """The emitter for values of ``fhir_type`` in a ``kind`` parameter; None if not indexable.

    Range and Reference are handled by the caller (they need a fresh ``grp``, or a second table).
    """
    if kind == "string":
        if fhir_type in _PRIMITIVE_STRINGS:
            return _string_text
        return STRING.get(fhir_type)
    if kind == "token":
        if fhir_type in _PRIMITIVE_STRINGS or fhir_type == "boolean":
            return _token_primitive
        return TOKEN.get(fhir_type)
    if kind == "date":
        return DATE.get(fhir_type)
    if kind == "number":
        return _number if fhir_type in ("decimal", "integer", "positiveInt", "unsignedInt", None) else None
    if kind == "quantity":
        if fhir_type in _QUANTITY_TYPES:
            return _quantity
        return QUANTITY.get(fhir_type)
    if kind == "uri":
        return _uri if fhir_type in _PRIMITIVE_STRINGS or fhir_type is None else None
    return None
