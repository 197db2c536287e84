"""A working day under load: receptionists, doctors, nurses and lab technicians at once, over HTTP (issue 6).

One command::

    .venv/bin/python benchmarks/workday.py --backend postgres --users 50,200 --workers 1,2 --duration 300 \\
        --patients 20000

Starts a private database (durable PostgreSQL cluster, or a temporary SQLite file), runs
``benhan init`` in demo mode (small demo hospital + demo accounts), optionally grows the data with
``benhan demo --patients P``, then for each workers x users pair of the matrix (the data is loaded
once) starts ``benhan serve --workers W``, issues bearer tokens for the demo
reception (``tiepdon``), doctor (``bacsi``), nurse (``dieuduong``) and lab technician (``ktv``) accounts
(with ``--patients``: a doctor and a nurse of the added data's busiest department), then drives the mix
in ``workday_users.py`` with Locust (as a library; think time 1-3 s). Latency per action and errors
come from Locust's own statistics. Writes ``benchmarks/results/workday-*.json`` and regenerates the
"workday" section of ``docs/performance.md``. ``--quick``: 20 users for 60 s, small demo only.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # Locust needs it before anything imports ssl/socket/threading

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import httpx  # noqa: E402
import psutil  # noqa: E402
from locust.env import Environment  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine  # noqa: E402
import server  # noqa: E402
import workday_users  # noqa: E402
from chart import busiest_department, ensure_user  # noqa: E402
from fhir_store import Database, open_database  # noqa: E402
from workday_report import RESULTS_DIR, update_docs  # noqa: E402

ROLES = ("tiepdon", "bacsi", "dieuduong", "ktv")
# With --patients, the doctor and nurse users work in the busiest department of the added data
# (so their relationship filter covers a realistically large department), not in the small demo's.
BENCH_STAFF = {"bacsi": ("bench-bacsi", "doctor"), "dieuduong": ("bench-dieuduong", "nurse")}
BENCH_PASSWORD = "Workday-bench-2026!"


def benhan(args: list[str], database_url: str, capture: bool = False) -> str:
    """Run a ``benhan`` subcommand in demo mode against ``database_url``."""
    env = {**os.environ, "BENHAN_DATABASE_URL": database_url, "BENHAN_DEMO": "1"}
    out = subprocess.run([sys.executable, "-m", "benhan.cli", *args], env=env, check=True, text=True,
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return out.stdout or ""


def count_resources(db: Database) -> int:
    """Current resources in the store (one row per resource in ``resource``)."""
    sql = "SELECT count(*) FROM resource"
    if db.cluster is not None:
        import psycopg

        with psycopg.connect(db.dsn) as conn:
            return int(conn.execute(sql).fetchone()[0])
    import sqlite3

    with sqlite3.connect(db.dsn) as conn:
        return int(conn.execute(sql).fetchone()[0])


def load_targets(base_url: str, tokens: dict[str, str], limit: int = 2000) -> workday_users.Targets:
    """Existing patients (id, CCCD, BHYT) to work on, fetched once over the API (not timed)."""
    patients: list[dict[str, Any]] = []
    cccds: list[str] = []
    bhyts: list[str] = []
    headers = {"Authorization": f"Bearer {tokens['bacsi']}"}
    url: str | None = f"{base_url}/fhir/Patient?_count=500&_elements=id,identifier"
    with httpx.Client(headers=headers, timeout=120) as client:
        while url and len(patients) < limit:
            bundle = client.get(url).raise_for_status().json()
            for entry in bundle.get("entry", []):
                res = entry["resource"]
                patients.append({"id": res["id"]})
                for ident in res.get("identifier", []):
                    if ident.get("system") == workday_users.CCCD_SYSTEM:
                        cccds.append(ident["value"])
                    elif ident.get("system") == workday_users.BHYT_SYSTEM:
                        bhyts.append(ident["value"])
            url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
    if not patients or not cccds:
        raise RuntimeError("no patients with a CCCD in the database: was the demo loaded?")
    return workday_users.Targets(tokens, patients, cccds, bhyts, dt.date.today().isoformat())


def drive(base_url: str, users: int, duration: float, ramp: float, server_pid: int,
          db_pid: int | None) -> dict[str, Any]:
    """Run the Locust users; return per-action statistics, errors, throughput, server CPU and memory."""
    env = Environment(user_classes=[workday_users.Receptionist, workday_users.Doctor, workday_users.Nurse,
                                    workday_users.LabTechnician],
                      host=base_url)
    statuses: Counter[tuple[str, str, int]] = Counter()
    exceptions: Counter[tuple[str, str]] = Counter()

    def on_request(request_type: str, name: str, response: Any = None, exception: Any = None, **_: Any) -> None:
        status = getattr(response, "status_code", 0) or 0
        if exception is not None:
            if status:
                statuses[(request_type, name, int(status))] += 1
            else:
                exceptions[(name, repr(exception)[:200])] += 1

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1.0, users / ramp))
    gevent.sleep(ramp)  # every user spawned; measure from here
    env.stats.reset_all()
    statuses.clear()
    exceptions.clear()
    sproc = psutil.Process(server_pid)
    dproc = psutil.Process(db_pid) if db_pid else None
    sampler = server.PeakSampler(server_pid)
    sampler.reset()
    me = psutil.Process()  # the load generator shares the machine: its CPU is recorded too
    cpu0, db0, t0 = server.tree_cpu(sproc), server.tree_cpu(dproc) if dproc else 0.0, time.monotonic()
    drv0 = sum(me.cpu_times()[:2])
    gevent.sleep(duration)
    elapsed = time.monotonic() - t0
    cpu1, db1 = server.tree_cpu(sproc), server.tree_cpu(dproc) if dproc else 0.0
    drv1 = sum(me.cpu_times()[:2])
    runner.quit()
    sampler.stop()

    actions = {}
    for (name, method), entry in sorted(env.stats.entries.items()):
        if not entry.num_requests:
            continue
        actions[name] = {"method": method, "requests": entry.num_requests, "failures": entry.num_failures,
                         "rps": round(entry.num_requests / elapsed, 2),
                         "p50_ms": entry.get_response_time_percentile(0.50),
                         "p95_ms": entry.get_response_time_percentile(0.95),
                         "p99_ms": entry.get_response_time_percentile(0.99),
                         "mean_ms": round(entry.avg_response_time, 1), "max_ms": round(entry.max_response_time, 1)}
    total = env.stats.total
    errors = [{"method": m, "action": n, "status": s, "count": c} for (m, n, s), c in sorted(statuses.items())]
    errors += [{"action": n, "exception": e, "count": c} for (n, e), c in sorted(exceptions.items())]
    return {
        "duration_s": round(elapsed, 1),
        "requests": total.num_requests,
        "throughput_rps": round(total.num_requests / elapsed, 1),
        "error_count": total.num_failures,
        "errors": errors,
        "locust_errors": [{"method": e.method, "action": e.name, "error": str(e.error), "count": e.occurrences}
                          for e in env.stats.errors.values()],
        "p50_ms": total.get_response_time_percentile(0.50),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "actions": actions,
        "server_cpu_s": round(cpu1 - cpu0, 1),
        "server_cpu_cores": round((cpu1 - cpu0) / elapsed, 2),
        "db_cpu_s": round(db1 - db0, 1) if dproc else None,
        "db_cpu_cores": round((db1 - db0) / elapsed, 2) if dproc else None,
        "driver_cpu_cores": round((drv1 - drv0) / elapsed, 2),
        "server_peak_rss_mb": round(sampler.peak / 2**20, 1),
    }


def run_backend(backend: str, matrix: list[tuple[int, int]], duration: float, patients: int, years: int,
                quick: bool, keep: bool, reuse: str | None = None) -> list[dict[str, Any]]:
    """One backend: load the database once, then one run per (workers, users) with a fresh server each.

    ``reuse``: a database kept by an earlier ``--keep --load-only`` run (its URL); nothing is loaded.
    """
    db = reopen_database(reuse) if reuse else open_database(backend)
    keep = keep or bool(reuse)
    records = []
    try:
        t = time.monotonic()
        if not reuse:
            print(f"[{backend}] benhan init (demo)...", flush=True)
            benhan(["init"], db.url)
        if patients and not reuse:
            print(f"[{backend}] benhan demo --patients {patients} --years {years}...", flush=True)
            benhan(["demo", "--patients", str(patients), "--years", str(years), "--seed", "6", "--no-today"], db.url)
        print(f"[{backend}] loaded in {time.monotonic() - t:.0f} s: {count_resources(db):,} resources", flush=True)
        accounts = {role: role for role in ROLES}
        if patients:  # the added patients visit another generated facility: staff its busiest department
            accounts.update(staff_busiest_department(db.url))
        tokens = {role: benhan(["token", "issue", "--user", user, "--scope", "user/*.cruds", "--ttl", "86400"],
                               db.url, capture=True).strip().splitlines()[-1] for role, user in accounts.items()}
        for workers, users in matrix:
            db.analyze()  # the previous run wrote registrations, visits and results
            records.append(run_one(db, tokens, users, duration, workers, patients, quick))
            save(records[-1])
    finally:
        db.close(keep)
    return records


@dataclass
class _RunningCluster:
    """A PostgreSQL cluster kept running by an earlier run: only its data directory is needed here."""

    data: Path
    root: Path

    def stop(self) -> None:  # a reused cluster is never stopped here
        return None


def reopen_database(url: str) -> Database:
    """The :class:`Database` of a URL kept by an earlier ``--keep`` run (PostgreSQL still running, or SQLite)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        return Database("sqlite", url, path, Path(path).parent)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    import psycopg

    with psycopg.connect(dsn) as conn:
        data = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))
    return Database("postgres", url, dsn, Path(tempfile.mkdtemp(prefix="benhan-bench-reuse-")),
                    _RunningCluster(data, data.parent))  # type: ignore[arg-type]


