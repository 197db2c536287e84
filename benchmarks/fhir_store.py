"""FHIR store benchmark: ingestion and search over real HTTP, on PostgreSQL and SQLite.

One command::

    .venv/bin/python benchmarks/fhir_store.py --backend both --sizes 100000,1000000 --workers 2

For each backend it starts a private database (a durable PostgreSQL cluster, fsync on; or a fresh
SQLite file), runs ``benhan init`` and ``benhan serve``, then grows the data in place: load up to
the first size with transaction bundles (several clients in flight), measure, continue to the
next size, measure again. At each size it measures

* ingestion throughput (resources/s) of transaction bundles built from Synthea templates,
* p50/p95/p99 latency of five query shapes (random targets drawn from the loaded data),
* the server process tree's peak resident memory and its CPU time (and the database's),
* the same work done by hand-written SQL on bare tables in the same database (``baseline.py``),
  reported as ratios: the cost of our layers, not a guess.

Results go to ``benchmarks/results/fhir_store-<backend>-<size>-w<workers>.json`` and the
"FHIR store" section of ``docs/performance.md`` is regenerated from all such files.
``--quick`` is a smoke run (5 000 resources, fewer requests, results in a temporary directory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline
import machine
import server
from datagen import CCCD_SYSTEM, LOINC, ClinicalDataGenerator, GeneratedBundle, PatientFacts
from fhir_store_report import (
    EVERYTHING_P50_TARGET_MS,
    EVERYTHING_SIZE,
    INGEST_TARGET,
    QUERY_NAMES,
    QUERY_P95_TARGET_MS,
    RESULTS_DIR,
    update_docs,
)

from benhan.db.pgcluster import PgCluster
from benhan.fhir.text import normalize

CHUNK_RESOURCES = 20_000  # generated ahead of each timed ingestion window
HEADERS = {"Content-Type": "application/fhir+json", "Prefer": "return=minimal"}
AUTH: dict[str, str] = {}  # Authorization header, when the build requires a bearer token


# ---------------------------------------------------------------------------------------- helpers

def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "p99_ms": round(percentile(ms, 99), 2), "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
            "max_ms": round(max(ms), 2) if ms else None}


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@dataclass
class Database:
    """The database a run uses: its SQLAlchemy URL, a DB-API DSN, and what to stop at the end."""

    backend: str
    url: str
    dsn: str
    workdir: Path
    cluster: PgCluster | None = None

    def version(self) -> str | None:
        if self.cluster is None:
            return None
        with psycopg.connect(self.dsn) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])

    def db_pid(self) -> int | None:
        """The PostgreSQL postmaster (its tree holds every backend); None for SQLite (in-process)."""
        if self.cluster is None:
            return None
        return int((self.cluster.data / "postmaster.pid").read_text().split()[0])

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk load (what autovacuum / PRAGMA optimize would do)."""
        if self.cluster is not None:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute("ANALYZE")
        else:
            import sqlite3

            with sqlite3.connect(self.dsn, timeout=60) as conn:
                conn.execute("ANALYZE")

    def sizes(self) -> dict[str, int]:
        """Bytes on disk: the whole database, and the bare tables' share of it."""
        if self.cluster is not None:
            with psycopg.connect(self.dsn) as conn:
                total = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
                bare = conn.execute("SELECT pg_total_relation_size('bare_resource') "
                                    "+ pg_total_relation_size('bare_name')").fetchone()[0]
            return {"database_bytes": int(total), "bare_bytes": int(bare)}
        wal = Path(self.dsn + "-wal")
        return {"database_bytes": Path(self.dsn).stat().st_size,
                "wal_bytes": wal.stat().st_size if wal.exists() else 0}

    def close(self, keep: bool) -> None:
        if keep:
            where = self.cluster.root if self.cluster else self.workdir
            print(f"kept database: {self.url}  ({where}; server log in {self.workdir})", flush=True)
            return
        if self.cluster is not None:
            self.cluster.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def open_database(backend: str) -> Database:
    workdir = Path(tempfile.mkdtemp(prefix=f"benhan-bench-{backend}-"))
    if backend == "postgres":
        cluster = PgCluster(durable=True).start()  # its own temp dir, owned by the server user
        with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        url = cluster.url("bench")
        return Database(backend, url, _libpq(url), workdir, cluster)
    path = workdir / "benhan.db"
    return Database(backend, f"sqlite:///{path}", str(path), workdir)


