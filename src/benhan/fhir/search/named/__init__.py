"""Named queries (``_query``, R4 search.html "Named queries"): a query the server defines, selected by name.

Each named query is described by an OperationDefinition of kind ``query`` (:mod:`.definition`, served at
``GET /fhir/OperationDefinition/<Type>-<code>`` and listed in the CapabilityStatement) and compiled by the
ordinary search engine: it adds conditions to the search's WHERE clause, so paging, ``_sort``, ``_include``,
``_summary``, ``_total``, the caller's access conditions and the audit of the results are those of any search.

Other parameters of the request (R4 lets the server decide what they mean): the named query's own parameters
are ordinary search parameters of the type, and every parameter is ANDed with the named query, which selects
among the resources matching them (``latest`` compares only such resources with each other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement

from ...errors import FhirError, Issue
from ..local_refs import holder
from ..query import Name
from ..sql import Context

Crit = tuple[str, Name, list[str]]
Criterion = Callable[[Context, Name, list[str], str], ColumnElement[bool] | None]
Compile = Callable[[Context, list[Crit], Criterion], list[ColumnElement[bool]]]
PARAM = "_query"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A parameter of a named query: an ordinary search parameter of the type (``min`` 1: required)."""

    name: str
    search_type: str
    min: int
    max: str
    documentation: str


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """One named query: its code (the ``_query`` value), the type it searches, its parameters, its SQL."""

    code: str
    resource: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    compile: Compile

    @property
    def id(self) -> str:
        """The OperationDefinition's id, ``<Type>-<code>`` like HL7's own (``Patient-everything``)."""
        return f"{self.resource}-{self.code}"


def _registry() -> dict[tuple[str, str], NamedQuery]:
    from . import inpatients, latest

    return {(q.resource, q.code): q for q in (inpatients.QUERY, latest.QUERY)}


QUERIES: dict[tuple[str, str], NamedQuery] = _registry()


def for_type(rtype: str) -> list[NamedQuery]:
    """The named queries of ``rtype``, by code."""
    return sorted((q for (t, _), q in QUERIES.items() if t == rtype), key=lambda q: q.code)


def by_id(definition_id: str) -> NamedQuery | None:
    """The named query whose OperationDefinition has this id."""
    return next((q for q in QUERIES.values() if q.id == definition_id), None)


def _error(code: str, vi: str, en: str, param: str = PARAM) -> FhirError:
    return FhirError(400, [Issue(code, vi, en, param, location=f"http.{param}")])


def apply(ctx: Context, criteria: list[Crit], criterion: Criterion) -> tuple[list[Crit], list[ColumnElement[bool]]]:
    """Take ``_query`` out of ``criteria``: the other criteria, and the named query's conditions (none
    without ``_query``). One named query per search; an unknown one, or a missing required parameter, is a 400."""
    named = [c for c in criteria if c[1].code == PARAM and c[1].has is None and c[1].chain is None]
    if not named:
        return criteria, []
    rest = [c for c in criteria if c not in named]
    raw, name, values = named[0]
    if name.modifier is not None:
        raise _error("not-supported", f"Tham số '{raw}' không có bộ chỉnh", f"'{raw}' takes no modifier", raw)
    values = [v for c in named for v in c[2] if v != ""]
    if not values:
        return rest, []  # an empty value does not restrict the search
    if len(values) > 1:
        raise _error("invalid", f"Mỗi lần tìm chỉ dùng được một truy vấn đặt tên (_query): {', '.join(values)}",
                     f"A search takes one named query (_query), not {len(values)}: {', '.join(values)}")
    query = QUERIES.get((ctx.rtype or "", values[0]))
    if query is None:
        known = ", ".join(q.code for q in for_type(ctx.rtype or "")) or "—"
        where = ctx.rtype or "system"
        raise _error("not-found", f"Không có truy vấn đặt tên '{values[0]}' cho {where} (có: {known})",
                     f"Unknown named query '{values[0]}' for {where} (known: {known})")
    if holder(ctx.res) is not None:
        raise _error("not-supported", "Không dùng được _query cùng _contained",
                     "_query cannot be combined with _contained")
    given = {c[1].code for c in rest if c[1].has is None and any(v != "" for v in c[2])}
    for p in query.parameters:
        if p.min > 0 and p.name not in given:
            raise _error("required", f"Truy vấn '{query.code}' cần tham số '{p.name}'",
                         f"The named query '{query.code}' requires the parameter '{p.name}'", p.name)
    return rest, query.compile(ctx, rest, criterion)
