"""Which index rows answer each root of a composite search parameter (indexer's and search's contract).

A composite parameter (``code-value-quantity``) matches a resource when all its components match within
one element of its root expression. Each branch of the root expression (``Observation | Observation.component``
has two) is answered in one of three ways:

* **by the resource's ordinary rows**, when the branch is the resource itself and every component yields
  exactly the rows of an ordinary parameter: there is one such element per resource, so
  ``code-value-quantity=X$Y`` is ``code=X`` and ``value-quantity=Y`` on the same resource. These were two
  fifths of an Observation's token rows when composites wrote their own;
* **by another composite's rows**, when that one has exactly this branch as its only root and the same
  components (``combo-code-value-quantity``'s ``Observation.component`` branch is
  ``component-code-value-quantity``);
* **by its own rows**: ``"<code>$<i>"`` rows sharing one ``grp`` per root element (see indexing.py).

"The same rows" is decided on the compiled paths: the same (FHIR type, element keys) streams among those
that give rows of the component's search type. A stream that is not a plain walk of keys never counts as
the same, so anything unsure keeps its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from benhan.fhir.fhirpath import compile_path
from benhan.fhir.fhirpath_parser import split_union
from benhan.fhir.indexing_rows import writes_rows
from benhan.fhir.searchparams import SearchParam, search_param, search_params


@dataclass(frozen=True, slots=True)
class Root:
    """How one branch of a composite's root expression is searched."""

    branch: str
    composite: str | None = None  # whose ``$<i>`` rows answer it (the parameter's own code if it writes them)
    params: tuple[str, ...] = ()  # else (the root is the resource): the ordinary parameter of each component


@cache
def roots(resource_type: str, code: str) -> tuple[Root, ...]:
    """The roots of composite ``code`` on ``resource_type``, each with where its rows are; () if not composite."""
    param = search_param(resource_type, code)
    if param is None or param.type != "composite" or not param.supported or not param.expression:
        return ()
    out = []
    for branch in (part.strip() for part in split_union(param.expression)):
        params = _resource_root(resource_type, param, branch)
        if params is not None:
            out.append(Root(branch, params=params))
        else:
            out.append(Root(branch, composite=_owner(resource_type, param, branch)))
    return tuple(out)


def own_branches(resource_type: str, code: str) -> tuple[str, ...]:
    """The branches whose ``$<i>`` rows composite ``code`` writes itself."""
    return tuple(root.branch for root in roots(resource_type, code) if root.composite == code)


def _resource_root(resource_type: str, param: SearchParam, branch: str) -> tuple[str, ...] | None:
    """Per component, the ordinary parameter with exactly its rows, if ``branch`` is the resource itself."""
    if branch != resource_type:
        return None
    found = []
    for (_, expression), kind in zip(param.components, param.component_types, strict=True):
        wanted = _row_streams(kind, expression, resource_type)
        same = None if wanted is None else next(
            (other.code for other in sorted(search_params(resource_type).values(), key=lambda p: p.code)
             if other.type == kind and other.supported and other.expression
             and _row_streams(kind, other.expression, resource_type) == wanted),
            None,
        )
        if same is None:
            return None
        found.append(same)
    return tuple(found)


def _owner(resource_type: str, param: SearchParam, branch: str) -> str:
    """The composite whose rows answer ``branch``: of those with this branch as their only root and the same
    components as ``param``, the first by code; ``param`` itself if there is none."""
    shape = _shape(param)
    twins = [
        other.code for other in search_params(resource_type).values()
        if other.type == "composite" and other.supported and other.expression
        and [part.strip() for part in split_union(other.expression)] == [branch] and _shape(other) == shape
    ]
    return min(twins) if twins else param.code


def _shape(param: SearchParam) -> tuple[tuple[str, str], ...]:
    """The components as (relative expression, search type): what their rows depend on."""
    return tuple(zip((expression for _, expression in param.components), param.component_types, strict=True))


@cache
def _row_streams(kind: str, expression: str, base: str) -> frozenset[tuple[str | None, tuple[str, ...]]] | None:
    """The (FHIR type, keys) streams of ``expression`` that give ``kind`` rows; None if one is not a plain walk."""
    compiled = compile_path(expression, base)
    if compiled.fallback:
        return None
    found = set()
    for stream in compiled.streams:
        if not writes_rows(kind, stream.type):
            continue
        if stream.keys is None:
            return None
        found.add((stream.type, stream.keys))
    return frozenset(found)