# ---------------------------------------------------------------------------------------- ingestion

@dataclass
class LoadState:
    """What has been loaded so far (cumulative over sizes)."""

    resources: int = 0
    bundles: int = 0
    http_seconds: float = 0.0
    bare_rows: int = 0
    bare_seconds: float = 0.0
    server_cpu: float = 0.0
    db_cpu: float = 0.0
    client_cpu: float = 0.0
    errors: int = 0
    bundle_latencies: list[float] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    patients: list[PatientFacts] = field(default_factory=list)
    everything: PatientFacts | None = None


class Ingestor:
    """POSTs transaction bundles with several clients in flight and mirrors them into the bare tables."""

    def __init__(self, base_url: str, clients: int, bare: baseline.BareStore, server_pid: int,
                 db_pid: int | None, state: LoadState) -> None:
        self.base_url = base_url
        self.clients = clients
        self.bare = bare
        self.server_proc = psutil.Process(server_pid)
        self.db_proc = psutil.Process(db_pid) if db_pid else None
        self.state = state
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(base_url=self.base_url, timeout=600, headers=AUTH)
        return client

    def _post(self, bundle: GeneratedBundle) -> tuple[float, int, bytes]:
        start = time.perf_counter()
        resp = self._client().post("/fhir", content=bundle.body, headers=HEADERS)
        return time.perf_counter() - start, resp.status_code, resp.content

    def ingest(self, bundles: list[GeneratedBundle], *, everything: bool = False) -> None:
        """One timed window: all ``bundles`` over HTTP; then (untimed) the bare mirror, timed apart.

        ``everything`` marks the bundle of the patient used for ``$everything`` (kept out of the
        random query targets, which should look like ordinary patients).
        """
        st = self.state
        cpu0 = server.tree_cpu(self.server_proc)
        db0 = server.tree_cpu(self.db_proc) if self.db_proc else 0.0
        client0 = time.process_time()
        start = time.perf_counter()
        with ThreadPoolExecutor(self.clients) as pool:
            results = list(pool.map(self._post, bundles))
        elapsed = time.perf_counter() - start
        st.client_cpu += time.process_time() - client0
        st.server_cpu += server.tree_cpu(self.server_proc) - cpu0
        if self.db_proc:
            st.db_cpu += server.tree_cpu(self.db_proc) - db0
        ok_resources = 0
        bare_rows = 0
        bare_seconds = 0.0
        for bundle, (latency, status, content) in zip(bundles, results, strict=True):
            st.bundle_latencies.append(latency)
            if status != 200:
                st.errors += 1
                if st.errors <= 3:
                    print(f"  bundle failed: HTTP {status}: {content[:500]!r}", flush=True)
                continue
            ids = _server_ids(bundle.body, content)
            bundle.patient.server_id = ids[bundle.patient.full_url][1]
            rows = baseline.bundle_rows(bundle.body, ids, self.bare.next_pk)
            self.bare.next_pk += len(rows.resources)
            bare_seconds += self.bare.insert(rows)
            bare_rows += len(rows.resources)
            ok_resources += bundle.resources
            if everything:
                st.everything = bundle.patient
            else:
                st.patients.append(bundle.patient)
        st.resources += ok_resources
        st.bundles += len(bundles)
        st.http_seconds += elapsed
        st.bare_rows += bare_rows
        st.bare_seconds += bare_seconds
        st.chunks.append({"resources_total": st.resources, "resources": ok_resources,
                          "seconds": round(elapsed, 3),
                          "resources_per_s": round(ok_resources / elapsed, 1) if elapsed else None,
                          "bare_rows_per_s": round(bare_rows / bare_seconds, 1) if bare_seconds else None})
        print(f"  {st.resources:>9,} resources  {ok_resources / elapsed:8.0f} res/s over HTTP   "
              f"bare {bare_rows / max(bare_seconds, 1e-9):8.0f} rows/s", flush=True)


def _server_ids(body: bytes, response: bytes) -> dict[str, tuple[str, str]]:
    """fullUrl -> (type, id) the server assigned, from the transaction-response (same entry order)."""
    request_entries = orjson.loads(body)["entry"]
    response_entries = orjson.loads(response)["entry"]
    ids = {}
    for req, resp in zip(request_entries, response_entries, strict=True):
        rtype, rid = resp["response"]["location"].split("/")[:2]
        ids[req["fullUrl"]] = (rtype, rid)
    return ids


