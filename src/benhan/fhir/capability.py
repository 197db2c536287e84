"""The CapabilityStatement, generated from what is really implemented (never a hand list).

Resource types come from the R4 StructureDefinitions, search parameters from the registry built
on the official SearchParameter definitions, operations from the operation routing table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from benhan import __version__

from . import definitions
from .search import named
from .search.named import definition as named_definition
from .searchparams import SPECIAL_PARAMS, search_params

INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance", "history-type",
                "create", "search-type")


# Parameters the server implements that R4 defines in search.html rather than as SearchParameter resources (so
# without a definition URL): result parameters, _filter and _list; listed so that clients know they are honoured.
RESULT_PARAMS = (
    {"name": "_contained", "type": "token",
     "documentation": "true | false | both: search contained resources (indexed like stored ones) / "
                      "tìm cả tài nguyên được chứa (contained)"},
    {"name": "_containedType", "type": "token",
     "documentation": "container | contained: return the containers or the contained resources "
                      "(fullUrl = container URL + #id) / trả về tài nguyên chứa hoặc tài nguyên được chứa"},
    {"name": "_filter", "type": "special",
     "documentation": "R4 _filter expressions: and/or/not, parentheses, chains (subject.name); operators eq ne co sw "
                      "ew gt lt ge le sa eb ap po pr ss sb in ni re where the parameter type gives them a meaning; "
                      "param[filter] paths answer 400 / biểu thức _filter: and/or/not, ngoặc, chuỗi tham chiếu"},
    {"name": "_list", "type": "special",
     "documentation": "_list=id: the resources referenced by List/id's entries (functional lists such as "
                      "$current-allergies answer 400) / các tài nguyên có trong List/id"},
)


def capability_statement(base_url: str) -> dict[str, Any]:
    statement = dict(_statement())
    statement["implementation"] = {"description": "Bệnh Án FHIR R4 server", "url": base_url}
    return statement


@lru_cache(maxsize=1)
def _statement() -> dict[str, Any]:
    from .operations import OPERATIONS

    resources = []
    for rtype in sorted(definitions.resource_types()):
        params = search_params(rtype)
        supported = [p for p in params.values() if _is_supported(p)]
        ref_params = sorted(p.code for p in supported if p.type == "reference")
        entry: dict[str, Any] = {
            "type": rtype,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{rtype}",
            "interaction": [{"code": code} for code in INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "full-support",  # If-None-Match and If-Modified-Since give 304
            "conditionalUpdate": True,
            "conditionalDelete": "single",
            "referencePolicy": ["literal", "logical", "resolves", "local"],
            "searchInclude": ["*", *(f"{rtype}:{c}" for c in ref_params)],
            "searchRevInclude": ["*"],
            "searchParam": [
                {"name": p.code, "definition": p.url, "type": p.type} for p in sorted(supported, key=lambda p: p.code)
            ] + list(RESULT_PARAMS),
        }
        ops = [{"name": name, "definition": op.definition(name, rtype)} for name, op in OPERATIONS.items()
               if op.levels & {"type", "instance"} and op.applies_to(rtype)]
        queries = named.for_type(rtype)  # named queries (_query): R4 lists them as operations of kind query
        if queries:
            entry["searchParam"].append(_query_param(queries))
            ops += [{"name": q.code, "definition": named_definition.url(q)} for q in queries]
        if ops:
            entry["operation"] = ops
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "Bệnh Án",
        "kind": "instance",
        "software": {"name": "Bệnh Án", "version": __version__},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json", "application/fhir+json"],  # JSON Patch, FHIRPath Patch
        "rest": [{
            "mode": "server",
            "resource": resources,
            "interaction": [{"code": "transaction"}, {"code": "batch"}, {"code": "search-system"},
                            {"code": "history-system"}],
            "operation": [{"name": name, "definition": op.definition(name, None)}
                          for name, op in OPERATIONS.items() if "system" in op.levels],
        }],
    }


def _query_param(queries: list[Any]) -> dict[str, Any]:
    codes = ", ".join(q.code for q in queries)
    return {"name": "_query", "definition": "http://hl7.org/fhir/SearchParameter/Resource-query", "type": "token",
            "documentation": f"Named queries (see operation): {codes}; other parameters are ANDed / "
                             f"truy vấn đặt tên: {codes}"}


def _is_supported(param: Any) -> bool:
    return getattr(param, "supported", True) and (param.type != "special" or param.code in SPECIAL_PARAMS)
