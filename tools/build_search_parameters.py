"""Build the product's compact copy of the official FHIR R4 search parameters.

Writes two files beside the code that reads them (``benhan.fhir.searchparams``):

* ``src/benhan/fhir/definitions/search-parameters.json.gz`` — every SearchParameter of the
  specification reduced to what the server uses (url, code, type, base, expression, target,
  components with their definition URLs resolved to codes and types, multipleOr/And, modifiers,
  comparators), plus the list of resource types and which of them are DomainResources (so that the
  ``Resource``/``DomainResource`` parameters can be applied to every type).
* ``src/benhan/fhir/definitions/compartment-patient.json`` — resource type -> the parameter codes
  that put a resource of that type in a Patient compartment (official CompartmentDefinition).

Users of the product do not have the 47 MB of official bundles; they get these few hundred KB.

Usage::

    python tools/build_search_parameters.py [--source /work/shared/data/fhir-r4]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

Json = dict[str, Any]

DEFAULT_SOURCE = Path("/work/shared/data/fhir-r4")
DEFINITIONS = Path(__file__).resolve().parents[1] / "src/benhan/fhir/definitions"
SP_OUTPUT = DEFINITIONS / "search-parameters.json.gz"
COMPARTMENT_OUTPUT = DEFINITIONS / "compartment-patient.json"
FHIR_VERSION = "4.0.1"


def _entries(bundle: Json) -> list[Json]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


def compact_parameter(sp: Json, by_url: dict[str, Json]) -> Json:
    """One SearchParameter with only the fields the server reads; empty fields are left out."""
    out: Json = {"url": sp["url"], "code": sp["code"], "type": sp["type"], "base": list(sp["base"])}
    optional = {
        "expression": sp.get("expression"),
        "target": sp.get("target"),
        "multipleOr": sp.get("multipleOr"),
        "multipleAnd": sp.get("multipleAnd"),
        "modifier": sp.get("modifier"),
        "comparator": sp.get("comparator"),
    }
    out.update({key: value for key, value in optional.items() if value not in (None, [])})
    components = []
    for component in sp.get("component", []):
        definition = by_url.get(component["definition"])
        if definition is None:
            raise SystemExit(f"{sp['url']}: component definition {component['definition']} not found")
        components.append([definition["code"], component["expression"], definition["type"]])
    if components:
        out["component"] = components
    return out


def resource_types(profiles: Json) -> tuple[list[str], list[str]]:
    """(all concrete resource types, those that specialise DomainResource), sorted."""
    every, domain = [], []
    for sd in _entries(profiles):
        if sd.get("resourceType") != "StructureDefinition" or sd.get("kind") != "resource":
            continue
        if sd.get("abstract") or sd.get("derivation") == "constraint":
            continue
        if sd.get("fhirVersion", FHIR_VERSION) != FHIR_VERSION:  # SubscriptionStatus is R4B
            continue
        every.append(sd["type"])
        if sd.get("baseDefinition", "").endswith("/DomainResource"):
            domain.append(sd["type"])
    return sorted(every), sorted(domain)


def build(source: Path) -> tuple[Json, dict[str, list[str]]]:
    bundle = json.loads((source / "search-parameters.json").read_text(encoding="utf-8"))
    params = [sp for sp in _entries(bundle) if sp.get("resourceType") == "SearchParameter"]
    by_url = {sp["url"]: sp for sp in params}
    every, domain = resource_types(json.loads((source / "profiles-resources.json").read_text("utf-8")))
    registry = {
        "fhirVersion": FHIR_VERSION,
        "resourceTypes": every,
        "domainResourceTypes": domain,
        "params": [compact_parameter(sp, by_url) for sp in params],
    }
    compartment_def = json.loads((source / "compartmentdefinition-patient.json").read_text("utf-8"))
    compartment = {
        entry["code"]: list(entry["param"])
        for entry in compartment_def.get("resource", [])
        if entry.get("param")
    }
    return registry, dict(sorted(compartment.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    registry, compartment = build(args.source)
    DEFINITIONS.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(registry, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # mtime=0 keeps the file byte-identical between runs, so rebuilding does not dirty the tree.
    with SP_OUTPUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(payload.encode("utf-8"))
    COMPARTMENT_OUTPUT.write_text(
        json.dumps(compartment, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{SP_OUTPUT.name}: {len(registry['params'])} parameters, {SP_OUTPUT.stat().st_size:,} bytes")
    print(f"{COMPARTMENT_OUTPUT.name}: {len(compartment)} resource types in the Patient compartment")


if __name__ == "__main__":
    main()
