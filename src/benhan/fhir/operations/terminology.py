"""``CodeSystem/$lookup``, ``CodeSystem/$validate-code``, ``ValueSet/$validate-code``, ``ValueSet/$expand``.

Answers come from the terminology concept index (:mod:`benhan.terminology`); the version of a code system
is the one asked for (``version`` / ``system-version``), else the one valid on ``date`` (default today),
else the newest loaded. Messages are Vietnamese first, then English.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from benhan.fhir.clock import local_date, system_clock, to_instant
from benhan.fhir.errors import FhirError, invalid
from benhan.fhir.http_types import FhirRequest, FhirResponse
from benhan.terminology import concepts, expand
from benhan.terminology.model import FLAG_PROPERTIES
from benhan.terminology.systems import ICD10

MAX_COUNT = 1000


def _args(req: FhirRequest) -> dict[str, Any]:
    """Query and ``Parameters`` body as one dict; a ``coding`` fills system/code/version/display."""
    out: dict[str, Any] = {k: v for k, v in req.query if k != "_format"}
    body = req.body
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for p in body.get("parameter") or []:
            value = next((v for k, v in p.items() if k.startswith("value")), None)
            if p.get("name") and value is not None:
                out[p["name"]] = value
    coding = out.get("coding")
    if not isinstance(coding, dict) and isinstance(out.get("codeableConcept"), dict):
        coding = next(iter(out["codeableConcept"].get("coding") or []), None)
    if isinstance(coding, dict):
        for k in ("system", "code", "version", "display"):
            if coding.get(k) is not None:
                out.setdefault(k, coding[k])
    return out


def _day(args: dict[str, Any]) -> date:
    value = args.get("date")
    if value:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError as exc:
            raise invalid(f"Ngày không hợp lệ: {value}", f"Invalid date '{value}'", "date") from exc
    return local_date(system_clock())


def _choose(ctx: Any, args: dict[str, Any], *, url: str | None = None, valueset_url: str | None = None,
            resource_id: str | None = None) -> concepts.Choice:
    conn = ctx.repo.conn
    found = concepts.versions(conn, url=url, valueset_url=valueset_url, resource_id=resource_id)
    system = args.get("system")
    if valueset_url is not None and system:
        found = [v for v in found if v.url == system]
    version = args.get("version") or _system_version(args.get("system-version"), found)
    choice = concepts.choose(found, version=version, on=_day(args))
    if choice is None:
        what = url or valueset_url or resource_id
        raise FhirError.one(404, "not-found", f"Không có hệ mã/tập giá trị {what} (phiên bản {version or 'bất kỳ'})",
                            f"Unknown code system or value set {what} (version {version or 'any'})")
    return choice


def _system_version(value: Any, found: list[concepts.Version]) -> str | None:
    """``system-version=url|version`` (R4 $expand) for the system of ``found``."""
    if not value or not found:
        return None
    url, _, version = str(value).rpartition("|")
    return version if url == found[0].url else None


def _params(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parts)}


def lookup(req: FhirRequest, ctx: Any, rtype: str | None, rid: str | None) -> FhirResponse:
    args = _args(req)
    code = args.get("code")
    if not code or not (args.get("system") or rid):
        raise invalid("$lookup cần system và code", "$lookup needs 'system' and 'code'")
    choice = _choose(ctx, args, url=None if rid else args["system"], resource_id=rid)
    v = choice.version
    found = concepts.concept(ctx.repo.conn, v, code)
    if found is None:
        raise FhirError.one(404, "not-found", f"Mã '{code}' không có trong {v.url} phiên bản {v.version}",
                            f"Code '{code}' not found in {v.url} version {v.version}")
    language = args.get("displayLanguage")
    out = [{"name": "name", "valueString": v.name}, {"name": "version", "valueString": v.version},
           {"name": "display", "valueString": found.display_in(language)},
           {"name": "designation", "part": [{"name": "language", "valueCode": "vi"},
                                            {"name": "value", "valueString": found.display}]}]
    if found.display_en:
        out.append({"name": "designation", "part": [{"name": "language", "valueCode": "en"},
                                                    {"name": "value", "valueString": found.display_en}]})
    props: list[tuple[str, dict[str, Any]]] = []
    if found.parent:
        props.append(("parent", {"valueCode": found.parent}))
    props += [("child", {"valueCode": c}) for c in concepts.children(ctx.repo.conn, v, code)]
    props += [(name, {"valueBoolean": bool(found.flags & bit)}) for bit, name in FLAG_PROPERTIES.items()
              if v.url == ICD10]
    out += [{"name": "property", "part": [{"name": "code", "valueCode": name}, {"name": "value", **value}]}
            for name, value in props]
    return FhirResponse(200, {"resourceType": "Parameters", "parameter": out})


def _validate(ctx: Any, args: dict[str, Any], choice: concepts.Choice, what: str) -> FhirResponse:
    code = args.get("code")
    if not code:
        raise invalid("$validate-code cần code (hoặc coding)", "$validate-code needs 'code' (or 'coding')")
    v = choice.version
    found = concepts.concept(ctx.repo.conn, v, code)
    if found is None:
        vi, en = f"Mã '{code}' không có trong {what} (phiên bản {v.version})", \
            f"Code '{code}' is not in {what} (version {v.version})"
        return FhirResponse(200, _params({"name": "result", "valueBoolean": False},
                                         {"name": "message", "valueString": f"{vi} / {en}"}))
    parts = [{"name": "result", "valueBoolean": True},
             {"name": "display", "valueString": found.display_in(args.get("displayLanguage"))}]
    display = args.get("display")
    from benhan.fhir.text import normalize

    if display and normalize(display) not in (normalize(found.display), normalize(found.display_en)):
        parts[0]["valueBoolean"] = False
        parts.append({"name": "message", "valueString": f"Tên hiển thị '{display}' không đúng, cần '{found.display}' / "
                                                         f"Display '{display}' is wrong; expected '{found.display}'"})
    elif choice.outdated:
        note = f"Không có phiên bản hiệu lực vào ngày yêu cầu; đã dùng {v.version} / " \
               f"No version valid on that date; used {v.version}"
        parts.append({"name": "message", "valueString": note})
    return FhirResponse(200, {"resourceType": "Parameters", "parameter": parts})


def validate_code_codesystem(req: FhirRequest, ctx: Any, rtype: str | None, rid: str | None) -> FhirResponse:
    args = _args(req)
    url = args.get("url") or args.get("system")
    if not url and not rid:
        raise invalid("$validate-code cần url (hệ mã)", "$validate-code needs 'url' (the code system)")
    choice = _choose(ctx, args, url=None if rid else url, resource_id=rid)
    return _validate(ctx, args, choice, choice.version.url)


def validate_code_valueset(req: FhirRequest, ctx: Any, rtype: str | None, rid: str | None) -> FhirResponse:
    args = _args(req)
    vs_url = args.get("url") or _valueset_url(ctx, rid)
    if not vs_url:
        raise invalid("$validate-code cần url (tập giá trị)", "$validate-code needs 'url' (the value set)")
    choice = _choose(ctx, args, valueset_url=vs_url)
    return _validate(ctx, args, choice, vs_url)


def expand_valueset(req: FhirRequest, ctx: Any, rtype: str | None, rid: str | None) -> FhirResponse:
    args = _args(req)
    vs_url = args.get("url") or _valueset_url(ctx, rid)
    if not vs_url:
        raise invalid("$expand cần url (tập giá trị)", "$expand needs 'url' (the value set)")
    try:
        count = min(int(args.get("count", 20)), MAX_COUNT)
        offset = max(int(args.get("offset", 0)), 0)
    except ValueError as exc:
        raise invalid("count/offset phải là số nguyên", "count and offset must be integers") from exc
    choice = _choose(ctx, args, valueset_url=vs_url)
    if choice.version.url != args.get("system", choice.version.url):
        raise invalid("system không thuộc tập giá trị", "'system' is not in this value set")
    v = choice.version
    text = args.get("filter")
    page = expand.search(ctx.repo.conn, v, text, count=max(count, 0), offset=offset)
    language = args.get("displayLanguage")
    contains = [{"system": v.url, "version": v.version, "code": c.code, "display": c.display_in(language)}
                for c in page.concepts]
    parameters = [{"name": "used-codesystem", "valueUri": f"{v.url}|{v.version}"},
                  {"name": "offset", "valueInteger": offset}, {"name": "count", "valueInteger": count}]
    if text:
        parameters.append({"name": "filter", "valueString": str(text)})
    expansion: dict[str, Any] = {"identifier": f"urn:uuid:{uuid.uuid4()}", "timestamp": to_instant(system_clock()),
                                 "total": page.total, "offset": offset, "parameter": parameters}
    if contains:
        expansion["contains"] = contains
    return FhirResponse(200, {"resourceType": "ValueSet", "url": vs_url, "status": "active", "expansion": expansion})


def _valueset_url(ctx: Any, rid: str | None) -> str | None:
    if rid is None:
        return None
    return ctx.repo.read("ValueSet", rid).resource().get("url")


def validate_code(req: FhirRequest, ctx: Any, rtype: str | None, rid: str | None) -> FhirResponse:
    """``$validate-code`` on CodeSystem or ValueSet (one operation-table entry for both)."""
    if rtype == "CodeSystem":
        return validate_code_codesystem(req, ctx, rtype, rid)
    if rtype == "ValueSet":
        return validate_code_valueset(req, ctx, rtype, rid)
    raise FhirError.one(400, "not-supported", "$validate-code chỉ dùng với CodeSystem hoặc ValueSet",
                        "$validate-code is only supported on CodeSystem and ValueSet")
