"""Search-index extraction speed over the Synthea test data.

Run: ``.venv/bin/python benchmarks/bench_indexing.py``. Prints resources per second over every
resource of ``tests/data/synthea/*.json`` and the time per resource for the common types (best of
several passes, after one warm-up pass that builds the per-type plans and compiles the FHIRPath).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benhan.fhir.indexing import extract_index

SYNTHEA = Path(__file__).resolve().parents[1] / "tests/data/synthea"


def best_seconds_per_resource(resources: list[dict[str, Any]], passes: int) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        for resource in resources:
            extract_index(resource)
        best = min(best, time.perf_counter() - start)
    return best / len(resources)


def main() -> None:
    resources = [entry["resource"] for path in sorted(SYNTHEA.glob("*.json"))
                 for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]]
    started = time.perf_counter()
    rows = sum(sum(len(kind) for kind in extract_index(resource).rows.values()) for resource in resources)
    print(f"warm-up (plans + compilation): {time.perf_counter() - started:.2f} s, {rows:,} rows")
    per_resource = best_seconds_per_resource(resources, 5)
    print(f"{len(resources):,} resources: {1 / per_resource:,.0f} resources/s ({per_resource * 1e6:.0f} µs each)")
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for resource in resources:
        by_type[resource["resourceType"]].append(resource)
    for name, group in sorted(by_type.items(), key=lambda item: -len(item[1])):
        print(f"  {name:22s} {len(group):5d}  {best_seconds_per_resource(group, 7) * 1e6:6.1f} µs")


if __name__ == "__main__":
    main()
