"""Parsing a FHIR search query: parameter names (modifiers, chains, ``_has``) and escaped values.

Kept free of SQL and of the parameter registry so the grammar can be tested on its own. The
grammar is the one of https://hl7.org/fhir/R4/search.html: repeated names are ANDed, commas inside
one value are ORed, ``\\,`` ``\\|`` ``\\$`` and ``\\\\`` escape the separators.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import invalid

#: Result parameters (they shape the response, they do not filter).
RESULT_PARAMS = frozenset({
    "_sort", "_count", "_total", "_include", "_revinclude", "_summary", "_elements", "_contained",
    "_containedType", "_offset", "_snapshot", "_format", "_pretty",
})


@dataclass(frozen=True, slots=True)
class Has:
    """``_has:Type:refparam:<name>``: resources of ``type`` pointing here through ``ref`` that match ``name``."""

    type: str
    ref: str
    name: Name


@dataclass(frozen=True, slots=True)
class Name:
    """A parsed parameter name.

    ``subject:Patient.name:exact`` is ``Name("subject", "Patient", chain=Name("name", "exact"))``;
    on a chained link the modifier is the target type. ``op`` is set only by ``_filter`` (never parsed
    from a query string): the filter operator (``eq``, ``co``, ``pr``...) applied at the end of the chain.
    """

    code: str
    modifier: str | None = None
    chain: Name | None = None
    has: Has | None = None
    op: str | None = None

    def __str__(self) -> str:
        if self.has is not None:
            return f"_has:{self.has.type}:{self.has.ref}:{self.has.name}"
        text = self.code + (f":{self.modifier}" if self.modifier is not None else "")
        return f"{text}.{self.chain}" if self.chain is not None else text


@dataclass(slots=True)
class Criterion:
    """One query pair: a parsed name and its OR-ed values (still escaped except for commas)."""

    raw_name: str
    name: Name
    values: list[str] = field(default_factory=list)


def parse_name(raw: str) -> Name:
    """Parse a parameter name; raises 400 on an empty link."""
    if raw.startswith("_has:"):
        parts = raw.split(":", 3)
        if len(parts) < 4 or not all(parts[1:]):
            raise invalid(f"Tham số _has không hợp lệ: {raw}",
                          f"Invalid _has parameter '{raw}' (expected _has:Type:reference:parameter)", raw)
        return Name("_has", has=Has(parts[1], parts[2], parse_name(parts[3])))
    head, dot, rest = raw.partition(".")
    code, colon, modifier = head.partition(":")
    if not code or (colon and not modifier) or (dot and not rest):
        raise invalid(f"Tên tham số tìm kiếm không hợp lệ: {raw}", f"Invalid search parameter name '{raw}'", raw)
    chain = parse_name(rest) if dot else None
    return Name(code, modifier if colon else None, chain)


def split_escaped(value: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not escaped by a backslash; escapes are kept for later splits."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    r"""Remove search escapes: ``\,`` ``\|`` ``\$`` ``\\`` become the bare character."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in ",|$\\":
            out.append(value[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def split_or(value: str) -> list[str]:
    """The OR-ed values of one query value (commas); escapes are kept until :func:`unescape`."""
    return split_escaped(value, ",")


PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})


def split_prefix(value: str) -> tuple[str, str]:
    """``ge2024`` -> ``("ge", "2024")``; no prefix means ``eq``."""
    if len(value) > 2 and value[:2] in PREFIXES:
        return value[:2], value[2:]
    return "eq", value


def criteria(params: list[tuple[str, str]]) -> list[Criterion]:
    """Filter parameters as criteria (result parameters are not included)."""
    out: list[Criterion] = []
    for raw, value in params:
        if raw in RESULT_PARAMS or raw.split(":", 1)[0] in ("_include", "_revinclude"):
            continue
        out.append(Criterion(raw, parse_name(raw), split_or(value)))
    return out
