"""FHIR operations (``$name``), one module per operation; this table routes to them."""

from __future__ import annotations

from collections.abc import Callable

from benhan.fhir.errors import FhirError
from benhan.fhir.http_types import FhirRequest, FhirResponse

from . import everything, meta, terminology, validate

# name -> (handler, allowed levels)
Operation = Callable[[FhirRequest, object, str | None, str | None], FhirResponse]
OPERATIONS: dict[str, tuple[Operation, frozenset[str]]] = {
    "validate": (validate.run, frozenset({"type", "instance"})),
    "meta": (meta.run_meta, frozenset({"system", "type", "instance"})),
    "meta-add": (meta.run_meta_add, frozenset({"instance"})),
    "meta-delete": (meta.run_meta_delete, frozenset({"instance"})),
    "everything": (everything.run, frozenset({"instance"})),
    "lookup": (terminology.lookup, frozenset({"type", "instance"})),
    "expand": (terminology.expand_valueset, frozenset({"type", "instance"})),
    "validate-code": (terminology.validate_code, frozenset({"type", "instance"})),  # CodeSystem or ValueSet
}
TYPE_RESTRICTIONS = {"everything": "Patient", "lookup": "CodeSystem", "expand": "ValueSet"}


def dispatch_operation(req: FhirRequest, ctx: object, parts: list[str]) -> FhirResponse:
    name = parts[-1][1:]
    level = {1: "system", 2: "type", 3: "instance"}.get(len(parts))
    rtype = parts[0] if len(parts) >= 2 else None
    rid = parts[1] if len(parts) == 3 else None
    entry = OPERATIONS.get(name)
    if entry is None or level not in entry[1] or (name in TYPE_RESTRICTIONS and rtype != TYPE_RESTRICTIONS[name]):
        raise FhirError.one(404 if entry is None else 400, "not-supported",
                            f"Thao tác ${name} không được hỗ trợ ở mức này",
                            f"Operation ${name} is not supported at this level")
    return entry[0](req, ctx, rtype, rid)


def parameters_value(body: object, name: str) -> object | None:
    """The ``value[x]`` or ``resource`` of the first Parameters.parameter called ``name``."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        return None
    for param in body.get("parameter") or []:
        if isinstance(param, dict) and param.get("name") == name:
            if "resource" in param:
                return param["resource"]
            for key, value in param.items():
                if key.startswith("value"):
                    return value
    return None
