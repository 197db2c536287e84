"""The OperationDefinition (kind ``query``) of a named query, made from its registry entry (never by hand).

R4 operationdefinition.html: a named query is an OperationDefinition with ``kind = query`` whose ``code`` is
the ``_query`` value and whose ``in`` parameters are the query's parameters (search parameters: ``type``
string with a ``searchType``). Served read-only at ``GET /fhir/OperationDefinition/<id>`` (router.py) and
named by its canonical URL in the CapabilityStatement.
"""

from __future__ import annotations

from typing import Any

from benhan.vn import systems

from . import NamedQuery, by_id


def url(query: NamedQuery) -> str:
    """The canonical URL (``urn:benhan:fhir:OperationDefinition:<Type>-<code>``)."""
    return systems.OPERATION_DEFINITION + query.id


def operation_definition(query: NamedQuery) -> dict[str, Any]:
    """The OperationDefinition resource of ``query``."""
    name = "".join(part.capitalize() for part in query.id.replace("-", " ").split())
    return {
        "resourceType": "OperationDefinition",
        "id": query.id,
        "url": url(query),
        "name": name,
        "title": query.title,
        "status": "active",
        "kind": "query",
        "publisher": "Bệnh Án",
        "description": query.description,
        "affectsState": False,
        "code": query.code,
        "resource": [query.resource],
        "system": False,
        "type": True,
        "instance": False,
        "parameter": [{"name": p.name, "use": "in", "min": p.min, "max": p.max, "documentation": p.documentation,
                       "type": "string", "searchType": p.search_type} for p in query.parameters],
    }


def read(definition_id: str) -> dict[str, Any] | None:
    """The OperationDefinition with this id, if it is one of a named query."""
    query = by_id(definition_id)
    return None if query is None else operation_definition(query)
