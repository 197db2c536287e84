"""``$validate``: check a resource against R4 without storing it (200 with the issues found)."""

from __future__ import annotations

from benhan.fhir import definitions
from benhan.fhir.errors import FhirError, Issue, invalid, operation_outcome
from benhan.fhir.http_types import FhirRequest, FhirResponse
from benhan.fhir.validation import validate_resource


def run(req: FhirRequest, ctx, rtype: str | None, rid: str | None) -> FhirResponse:  # type: ignore[no-untyped-def]
    from . import parameters_value

    if req.method != "POST":
        raise FhirError.one(405, "not-supported", "$validate cần POST", "$validate requires POST")
    body = req.body
    resource = parameters_value(body, "resource") if isinstance(body, dict) and \
        body.get("resourceType") == "Parameters" else body
    mode = parameters_value(body, "mode")
    if mode == "delete":
        if rid is None:
            raise invalid("mode=delete cần id", "mode=delete needs an instance")
        ctx.repo.read(rtype, rid)
        return FhirResponse(200, operation_outcome([]))
    if not isinstance(resource, dict):
        raise invalid("Thiếu tài nguyên cần kiểm tra", "No resource to validate")
    expected = rtype if rtype and definitions.is_resource_type(rtype) else None
    try:
        validate_resource(resource, resource_type=expected)
    except FhirError as exc:
        return FhirResponse(200, operation_outcome(exc.issues))
    if rid is not None and resource.get("id") not in (None, rid):
        return FhirResponse(200, operation_outcome([Issue("invalid", "id khác URL",
                                                          "Resource id does not match the URL", "id")]))
    return FhirResponse(200, operation_outcome([]))
