"""The search parameters the engine knows, looked up through :mod:`benhan.fhir.searchparams`.

System-level searches (no resource type) only know the common parameters (``_id``,
``_lastUpdated``, ``_tag``, ...), which every resource type shares.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from .. import searchparams

#: Parameters answered from the resource table itself, not from index rows.
RESOURCE_COLUMNS = frozenset({"_id", "_lastUpdated"})


def lookup(rtype: str | None, code: str) -> Any | None:
    """The SearchParam ``code`` of ``rtype`` (a common one when ``rtype`` is None), or None."""
    if rtype is None:
        return _common().get(code)
    try:
        return searchparams.search_params(rtype).get(code)
    except KeyError:
        return None


def lookup_all(rtypes: Iterable[str], code: str) -> Any | None:
    """The parameter if every type in ``rtypes`` knows ``code`` (for ``_type`` searches), else None."""
    found = None
    for t in rtypes:
        sp = lookup(t, code)
        if sp is None:
            return None
        found = found or sp
    return found


def params_of(rtype: str) -> dict[str, Any]:
    return dict(searchparams.search_params(rtype))


@cache
def _common() -> dict[str, Any]:
    return {code: sp for code, sp in searchparams.search_params("Patient").items() if code.startswith("_")}