def staff_busiest_department(db_url: str) -> dict[str, str]:
    """A doctor and a nurse account in the department with the most Encounters; {role: username}."""
    department = busiest_department(db_url)
    for username, role in BENCH_STAFF.values():
        ensure_user(db_url, username, role, department, BENCH_PASSWORD, f"{role} (benchmark)")
    return {demo_role: username for demo_role, (username, _) in BENCH_STAFF.items()}


def run_one(db: Database, tokens: dict[str, str], users: int, duration: float, workers: int, patients: int,
            quick: bool) -> dict[str, Any]:
    """One run on a loaded database: server with ``workers``, ``users`` Locust users; the result record."""
    srv = None
    try:
        resources = count_resources(db)
        srv = server.start(db.url, workers, db.workdir / f"server-w{workers}-u{users}.log")
        workday_users.TARGETS = load_targets(srv.base_url, tokens)
        info = machine.describe(db.version())
        print(f"[{db.backend}] {resources:,} resources, {users} users, {duration:.0f} s, {workers} worker(s)...",
              flush=True)
        ramp = max(5.0, min(30.0, users / 10))
        result = drive(srv.base_url, users, duration, ramp, srv.pid, db.db_pid())
        info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        return {"benchmark": "workday", "backend": db.backend, "resources": resources, "users": users,
                "workers": workers, "think_time_s": [1, 3], "ramp_s": ramp, "quick": quick,
                "demo_patients_added": patients, "date": dt.datetime.now().isoformat(timespec="seconds"),
                "auth": "bearer (user tokens: tiepdon, bacsi, dieuduong)", "machine": info, **result}
    finally:
        if srv is not None:
            srv.stop()


