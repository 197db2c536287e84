"""FHIR operations (``$name``), one module per operation; this table routes to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from benhan.fhir.errors import FhirError
from benhan.fhir.http_types import FhirRequest, FhirResponse

from . import everything, meta, terminology, validate

Handler = Callable[[FhirRequest, object, str | None, str | None], FhirResponse]
_DEFINITIONS = "http://hl7.org/fhir/OperationDefinition"


@dataclass(frozen=True, slots=True)
class Operation:
    """One ``$operation``: its handler, the levels and resource types it runs on."""

    handler: Handler
    levels: frozenset[str]  # "system", "type", "instance"
    types: frozenset[str] | None = None  # None: every resource type

    def applies_to(self, rtype: str | None) -> bool:
        return self.types is None or rtype in self.types

    def definition(self, name: str, rtype: str | None) -> str:
        """Canonical URL of the official OperationDefinition (``Resource-x`` for generic operations)."""
        owner = rtype if self.types is not None and rtype else "Resource"
        return f"{_DEFINITIONS}/{owner}-{name}"


_TYPE, _INSTANCE = frozenset({"type", "instance"}), frozenset({"instance"})
OPERATIONS: dict[str, Operation] = {
    "validate": Operation(validate.run, _TYPE),
    "meta": Operation(meta.run_meta, frozenset({"system", "type", "instance"})),
    "meta-add": Operation(meta.run_meta_add, _INSTANCE),
    "meta-delete": Operation(meta.run_meta_delete, _INSTANCE),
    "everything": Operation(everything.run, _INSTANCE, frozenset({"Patient"})),
    "lookup": Operation(terminology.lookup, _TYPE, frozenset({"CodeSystem"})),
    "expand": Operation(terminology.expand_valueset, _TYPE, frozenset({"ValueSet"})),
    "validate-code": Operation(terminology.validate_code, _TYPE, frozenset({"CodeSystem", "ValueSet"})),
}


def dispatch_operation(req: FhirRequest, ctx: object, parts: list[str]) -> FhirResponse:
    name = parts[-1][1:]
    level = {1: "system", 2: "type", 3: "instance"}.get(len(parts))
    rtype = parts[0] if len(parts) >= 2 else None
    rid = parts[1] if len(parts) == 3 else None
    op = OPERATIONS.get(name)
    if op is None or level not in op.levels or not op.applies_to(rtype):
        raise FhirError.one(404 if op is None else 400, "not-supported",
                            f"Thao tác ${name} không được hỗ trợ ở mức này",
                            f"Operation ${name} is not supported at this level")
    return op.handler(req, ctx, rtype, rid)


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
