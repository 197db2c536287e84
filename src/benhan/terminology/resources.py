"""A :class:`Catalog` as FHIR R4 ``CodeSystem`` and ``ValueSet`` resources (what the loader stores)."""

from __future__ import annotations

from typing import Any

from .model import FLAG_PROPERTIES, Catalog, Concept

EFFECTIVE_PERIOD = "http://hl7.org/fhir/StructureDefinition/resource-effectivePeriod"
PARENT_URI = "http://hl7.org/fhir/concept-properties#parent"


def codesystem(cat: Catalog) -> dict[str, Any]:
    """The complete CodeSystem (flat concept list; hierarchy through the ``parent`` property)."""
    used = {code for c in cat.concepts for code, _ in c.properties}
    declared = {code for code, _, _ in cat.properties}
    props: list[dict[str, Any]] = []
    if cat.hierarchical:
        props.append({"code": "parent", "uri": PARENT_URI, "type": "code", "description": cat.parent_text})
    props += [{"code": code, "type": kind, "description": text} for code, kind, text in cat.properties]
    props += [{"code": code, "type": "string"} for code in sorted(used - declared)]
    flags = 0
    for c in cat.concepts:
        flags |= c.flags
    props += [{"code": name, "type": "boolean"} for bit, name in FLAG_PROPERTIES.items() if flags & bit]
    resource: dict[str, Any] = {
        "resourceType": "CodeSystem", "id": cat.codesystem_id, "url": cat.url, "version": cat.version,
        "name": cat.name, "title": cat.title, "status": "active", "experimental": False,
        "publisher": cat.publisher or None, "description": f"Nguồn / source: {cat.source}",
        "caseSensitive": True, "valueSet": cat.valueset_url,
        "hierarchyMeaning": cat.hierarchy_meaning if cat.hierarchical else None,
        "content": "complete", "count": len(cat.concepts),
        "property": props or None,
        "concept": [_concept(c) for c in cat.concepts],
    }
    period = {k: v for k, v in (("start", cat.valid_from), ("end", _day_before(cat.valid_to))) if v}
    if period:
        resource["extension"] = [{"url": EFFECTIVE_PERIOD, "valuePeriod": period}]
    return {k: v for k, v in resource.items() if v is not None}


def _concept(c: Concept) -> dict[str, Any]:
    out: dict[str, Any] = {"code": c.code, "display": c.display}
    if c.display_en and c.display_en != c.display:
        out["designation"] = [{"language": "en", "value": c.display_en}]
    props: list[dict[str, Any]] = []
    if c.parent:
        props.append({"code": "parent", "valueCode": c.parent})
    props += [{"code": code, "valueString": value} for code, value in c.properties]
    props += [{"code": name, "valueBoolean": True} for bit, name in FLAG_PROPERTIES.items() if c.flags & bit]
    if props:
        out["property"] = props
    return out


def valueset(cat: Catalog) -> dict[str, Any]:
    """"All codes of the system", any version: the version is chosen at expansion time (by date)."""
    return {
        "resourceType": "ValueSet", "id": cat.valueset_id, "url": cat.valueset_url, "name": cat.name.split("_")[0],
        "title": f"Tất cả mã: {cat.title}", "status": "active", "experimental": False,
        "description": "Mọi mã của hệ mã; phiên bản chọn theo ngày / all codes; the version is chosen by date",
        "compose": {"include": [{"system": cat.url}]},
    }


def _day_before(iso: str | None) -> str | None:
    """Exclusive end date -> inclusive FHIR Period.end."""
    if iso is None:
        return None
    from datetime import date, timedelta

    return (date.fromisoformat(iso) - timedelta(days=1)).isoformat()