def generate_chunk(gen: ClinicalDataGenerator, budget: int) -> list[GeneratedBundle]:
    """Bundles totalling at least ``budget`` resources (the last one may overshoot)."""
    bundles: list[GeneratedBundle] = []
    total = 0
    while total < budget:
        b = gen.bundle()
        bundles.append(b)
        total += b.resources
    return bundles


# ---------------------------------------------------------------------------------------- queries

@dataclass
class QueryCase:
    """One request of a query shape, with the bare-SQL equivalent of the same work."""

    path: str
    params: dict[str, str]
    bare: Callable[[], int]


def _name_parts(p: PatientFacts) -> list[str]:
    return [n for n in (normalize(w) for w in [p.family, *p.given]) if len(n) >= 3]


def make_cases(kind: str, state: LoadState, bare: baseline.BareStore, rng: random.Random,
               count: int) -> list[QueryCase]:
    """``count`` random requests of one shape, targets drawn from the data actually loaded."""
    patients = [p for p in state.patients if p.server_id]
    cases: list[QueryCase] = []
    if kind == "identifier":
        for p in rng.choices(patients, k=count):
            cases.append(QueryCase("/fhir/Patient", {"identifier": f"{CCCD_SYSTEM}|{p.cccd}"},
                                   lambda p=p: bare.by_identifier(CCCD_SYSTEM, p.cccd)))
    elif kind == "name":
        while len(cases) < count:
            parts = _name_parts(rng.choice(patients))
            if not parts:
                continue
            part = rng.choice(parts)
            prefix = part[:rng.randint(3, min(6, len(part)))]
            cases.append(QueryCase("/fhir/Patient", {"name": prefix}, lambda q=prefix: bare.by_name_prefix(q)))
    elif kind == "observation":
        with_obs = [p for p in patients if p.observations]
        for p in rng.choices(with_obs, k=count):
            code = rng.choice(sorted(p.observations))
            since = rng.choice(p.observations[code])
            assert p.server_id is not None
            cases.append(QueryCase(
                "/fhir/Observation",
                {"subject": f"Patient/{p.server_id}", "code": f"{LOINC}|{code}", "date": f"ge{since}",
                 "_sort": "-date"},
                lambda pid=p.server_id, c=f"{LOINC}|{code}", s=since: bare.observations(pid, c, s)))
    elif kind == "encounter_revinclude":
        ranked = sorted(patients, key=lambda p: p.encounters, reverse=True)
        heavy = ranked[:max(1, len(ranked) // 4)]  # the encounter-heavy quarter
        for p in rng.choices(heavy, k=count):
            cases.append(QueryCase("/fhir/Encounter",
                                   {"patient": f"Patient/{p.server_id}", "_revinclude": "Observation:encounter"},
                                   lambda pid=p.server_id: bare.encounters_with_observations(pid)))
    elif kind == "everything":
        target = state.everything
        assert target is not None and target.server_id is not None
        pid = target.server_id
        cases = [QueryCase(f"/fhir/Patient/{pid}/$everything", {"_count": "1000"},
                           lambda: bare.everything(pid)) for _ in range(count)]
    else:
        raise ValueError(kind)
    return cases


def _time_http(client: httpx.Client, cases: Iterable[QueryCase]) -> tuple[list[float], list[int], list[int], int]:
    latencies, entries, totals = [], [], []
    errors = 0
    for case in cases:
        start = time.perf_counter()
        resp = client.get(case.path, params=case.params)
        body = resp.content
        latencies.append(time.perf_counter() - start)
        if resp.status_code != 200:
            errors += 1
            if errors <= 2:
                print(f"  {case.path} {case.params}: HTTP {resp.status_code} {body[:300]!r}", flush=True)
            continue
        doc = orjson.loads(body)
        entries.append(len(doc.get("entry") or []))
        if doc.get("total") is not None:
            totals.append(doc["total"])
    return latencies, entries, totals, errors


def _time_get(client: httpx.Client, path: str) -> float:
    """One GET, response read; seconds."""
    start = time.perf_counter()
    client.get(path).raise_for_status()
    return time.perf_counter() - start


def _time_bare(cases: Iterable[QueryCase]) -> tuple[list[float], list[int]]:
    latencies, rows = [], []
    for case in cases:
        start = time.perf_counter()
        n = case.bare()
        latencies.append(time.perf_counter() - start)
        rows.append(n)
    return latencies, rows


def measure_queries(base_url: str, state: LoadState, bare: baseline.BareStore, sampler: server.PeakSampler,
                    requests: int, warmup: int, seed: int) -> dict[str, Any]:
    """Each shape: warm-up, then ``requests`` sequential requests (one in flight), then the bare twin."""
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base_url, timeout=120, headers=AUTH) as client:
        floor = [_time_get(client, "/healthz") for _ in range(warmup + requests)][warmup:]
        out["http_floor"] = {"example": "/healthz", "requests": len(floor), **summary_ms(floor)}
        print(f"  {'http_floor (/healthz)':<22} p50 {out['http_floor']['p50_ms']:7.1f} ms", flush=True)
        for i, kind in enumerate(QUERY_NAMES):
            rng = random.Random(seed * 100 + i)
            cases = make_cases(kind, state, bare, rng, warmup + requests)
            warm, timed = cases[:warmup], cases[warmup:]
            _time_http(client, warm)
            sampler.reset()
            latencies, entries, totals, errors = _time_http(client, timed)
            peak = sampler.peak
            _time_bare(warm)
            bare_lat, bare_rows = _time_bare(timed)
            stats = summary_ms(latencies)
            bare_stats = summary_ms(bare_lat)
            target_key, target = (("p50_ms", EVERYTHING_P50_TARGET_MS) if kind == "everything"
                                  else ("p95_ms", QUERY_P95_TARGET_MS))
            out[kind] = {
                "example": case_url(timed[0]), "requests": len(timed), "errors": errors, **stats,
                "entries_median": statistics.median(entries) if entries else None,
                "entries_max": max(entries) if entries else None,
                "total_median": statistics.median(totals) if totals else None,
                "target": {target_key: target}, "pass": stats[target_key] <= target,
                "peak_rss_mb": round(peak / 2**20, 1),
                "bare": {**bare_stats, "rows_median": statistics.median(bare_rows) if bare_rows else None},
                "overhead_ratio_p50": (round(stats["p50_ms"] / bare_stats["p50_ms"], 1)
                                       if bare_stats["p50_ms"] else None),
            }
            print(f"  {kind:<22} p50 {stats['p50_ms']:7.1f} ms  p95 {stats['p95_ms']:7.1f} ms  "
                  f"entries~{out[kind]['entries_median']}  bare p50 {bare_stats['p50_ms']:6.2f} ms  "
                  f"x{out[kind]['overhead_ratio_p50']}", flush=True)
    return out


def case_url(case: QueryCase) -> str:
    return str(httpx.URL(case.path, params=case.params))


# ---------------------------------------------------------------------------------------- one backend

def run_backend(backend: str, sizes: list[int], args: argparse.Namespace, results_dir: Path) -> list[Path]:
    """Grow one database through ``sizes``; write one result file per size."""
    print(f"== {backend}: sizes {sizes}, workers {args.workers}, clients {args.clients}", flush=True)
    db = open_database(backend)
    srv: server.Server | None = None
    written: list[Path] = []
    try:
        server.run(["init"], db.url)
        token = server.issue_token(db.url)
        AUTH.clear()
        if token:
            AUTH["Authorization"] = f"Bearer {token}"
        srv = server.start(db.url, args.workers, db.workdir / "server.log")
        sampler = server.PeakSampler(srv.pid)
        idle_rss = server.tree_rss(psutil.Process(srv.pid))
        bare = baseline.BareStore(backend, db.dsn)
        state = LoadState()
        ingestor = Ingestor(srv.base_url, args.clients, bare, srv.pid, db.db_pid(), state)
        gen = ClinicalDataGenerator(args.seed)
        described = machine.describe(db.version())
        started = time.time()
        ingest_peak = 0
        sampler.reset()
        ingestor.ingest([gen.everything_patient(EVERYTHING_SIZE)], everything=True)
        for size in sizes:
            sampler.reset()
            while state.resources < size:
                chunk = generate_chunk(gen, min(CHUNK_RESOURCES, size - state.resources))
                ingestor.ingest(chunk)
            ingest_peak = max(ingest_peak, sampler.peak)
            db.analyze()
            print(f"  loaded {state.resources:,} resources; measuring queries", flush=True)
            queries = measure_queries(srv.base_url, state, bare, sampler, args.requests, args.warmup, args.seed)
            result = build_result(backend, size, args, state, queries, described, db, started,
                                  idle_rss, ingest_peak, sampler)
            path = results_dir / f"fhir_store-{backend}-{size}-w{args.workers}.json"
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(path)
            print(f"  wrote {path}", flush=True)
        sampler.stop()
        bare.close()
    finally:
        if srv is not None:
            srv.stop()
        db.close(args.keep)
    return written


def build_result(backend: str, size: int, args: argparse.Namespace, st: LoadState, queries: dict[str, Any],
                 described: dict[str, Any], db: Database, started: float, idle_rss: int, ingest_peak: int,
                 sampler: server.PeakSampler) -> dict[str, Any]:
    rate = st.resources / st.http_seconds if st.http_seconds else 0.0
    bare_rate = st.bare_rows / st.bare_seconds if st.bare_seconds else 0.0
    per_k = 1000 / st.resources if st.resources else 0.0
    lat = summary_ms(st.bundle_latencies)
    query_peak = max(q["peak_rss_mb"] for q in queries.values() if "peak_rss_mb" in q)
    return {
        "benchmark": "fhir_store",
        "backend": backend,
        "size": size,
        "resources": st.resources,
        "workers": args.workers,
        "clients": args.clients,
        "seed": args.seed,
        "quick": args.quick,
        "auth": "bearer token (system/*.cruds backend client)" if AUTH else "none (build without security)",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(time.time() - started, 1),
        "machine": {**described, "load_average_end": [round(x, 2) for x in os.getloadavg()]},
        **db.sizes(),
        "ingestion": {
            "resources": st.resources, "bundles": st.bundles, "errors": st.errors,
            "seconds": round(st.http_seconds, 2), "resources_per_s": round(rate, 1),
            "target_resources_per_s": INGEST_TARGET if backend == "postgres" else None,
            "pass": (rate >= INGEST_TARGET) if backend == "postgres" else None,
            "bundle_latency": lat,
            "cpu_seconds_per_1000": {"server": round(st.server_cpu * per_k, 3),
                                     "database": round(st.db_cpu * per_k, 3) if db.cluster else None,
                                     "client": round(st.client_cpu * per_k, 3)},
            "peak_rss_mb": round(ingest_peak / 2**20, 1),
            "bare": {"rows": st.bare_rows, "seconds": round(st.bare_seconds, 2),
                     "rows_per_s": round(bare_rate, 1)},
            "overhead_ratio": round(bare_rate / rate, 1) if rate else None,
            "chunks": st.chunks,
            "prefer": HEADERS["Prefer"],
        },
        "queries": queries,
        "memory": {"idle_mb": round(idle_rss / 2**20, 1), "peak_ingest_mb": round(ingest_peak / 2**20, 1),
                   "peak_query_mb": query_peak,
                   "peak_mb": round(max(ingest_peak / 2**20, query_peak), 1)},
    }


# ---------------------------------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated resource counts, grown in place")
    parser.add_argument("--workers", type=int, default=2, help="benhan serve --workers")
    parser.add_argument("--clients", type=int, default=4, help="transaction bundles in flight during ingestion")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query shape")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per query shape first")
    parser.add_argument("--seed", type=int, default=20250930)
    parser.add_argument("--quick", action="store_true", help="smoke run: 5,000 resources, 50 requests, temp results")
    parser.add_argument("--results-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database (and PostgreSQL running) afterwards")
    parser.add_argument("--report-only", action="store_true", help="only regenerate docs/performance.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = "5000"
        args.requests = min(args.requests, 50)
        args.warmup = min(args.warmup, 5)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report_only:
        update_docs(args.results_dir or RESULTS_DIR)
        return 0
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip())
    results_dir = args.results_dir or (Path(tempfile.mkdtemp(prefix="benhan-bench-quick-")) if args.quick
                                       else RESULTS_DIR)
    results_dir.mkdir(parents=True, exist_ok=True)
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    for backend in backends:
        run_backend(backend, sizes, args, results_dir)
    if not args.quick:
        update_docs(results_dir)
    else:
        print(f"quick run: results in {results_dir} (docs/performance.md not updated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
