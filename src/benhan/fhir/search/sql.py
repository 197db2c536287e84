"""The few SQL shapes where SQLite and PostgreSQL differ, and shared helpers for the builders.

Prefix matching is the one that matters for speed. "Starts with ``abc``" is the binary range
``abc <= value < abd`` (codepoint order equals UTF-8 byte order): on PostgreSQL with the byte-wise
``~>=~``/``~<~`` operators of the ``text_pattern_ops`` indexes (they also work in generic prepared
plans, where ``LIKE $1`` gives no range), on SQLite with ``>=``/``<`` (its ``LIKE`` is
case-insensitive and never uses an ordinary index). The range alone, without a ``LIKE`` beside it:
PostgreSQL would count the same condition twice in its row estimate (about 20 times too few rows for
``name=thi``) and then pick plans for a rare prefix on a common one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, exists, false, literal, select, true

from ..errors import Issue
from ..searchparams import row_params

_LIKE_ESCAPE = "\\"
_MAX_CHAR = chr(0x10FFFF)


def like_escape(text: str) -> str:
    """Escape LIKE wildcards in user input (used with ``ESCAPE '\\'``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None if unbounded)."""
    stripped = prefix.rstrip(_MAX_CHAR)
    if not stripped:
        return None
    last = ord(stripped[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # skip the surrogate block, never present in valid text
        last = 0xE000
    return stripped[:-1] + chr(last)


def starts_with(col: Any, prefix: str, dialect: str) -> ColumnElement[bool]:
    """``col`` starts with ``prefix``, case-sensitively, in an index-friendly way on each engine."""
    if not prefix:
        return true()
    upper = _successor(prefix)
    at_least, below = (col.op("~>=~"), col.op("~<~")) if dialect == "postgresql" else (col.__ge__, col.__lt__)
    return and_(at_least(prefix), below(upper)) if upper is not None else at_least(prefix)


def contains(col: Any, part: str, dialect: str) -> ColumnElement[bool]:
    """``col`` contains ``part``. Only used on normalised (lower-case) values, so SQLite's
    case-insensitive LIKE gives the same answer as PostgreSQL's."""
    if not part:
        return true()
    return col.like("%" + like_escape(part) + "%", escape=_LIKE_ESCAPE)


