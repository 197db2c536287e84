"""Type-ahead latency of ``ValueSet/$expand`` over the full ICD-10 list (12,137 codes), both backends.

For each backend: a fresh database (SQLite file; private PostgreSQL cluster, fsync on), all shipped
catalogs loaded, then a clinician typing: every prefix of realistic queries ("d", "da", "dai", ...,
"dai thao duong", "e", "e1", "e11", ...), each ``--repeat`` times. Two timings per request:

* ``index``: :func:`benhan.terminology.expand.search` on an open connection (the concept index alone);
* ``http``: ``GET /fhir/ValueSet/$expand?url=...&filter=...&count=20`` through the whole ASGI stack in
  process (token check, access policy, audit row, JSON), one request in flight.

Usage::

    .venv/bin/python benchmarks/terminology.py [--backend sqlite|postgres|both] [--repeat 5]
    .venv/bin/python benchmarks/terminology.py --report-only
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe
from perfdoc import table, update_section

RESULTS = Path(__file__).resolve().parent / "results"
VS_ICD10 = "urn:benhan:fhir:ValueSet:icd-10-vn"
PHRASES = ["dai thao duong", "đái tháo đường", "tang huyet ap", "viem phoi", "gay xuong dui", "nhoi mau co tim",
           "suy tim", "benh phoi tac nghen man tinh", "e11", "I10", "J18.9", "sot xuat huyet dengue", "diabetes"]


def typed_prefixes() -> list[str]:
    return [p[:n] for p in PHRASES for n in range(1, len(p) + 1) if p[:n].strip() and not p[:n].endswith(" ")]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(_pct(ms, 0.95), 2),
            "p99_ms": round(_pct(ms, 0.99), 2), "max_ms": round(max(ms), 2)}


def run(backend: str, repeat: int) -> dict[str, Any]:
    from starlette.testclient import TestClient

    from benhan.app import create_app
    from benhan.db.engine import make_engine
    from benhan.db.migrate import upgrade
    from benhan.settings import Settings
    from benhan.terminology import concepts, expand, systems
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs
    from tests.conftest import system_token

    cluster = None
    pg_version = None
    if backend == "postgres":
        from benhan.db.pgcluster import PgCluster

        cluster = PgCluster(durable=True).start()
        url = cluster.url()
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    try:
        upgrade(url)
        engine = make_engine(url)
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                load_catalogs(conn, shipped())
        load_s = time.perf_counter() - started
        if backend == "postgres":
            from sqlalchemy import text

            from benhan.terminology.cli import vacuum_term_tables

            vacuum_term_tables(engine)  # as benhan init / terminology load do after loading
            with engine.connect() as conn:
                pg_version = conn.execute(text("SHOW server_version")).scalar()
                conn.execute(text("ANALYZE"))
                conn.commit()
        queries = typed_prefixes()
        index_ms: list[float] = []
        with engine.connect() as conn:
            version = concepts.choose(concepts.versions(conn, url=systems.ICD10), on=date(2025, 1, 1)).version
            for q in queries[:20]:  # warm-up
                expand.search(conn, version, q)
            for _ in range(repeat):
                for q in queries:
                    t = time.perf_counter()
                    expand.search(conn, version, q, count=20)
                    index_ms.append((time.perf_counter() - t) * 1000)
        app = create_app(Settings(database_url=url, base_url="http://bench/fhir"))
        token = system_token(app.state.engine, "system/*.cruds")
        http_ms: list[float] = []
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as http:
            for q in queries[:20]:
                http.get("/fhir/ValueSet/$expand", params={"url": VS_ICD10, "filter": q, "date": "2025-01-01"})
            for _ in range(repeat):
                for q in queries:
                    t = time.perf_counter()
                    resp = http.get("/fhir/ValueSet/$expand",
                                    params={"url": VS_ICD10, "filter": q, "count": "20", "date": "2025-01-01"})
                    http_ms.append((time.perf_counter() - t) * 1000)
                    assert resp.status_code == 200, resp.text
        engine.dispose()
        return {"benchmark": "terminology", "backend": backend, "machine": describe(pg_version),
                "codes": 12137, "queries": len(queries), "repeat": repeat, "load_all_catalogs_s": round(load_s, 2),
                "index": _summary(index_ms), "http": _summary(http_ms)}
    finally:
        if cluster is not None:
            cluster.stop()


def report() -> None:
    rows = []
    for path in sorted(RESULTS.glob("terminology-*.json")):
        r = json.loads(path.read_text("utf-8"))
        m = r["machine"]
        for layer in ("index", "http"):
            s = r[layer]
            rows.append([r["backend"], layer, f"{s['p50_ms']:.1f}", f"{s['p95_ms']:.1f}", f"{s['p99_ms']:.1f}",
                         str(s["n"]), f"{r['load_all_catalogs_s']:.1f} s",
                         f"{m['cores_usable']} cores, load {m['load_average'][0]}"])
    body = (
        "## Terminology: ICD-10 type-ahead (`$expand?filter=`)\n\n"
        "Generated by `benchmarks/terminology.py` from `benchmarks/results/terminology-*.json`; do not edit by hand. "
        "Every prefix of 13 realistic queries as a clinician types them (\"d\", \"da\", \"dai\", … "
        "\"dai thao duong\", \"e11\", \"J18.9\", …) over the full ICD-10 list of QĐ 4469 (12,137 codes), "
        "count=20. *index*: the concept-index search alone on an open connection; *http*: the whole "
        "`GET /fhir/ValueSet/$expand` in process (token, access check, audit row, JSON). Target: p95 ≤ 20 ms.\n\n"
        + table(["backend", "layer", "p50 ms", "p95 ms", "p99 ms", "requests", "load catalogs", "machine"], rows)
    )
    update_section("terminology", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if not args.report_only:
        RESULTS.mkdir(exist_ok=True)
        for backend in (["sqlite", "postgres"] if args.backend == "both" else [args.backend]):
            result = run(backend, args.repeat)
            (RESULTS / f"terminology-{backend}.json").write_text(json.dumps(result, indent=2), "utf-8")
            print(backend, "index", result["index"], "http", result["http"])
    report()


if __name__ == "__main__":
    main()
