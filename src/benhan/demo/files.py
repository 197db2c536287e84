"""The same demo data as files, for other tools: FHIR Bulk-Data-style NDJSON (one file per resource
type) or FHIR transaction Bundles (one for the hospital and staff, then one per patient).

Bundle entries are ``PUT Type/id``: loading them is idempotent and keeps the ids, so references
between bundles (a patient's encounter to a practitioner) resolve once the shared bundle is loaded.
Output is byte-identical for the same spec.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from .generator import DemoSpec, Generator

FORMATS = ("ndjson", "bundles")


def transaction_bundle(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": f"urn:uuid:{r['id']}", "resource": r,
         "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        for r in resources]}


def write_files(out: Path, spec: DemoSpec, *, fmt: str = "ndjson",
                progress: Callable[[int, int], None] | None = None) -> Counter[str]:
    """Write ``spec`` under ``out``; return the number of resources per type."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    out.mkdir(parents=True, exist_ok=True)
    generator = Generator(spec)
    counts: Counter[str] = Counter()
    if fmt == "bundles":
        shared = generator.shared()
        counts.update(r["resourceType"] for r in shared)
        (out / "000000-shared.json").write_bytes(orjson.dumps(transaction_bundle(shared)))
        for index in range(spec.patients):
            resources = generator.patient(index)
            counts.update(r["resourceType"] for r in resources)
            (out / f"patient-{index + 1:06d}.json").write_bytes(orjson.dumps(transaction_bundle(resources)))
            if progress is not None:
                progress(1, len(resources))
        return counts
    handles: dict[str, IO[bytes]] = {}
    try:
        def emit(resources: list[dict[str, Any]]) -> None:
            for resource in resources:
                rtype = resource["resourceType"]
                handle = handles.get(rtype)
                if handle is None:
                    handle = handles[rtype] = (out / f"{rtype}.ndjson").open("wb")
                handle.write(orjson.dumps(resource))
                handle.write(b"\n")
                counts[rtype] += 1

        emit(generator.shared())
        for index in range(spec.patients):
            resources = generator.patient(index)
            emit(resources)
            if progress is not None:
                progress(1, len(resources))
    finally:
        for handle in handles.values():
            handle.close()
    return counts