def any_of(conds: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    from sqlalchemy import or_

    if not conds:
        return false()
    return conds[0] if len(conds) == 1 else or_(*conds)


def correlate(dialect: str, source: FromClause, inner: Any, outer: Any,
              *conds: ColumnElement[bool]) -> ColumnElement[bool]:
    """Some row of ``source`` matching ``conds`` has ``inner == outer``.

    PostgreSQL: a correlated ``EXISTS``, which it plans as a semi-join (and ``NOT EXISTS`` as an
    anti-join). SQLite does not decorrelate EXISTS (it would re-run the subquery for every resource
    row), so there it is ``outer IN (SELECT inner ...)``: the subquery runs once, through the typed
    index, and resources are then fetched by primary key.
    """
    if dialect == "sqlite":
        return outer.in_(select(inner).select_from(source).where(*conds))
    return _exists(source, inner, outer, *conds)


def _exists(source: FromClause, inner: Any, outer: Any, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(literal(1)).select_from(source).where(inner == outer, *conds))


@dataclass(slots=True)
class Context:
    """What a predicate builder needs to know besides the parameter and its values.

    ``res`` is the resource table (or alias) whose rows are being filtered; chained parameters and
    ``_has`` make nested contexts with their own alias.
    """

    res: FromClause
    rtype: str | None
    dialect: str
    base_url: str
    now: int
    strict: bool = False
    warnings: list[Issue] = field(default_factory=list)
    depth: int = 0
    # Counters shared by every context of one search (nested ones and the branches of a _type search):
    # [table aliases made, chain branches compiled (budget.py)].
    aliases: list[int] = field(default_factory=lambda: [0, 0])
    access: Any = None  # the caller's access filter: chained and reverse-chained rows must be visible too
    conn: Any = None  # the search's connection: terminology modifiers look up value sets and code systems
    # Top-level string criteria that can drive an ordered page (see engine._driven_page): the EXISTS
    # condition's id -> the uncorrelated ``SELECT res_pk`` of the same index rows.
    drivers: dict[int, Any] = field(default_factory=dict)
    # SQLite, top-level criteria only: the ``pk IN (SELECT ...)`` condition's id -> (that condition, how
    # selective its kind usually is, the same test as a correlated EXISTS probe); see one_list().
    probes: dict[int, tuple[Any, int, Any]] = field(default_factory=dict)

    def nested(self, res: FromClause, rtype: str | None) -> Context:
        return Context(res, rtype, self.dialect, self.base_url, self.now, self.strict, self.warnings,
                       self.depth + 1, self.aliases, self.access, self.conn)

    def visible(self, res: FromClause, rtype: str) -> list[Any]:
        """Conditions keeping only the rows of ``res`` (of ``rtype``) that the caller may see."""
        return [] if self.access is None else list(self.access.search_conditions(res, rtype))

    def alias_name(self, stem: str) -> str:
        """Unique alias names keep nested subqueries readable in logs and EXPLAIN output."""
        self.aliases[0] += 1
        return f"{stem}_{self.aliases[0]}"

    def count_branch(self) -> int:
        """One more chain branch compiled in this search; the number so far (see budget.py)."""
        if len(self.aliases) < 2:
            self.aliases.append(0)
        self.aliases[1] += 1
        return self.aliases[1]


_PROBE_RANK = {"idx_reference": 0, "idx_token": 1, "idx_string": 2, "idx_uri": 2}  # others 3 (dates, numbers)


def rows_of(ctx: Context, source: FromClause, res_pk: Any, *conds: ColumnElement[bool]) -> ColumnElement[bool]:
    """:func:`correlate` for the resource of ``ctx``; on SQLite a top-level one also gets its EXISTS twin
    (``ctx.probes``) so that :func:`one_list` can turn it into a probe."""
    found = correlate(ctx.dialect, source, res_pk, ctx.res.c.pk, *conds)
    if ctx.dialect == "sqlite" and ctx.depth == 0:
        table = getattr(res_pk.table, "element", res_pk.table)
        rank = _PROBE_RANK.get(getattr(table, "name", ""), 3)
        ctx.probes[id(found)] = (found, rank, _exists(source, res_pk, ctx.res.c.pk, *conds))
    return found


def one_list(ctx: Context, conds: list[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """SQLite: keep one ``pk IN (SELECT ...)`` criterion as the list that drives the search, probe the others.

    SQLite builds each ``IN`` list in full before it intersects them: ``Observation?subject=…&code=…&date=ge…``
    at 1 M built the lists of every Observation of the code and of every date after the bound to keep a
    patient's few (median 972 ms on the 1.1 M workday database). With the patient's list kept and the
    others as correlated ``EXISTS`` on the ``res_pk`` indexes, one index lookup per candidate: 0.67 ms.
    The list kept is the usually most selective kind (reference, then token, then string and uri).
    """
    if ctx.dialect != "sqlite" or ctx.depth != 0:
        return conds
    twins = [entry if (entry := ctx.probes.get(id(c))) is not None and entry[0] is c else None for c in conds]
    ranked = [(twin[1], i) for i, twin in enumerate(twins) if twin is not None]
    if len(ranked) < 2:
        return conds
    keep = min(ranked)[1]
    return [c if twin is None or i == keep else twin[2] for i, (c, twin) in enumerate(zip(conds, twins, strict=True))]


def param_rows(column: ColumnElement[Any], rtype: str | None, code: str) -> ColumnElement[bool]:
    """``column`` (an index table's ``param``) names rows that answer ``code``: its own, or those of the
    parameters it repeats (:func:`benhan.fhir.searchparams.row_params`)."""
    names = row_params(rtype, code) if rtype is not None else (code,)
    return column == names[0] if len(names) == 1 else column.in_(names)
