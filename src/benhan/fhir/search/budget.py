"""The cost budget of one search's chains: how deep a chain may go and how many branches it may compile.

Every link of a chain (``subject:Patient.organization.name``) or of a reverse chain (``_has``) is a nested
subquery, and a link compiles the rest of the chain once per target: per target type (``subject`` may be
a Patient, a Group, a Location...) and per kind of target (stored ``Type/id``, contained ``#id``, the
container ``#``, see :mod:`local_refs`). The SQL therefore grows like the product of those fan-outs: six
links through contained Encounters built 841 table aliases and took over a second to compile on SQLite
before a row was read. Two limits keep any request's SQL small, both counted while the query is built and
both answered with 400 ``too-costly`` naming the parameter (``expression``, ``location`` ``http.<param>``):

* :data:`MAX_DEPTH` links in one parameter (checked from the parsed name, before anything is compiled);
* :data:`MAX_BRANCHES` chain branches in the whole search (every ``_has``, every target a link tries),
  counted as each branch starts compiling, so an oversized query stops at the first branch over budget.

Like the limits of ``_filter`` (64 comparisons) and ``_text`` (32 terms) they are constants, not settings:
they bound what one request can make the server build, whatever the deployment.
"""

from __future__ import annotations

from ..errors import FhirError, Issue
from .query import Name
from .sql import Context

MAX_DEPTH = 6
"""Links of one parameter: ``a.b.c.d.e.f.g`` (and nested ``_has``) beyond six is refused. No workflow of
this hospital needs more than three; the official examples use at most two."""

MAX_BRANCHES = 160
"""Chain branches one search may compile. Legal chains of everyday use need a handful
(``medication.manufacturer.name``: 5); one link into every type (``Provenance?target._id=``) needs 145 and
must pass; four links through contained Encounters need 48, five 118, six 287 (refused; 1.4 s median to
compile and run on SQLite before the budget)."""


def too_costly(param: str, vi: str, en: str) -> FhirError:
    """A 400 ``too-costly`` naming the parameter, as R4 suggests for a search the server will not run."""
    return FhirError(400, [Issue("too-costly", f"Tham số '{param}' quá tốn kém: {vi}",
                                 f"Search parameter '{param}' is too costly: {en}", param,
                                 location=f"http.{param}")])


def links(name: Name) -> int:
    """The links a parameter name follows: one per chained link and per ``_has`` level."""
    if name.has is not None:
        return 1 + links(name.has.name)
    return 0 if name.chain is None else 1 + links(name.chain)


def check_depth(ctx: Context, name: Name, raw: str) -> None:
    """Refuse a parameter whose links, added to those already followed, exceed :data:`MAX_DEPTH`."""
    if ctx.depth + links(name) > MAX_DEPTH:
        raise too_costly(raw, f"chuỗi tham chiếu dài quá {MAX_DEPTH} mắt xích",
                         f"chains and _has may follow at most {MAX_DEPTH} links")


def spend_branch(ctx: Context, raw: str) -> None:
    """Count one more chain branch of this search; refuse the search past :data:`MAX_BRANCHES`."""
    if ctx.count_branch() > MAX_BRANCHES:
        raise too_costly(raw, f"chuỗi tham chiếu cần dựng quá {MAX_BRANCHES} nhánh truy vấn con",
                         f"the chains of this search would build more than {MAX_BRANCHES} subquery branches")