def save(r: dict[str, Any]) -> None:
    """Write the record as JSON under benchmarks/results/ and print its summary."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if r["quick"] else ""
    size = r["resources"] - r["resources"] % 1000 if r["resources"] >= 10_000 else r["resources"]
    path = RESULTS_DIR / f"workday-{r['backend']}-{size}-u{r['users']}-w{r['workers']}{suffix}.json"
    path.write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(r)
    print(f"  -> {path}", flush=True)


def print_summary(r: dict[str, Any]) -> None:
    print(f"\n{r['backend']} {r['resources']:,} resources, {r['users']} users, {r['workers']} worker(s): "
          f"{r['throughput_rps']} req/s, errors {r['error_count']}, CPU cores: server {r['server_cpu_cores']} "
          f"database {r.get('db_cpu_cores')} load generator {r.get('driver_cpu_cores')}, "
          f"peak RSS {r['server_peak_rss_mb']} MB")
    print(f"  {'action':22} {'n':>6} {'p50':>6} {'p95':>6} {'p99':>6}")
    for name, a in r["actions"].items():
        print(f"  {name:22} {a['requests']:6d} {a['p50_ms']:6.0f} {a['p95_ms']:6.0f} {a['p99_ms']:6.0f}")
    for e in r["errors"]:
        print(f"  ERROR {e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--users", default="50", help="concurrent users; a comma list runs each in turn")
    parser.add_argument("--duration", type=float, default=300, help="measured seconds (after the ramp-up)")
    parser.add_argument("--workers", default="1", help="server workers; a comma list runs each in turn")
    parser.add_argument("--patients", type=int, default=0, help="extra demo patients (benhan demo) on top of init")
    parser.add_argument("--years", type=int, default=3, help="years of history of the extra demo patients")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 users, 60 s, small demo only")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--report-only", action="store_true", help="only rebuild the docs section from JSON")
    parser.add_argument("--load-only", action="store_true", help="load the database and stop (with --keep)")
    parser.add_argument("--reuse", metavar="URL", help="run on a database kept by an earlier --keep run")
    args = parser.parse_args(argv)
    if args.report_only:
        update_docs()
        return 0
    if args.quick:
        args.users, args.workers, args.duration, args.patients = "20", "1", 60.0, 0
    users = [int(u) for u in str(args.users).split(",")]
    workers = [int(w) for w in str(args.workers).split(",")]
    matrix = [] if args.load_only else [(w, u) for w in workers for u in users]
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    if args.reuse:  # a kept database is of one engine: run once, labelled by its URL
        backends = ("sqlite",) if args.reuse.startswith("sqlite") else ("postgres",)
    failed = 0
    for backend in backends:
        for r in run_backend(backend, matrix, args.duration, args.patients, args.years, args.quick,
                             args.keep or args.load_only, args.reuse):
            failed += r["error_count"] > 0
    update_docs()
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
