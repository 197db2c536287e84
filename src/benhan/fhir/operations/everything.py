"""``Patient/[id]/$everything``: the patient's whole record, paged."""

from __future__ import annotations

from benhan.fhir.http_types import FhirRequest, FhirResponse


def run(req: FhirRequest, ctx, rtype: str | None, rid: str | None) -> FhirResponse:  # type: ignore[no-untyped-def]
    from benhan.fhir.search import everything

    ctx.repo.read("Patient", rid)
    ctx.repo.flush()
    params = [(k, v) for k, v in req.query if k != "_format"]
    if isinstance(req.body, dict) and req.body.get("resourceType") == "Parameters":
        for p in req.body.get("parameter") or []:
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            if p.get("name") and value is not None:
                params.append((p["name"], str(value)))
    bundle = everything(ctx.repo.conn, rid, params, base_url=req.base_url,
                        default_count=ctx.default_count, max_count=ctx.max_count, as_stored=True)
    return FhirResponse(200, bundle)
