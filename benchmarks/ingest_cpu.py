"""Where ingestion CPU goes: a short, repeatable write-path measurement (no queries, no bare twin).

    .venv/bin/python benchmarks/ingest_cpu.py --backend postgres --resources 30000
    .venv/bin/python benchmarks/ingest_cpu.py --backend postgres --resources 30000 --py-spy /tmp/ingest.txt

Starts a fresh database (durable PostgreSQL cluster, fsync on, or a SQLite file), ``benhan init``,
``benhan serve --workers N`` with a bearer token, then POSTs Synthea-derived transaction bundles
(``benchmarks/datagen.py``, ``Prefer: return=minimal``), ``--clients`` in flight. A warm-up of
``--warmup`` bundles runs first (imports, caches, JIT-less Python warm paths), untimed. Reported
for the timed window:

* resources/s (wall clock: noisy on a shared machine),
* CPU seconds per 1,000 resources of the server process tree, the PostgreSQL process tree (all
  backends, walwriter, checkpointer) and this process (the load generator),
* rows written per resource, per table (counted in the database afterwards),
* the load average before and after.

``--py-spy FILE`` records the server workers with py-spy during the timed window (collapsed
stacks; ``benchmarks/spy_shares.py``-style summaries can be made from it). Results are printed and
written as JSON to ``--out`` if given. The database is removed afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server
from datagen import ClinicalDataGenerator, GeneratedBundle
from fhir_store import open_database

HEADERS = {"Content-Type": "application/fhir+json", "Prefer": "return=minimal"}
TABLES = ("resource", "resource_version", "idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity",
          "idx_uri", "idx_reference", "compartment", "audit_log")


def _bundles(seed: int, resources: int) -> list[GeneratedBundle]:
    gen = ClinicalDataGenerator(seed)
    out: list[GeneratedBundle] = []
    total = 0
    while total < resources:
        bundle = gen.bundle()
        out.append(bundle)
        total += bundle.resources
    return out


def _row_counts(backend: str, dsn: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    if backend == "postgres":
        with psycopg.connect(dsn) as conn:
            for table in TABLES:
                counts[table] = int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    else:
        import sqlite3

        with sqlite3.connect(dsn, timeout=60) as conn:
            for table in TABLES:
                counts[table] = int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    return counts


def _table_bytes(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return {t: int(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0]) for t in TABLES}


def run(args: argparse.Namespace) -> dict[str, Any]:
    db = open_database(args.backend)
    srv: server.Server | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        server.run(["init"], db.url)
        token = server.issue_token(db.url)
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        srv = server.start(db.url, args.workers, db.workdir / "server.log", timeout=300)
        warm = _bundles(args.seed + 1, args.warmup_resources)
        timed = _bundles(args.seed, args.resources)
        local = __import__("threading").local()

        def post(bundle: GeneratedBundle) -> int:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=srv.base_url, timeout=600, headers=auth)
            resp = client.post("/fhir", content=bundle.body, headers=HEADERS)
            if resp.status_code != 200:
                print(f"bundle failed: HTTP {resp.status_code}: {resp.content[:300]!r}", flush=True)
            return resp.status_code

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(post, warm))
        before_counts = _row_counts(args.backend, db.dsn)
        server_proc = psutil.Process(srv.pid)
        db_pid = db.db_pid()
        db_proc = psutil.Process(db_pid) if db_pid else None
        if args.py_spy:
            spy_exe = str(Path(sys.executable).with_name("py-spy"))
            spy = subprocess.Popen([spy_exe, "record", "--pid", str(srv.pid), "--subprocesses", "--format", "raw",
                                    "--rate", "100", "--nonblocking", "-o", args.py_spy],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        load_before = os.getloadavg()
        cpu0 = server.tree_cpu(server_proc)
        db0 = server.tree_cpu(db_proc) if db_proc else 0.0
        client0 = time.process_time()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            statuses = list(pool.map(post, timed))
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client0
        server_cpu = server.tree_cpu(server_proc) - cpu0
        db_cpu = (server.tree_cpu(db_proc) - db0) if db_proc else 0.0
        load_after = os.getloadavg()
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        resources = sum(b.resources for b, s in zip(timed, statuses, strict=True) if s == 200)
        after_counts = _row_counts(args.backend, db.dsn)
        rows = {t: after_counts[t] - before_counts[t] for t in TABLES}
        per_k = 1000 / resources if resources else 0.0
        result: dict[str, Any] = {
            "backend": args.backend, "workers": args.workers, "clients": args.clients,
            "resources": resources, "bundles": len(timed), "errors": sum(1 for s in statuses if s != 200),
            "seconds": round(elapsed, 2), "resources_per_s": round(resources / elapsed, 1),
            "cpu_s_per_1000": {"server": round(server_cpu * per_k, 3),
                               "database": round(db_cpu * per_k, 3) if db_proc else None,
                               "client": round(client_cpu * per_k, 3)},
            "cpu_ceiling_resources_per_s": round(2000 / ((server_cpu + db_cpu) * per_k), 0)
            if resources else None,
            "rows_per_resource": {t: round(n / resources, 2) for t, n in rows.items()} if resources else {},
            "rows_per_resource_total": round(sum(rows.values()) / resources, 2) if resources else None,
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in load_after]},
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=Path(__file__).resolve().parent).stdout.strip(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if args.backend == "postgres":
            result["table_bytes"] = _table_bytes(db.dsn)
        return result
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        if srv is not None:
            srv.stop()
        db.close(args.keep)


CURVE_EVERY = 10.0  # seconds between the points of a demo load's memory curve


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    """``benhan demo --patients N`` into a fresh database: resources/s, CPU per 1,000, peak RSS of its tree."""
    db = open_database(args.backend)
    try:
        env = {**os.environ, "BENHAN_DATABASE_URL": db.url}
        cmd = [sys.executable, "-m", "benhan.cli", "demo", "--patients", str(args.demo), "--today", "2026-11-23",
               *(["--workers", str(args.workers)] if args.demo_workers else [])]
        server.run(["init"], db.url)
        db_pid = db.db_pid()
        db_proc = psutil.Process(db_pid) if db_pid else None
        db0 = server.tree_cpu(db_proc) if db_proc else 0.0
        load_before = os.getloadavg()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        sampler = server.PeakSampler(process.pid)
        proc = psutil.Process(process.pid)
        cpu = 0.0
        curve: list[tuple[float, float]] = []  # (seconds, tree RSS MB) every CURVE_EVERY s: flat or growing?
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):
                cpu = max(cpu, server.tree_cpu(proc))
            now = time.perf_counter() - start
            if sampler.last and (not curve or now - curve[-1][0] >= CURVE_EVERY):
                curve.append((round(now, 1), round(sampler.last / 2**20, 1)))
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        reaped = children.ru_utime + children.ru_stime - children0.ru_utime - children0.ru_stime
        cpu = max(cpu, reaped)  # the whole reaped tree, worker processes included
        db_cpu = (server.tree_cpu(db_proc) - db0) if db_proc else 0.0
        sampler.stop()
        counts = _row_counts(args.backend, db.dsn)
        resources = counts["resource"]
        per_k = 1000 / resources if resources else 0.0
        return {
            "mode": "demo", "backend": args.backend, "patients": args.demo, "exit": process.returncode,
            "resources": resources, "seconds": round(elapsed, 2),
            "resources_per_s": round(resources / elapsed, 1) if elapsed else None,
            "cpu_s_per_1000": {"demo": round(cpu * per_k, 3),
                               "database": round(db_cpu * per_k, 3) if db_proc else None},
            "peak_rss_mb": round(sampler.peak / 2**20, 1),
            "rss_curve_mb": curve,
            "rows_per_resource_total": round(sum(counts.values()) / resources, 2) if resources else None,
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in os.getloadavg()]},
            "output_tail": output.strip().splitlines()[-3:],
        }
    finally:
        db.close(args.keep)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--resources", type=int, default=30_000, help="resources in the timed window")
    parser.add_argument("--warmup-resources", type=int, default=2_000, help="untimed resources first")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20250930)
    parser.add_argument("--py-spy", default=None, help="record the server with py-spy into this file")
    parser.add_argument("--out", type=Path, default=None, help="also write the result as JSON here")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--demo", type=int, default=None, metavar="PATIENTS",
                        help="measure `benhan demo --patients PATIENTS` instead of HTTP ingestion")
    parser.add_argument("--demo-workers", action="store_true", help="pass --workers to benhan demo")
    args = parser.parse_args(argv)
    result = run_demo(args) if args.demo else run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
