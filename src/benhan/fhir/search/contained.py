"""``_contained`` and ``_containedType`` (https://hl7.org/fhir/R4/search.html#contained).

``_contained=false`` (default): only resources stored on their own; ``true``: only resources contained in
another; ``both``: either. ``_containedType=container`` (default) returns the containers of the matching
contained resources, ``contained`` returns the contained resources themselves, each with the fullUrl of its
container followed by ``#id``.

Contained resources are indexed under keys of their own (:mod:`benhan.fhir.contained`), so the criteria
compile exactly as for stored resources, against :func:`source` instead of the ``resource`` table. The
caller's access rules and a compartment apply to the *container*: a contained resource is part of its
container's record and is seen only with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Subquery, select

from benhan.db import schema as s

from ..contained import container_pk
from ..contained_tables import contained_resource
from .includes import Row
from .problems import bad_value
from .sql import correlate

SCOPES = frozenset({"false", "true", "both"})
RETURNS = frozenset({"container", "contained"})


@dataclass(frozen=True, slots=True)
class Mode:
    scope: str = "false"  # _contained
    returns: str = "container"  # _containedType

    @property
    def plain(self) -> bool:
        return self.scope == "false"


def parse_mode(params: list[tuple[str, str]]) -> Mode:
    """The ``_contained``/``_containedType`` of a query; a 400 naming the parameter for any other value."""
    scope, returns = "false", "container"
    for name, value in params:
        if name == "_contained":
            if value not in SCOPES:
                raise bad_value(name, value, "chỉ nhận true, false, both", "expected true, false or both")
            scope = value
        elif name == "_containedType":
            if value not in RETURNS:
                raise bad_value(name, value, "chỉ nhận container, contained", "expected container or contained")
            returns = value
    return Mode(scope, returns)


def source(dialect: str, access: Any, compartment: tuple[str, str] | None) -> Subquery:
    """Contained resources of live containers the caller may see, shaped like ``resource`` for the
    criteria (``pk``, ``type``, ``id``, ``last_updated``, ``deleted``) plus their container's key, type,
    id and content."""
    cr, cont = contained_resource.alias("cr"), s.resource.alias("container")
    conds: list[Any] = [cont.c.deleted.is_(False)]
    if compartment is not None:
        c = s.compartment
        conds.append(correlate(dialect, c, c.c.res_pk, cont.c.pk, c.c.comp_type == compartment[0],
                               c.c.comp_id == compartment[1]))
    if access is not None:
        conds += access.search_conditions(cont, None)
    return (select(cr.c.pk, cr.c.type, cr.c.id, cr.c.last_updated, cont.c.deleted, cr.c.container_pk,
                   cont.c.type.label("container_type"), cont.c.id.label("container_id"), cont.c.content)
            .select_from(cr.join(cont, cont.c.pk == cr.c.container_pk)).where(*conds).subquery("contained"))


def contained_row(pk: int, rtype: str, rid: str, content: str, container_type: str, container_id: str,
                  base_url: str) -> Row:
    """A matched contained resource, cut out of its container's JSON, with the container's URL + ``#id``."""
    container = orjson.loads(content)
    item = next((c for c in container.get("contained") or () if isinstance(c, dict)
                 and c.get("resourceType") == rtype and c.get("id") == rid), {"resourceType": rtype, "id": rid})
    return Row(pk, rtype, rid, orjson.dumps(item).decode(), f"{base_url}/{container_type}/{container_id}#{rid}",
               (container_pk(pk), container_type, container_id))


def audit_rows(rows: list[Row]) -> list[Row]:
    """For the audit trail a contained resource counts as its container (whose compartments are indexed)."""
    return [Row(*row.container, "") if row.container is not None else row for row in rows]
