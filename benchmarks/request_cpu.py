"""Server CPU per request, paired A/B: the working day's actions against two checkouts at once.

Two ``benhan serve`` processes (1 worker each) run on ONE PostgreSQL database: the current tree (B)
and a git revision (A, checked out into a temporary worktree). Each action of the workday mix is
sent in blocks of ``--block`` sequential requests, alternating A and B block by block, and the CPU
each server process used is read from the OS after each block. Both servers therefore see the same
data and the same machine noise; the B/A ratio is the number to quote, not the milliseconds.

    .venv/bin/python benchmarks/request_cpu.py --base 243df21 [--rounds 10] [--block 20]

Results: ``benchmarks/results/request-cpu-<base>.json`` and a table on stdout (docs/performance.md
quotes it). The database is the demo plus ``--patients`` generated patients; the doctor and nurse
work in the busiest department, as in ``workday.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine
import server
from chart import busiest_department, ensure_user
from fhir_store import open_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
PASSWORD = "Request-cpu-2026!"
LOINC = "http://loinc.org"
CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"
# Requests per action in the workday mix (workday_users.py: users 1:2:1:1, task weights; a chart is 4 GETs).
WEIGHTS = {"worklist": 15, "lookup_name": 15, "lookup_cccd": 3, "chart_patient": 8, "chart_observations": 8,
           "chart_conditions": 8, "diagnose": 4, "vitals": 4, "post_result": 4, "register": 2,
           "appointments_today": 1}


def cli(args: list[str], url: str, capture: bool = False) -> str:
    env = {**os.environ, "BENHAN_DATABASE_URL": url, "BENHAN_DEMO": "1"}
    out = subprocess.run([sys.executable, "-m", "benhan.cli", *args], env=env, check=True, text=True,
                         stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
    return out.stdout or ""


def start_server(tree: Path, url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``benhan serve`` with the code of ``tree`` (PYTHONPATH wins over the editable install)."""
    port = server.free_port()
    env = {**os.environ, "BENHAN_DATABASE_URL": url, "PYTHONPATH": str(tree / "src")}
    proc = subprocess.Popen([sys.executable, "-m", "benhan.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--log-level", "warning"], env=env, cwd=tree,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server of {tree} did not start: see {log}")


class Actions:
    """The workday actions as functions of an HTTP client (same requests as workday_users.py)."""

    def __init__(self, tokens: dict[str, str], patients: list[str], cccds: list[str]) -> None:
        self.tokens, self.patients, self.cccds = tokens, patients, cccds
        self.rng = random.Random(6)
        self.serial = int(time.time()) % 10**5 * 10

    def headers(self, role: str, content_type: str | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.tokens[role]}", "Accept": "application/fhir+json"}
        return {**h, "Content-Type": content_type} if content_type else h

    def now(self) -> str:
        return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    def all(self) -> dict[str, Callable[[httpx.Client], httpx.Response]]:
        pid = lambda: self.rng.choice(self.patients)  # noqa: E731
        fhir = "application/fhir+json"
        return {
            "worklist": lambda c: c.get("/fhir/Encounter?status=arrived,in-progress&_sort=-date&_count=50"
                                        "&_include=Encounter:subject", headers=self.headers("bacsi")),
            "lookup_name": lambda c: c.get(f"/fhir/Patient?name={self.rng.choice(['ngu', 'tran', 'le', 'van'])}"
                                           "&_count=20", headers=self.headers("bacsi")),
            "lookup_cccd": lambda c: c.get(f"/fhir/Patient?identifier={CCCD}|{self.rng.choice(self.cccds)}",
                                           headers=self.headers("tiepdon")),
            "chart_patient": lambda c: c.get(f"/fhir/Patient/{pid()}", headers=self.headers("bacsi")),
            "chart_observations": lambda c: c.get(f"/fhir/Observation?subject=Patient/{pid()}&_sort=-date&_count=50",
                                                  headers=self.headers("bacsi")),
            "chart_conditions": lambda c: c.get(f"/fhir/Condition?subject=Patient/{pid()}&_count=50",
                                                headers=self.headers("bacsi")),
            "diagnose": lambda c: c.post("/fhir/Condition", headers=self.headers("bacsi", fhir), json={
                "resourceType": "Condition", "subject": {"reference": f"Patient/{pid()}"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "I10"}]},
                "recordedDate": self.now()}),
            "vitals": lambda c: c.post("/fhir/Observation", headers=self.headers("dieuduong", fhir), json={
                "resourceType": "Observation", "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, "subject": {"reference": f"Patient/{pid()}"},
                "effectiveDateTime": self.now(),
                "valueQuantity": {"value": 80, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}),
            "post_result": lambda c: c.post("/fhir", headers=self.headers("ktv", fhir), json=self.lab_bundle(pid())),
            "register": self.register,
            "appointments_today": lambda c: c.get(f"/fhir/Appointment?date={dt.date.today()}&_count=50",
                                                  headers=self.headers("tiepdon")),
        }

    def lab_bundle(self, patient: str) -> dict[str, Any]:
        oid = str(uuid.uuid4())
        code = {"coding": [{"system": LOINC, "code": "718-7"}]}
        obs = {"resourceType": "Observation", "status": "final", "code": code,
               "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": self.now(),
               "valueQuantity": {"value": 13.1, "unit": "g/dL"}}
        report = {"resourceType": "DiagnosticReport", "status": "final", "code": code,
                  "subject": {"reference": f"Patient/{patient}"}, "result": [{"reference": f"urn:uuid:{oid}"}]}
        return {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:{oid}", "resource": obs, "request": {"method": "POST", "url": "Observation"}},
            {"resource": report, "request": {"method": "POST", "url": "DiagnosticReport"}}]}

    def register(self, c: httpx.Client) -> httpx.Response:
        self.serial += 1
        body = {"name": f"Nguyễn Văn Bình {self.serial}", "gender": "male", "birthDate": "1980-05-12",
                "nationalId": f"001080{(self.serial * 7919) % 10**6:06d}",
                "phone": f"09{self.rng.randrange(10**8):08d}"}
        return c.post("/api/registration?confirmedNew=true", json=body, headers=self.headers("tiepdon",
                                                                                              "application/json"))


def measure(actions: dict[str, Callable[[httpx.Client], httpx.Response]], servers: dict[str, tuple[Any, str]],
            rounds: int, block: int) -> dict[str, dict[str, Any]]:
    """Per action: median server CPU ms per request of A and B over ``rounds`` alternating blocks."""
    clients = {k: httpx.Client(base_url=base, timeout=120) for k, (_, base) in servers.items()}
    procs = {k: psutil.Process(p.pid) for k, (p, _) in servers.items()}
    out: dict[str, dict[str, Any]] = {}
    for name, act in actions.items():
        for k in ("A", "B"):
            for _ in range(3):  # warm-up (caches, prepared statements)
                _check(name, act(clients[k]))
        samples: dict[str, list[float]] = {"A": [], "B": []}
        for r in range(rounds):
            for k in (("A", "B") if r % 2 == 0 else ("B", "A")):
                before = server.tree_cpu(procs[k])
                for _ in range(block):
                    _check(name, act(clients[k]))
                samples[k].append(1000 * (server.tree_cpu(procs[k]) - before) / block)
        a, b = statistics.median(samples["A"]), statistics.median(samples["B"])
        out[name] = {"a_ms": round(a, 2), "b_ms": round(b, 2), "ratio": round(b / a, 3) if a else None,
                     "a_samples": samples["A"], "b_samples": samples["B"]}
        print(f"  {name:20} A {a:6.2f}  B {b:6.2f} ms/request  B/A {b / a:5.2f}", flush=True)
    return out


def _check(name: str, resp: httpx.Response) -> None:
    if resp.status_code not in (200, 201):
        raise RuntimeError(f"{name}: HTTP {resp.status_code} {resp.text[:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare against (A)")
    parser.add_argument("--patients", type=int, default=300, help="generated patients on top of the demo")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--block", type=int, default=20, help="requests per block")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="benhan-request-cpu-"))
    base_tree = work / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base_tree), args.base], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = open_database("postgres")
    servers: dict[str, tuple[Any, str]] = {}
    try:
        print("loading: benhan init + demo...", flush=True)
        cli(["init"], db.url)
        cli(["demo", "--patients", str(args.patients), "--years", "3", "--seed", "6", "--no-today"], db.url)
        department = busiest_department(db.url)
        users = {"tiepdon": "tiepdon", "ktv": "ktv", "bacsi": "rq-bacsi", "dieuduong": "rq-dieuduong"}
        ensure_user(db.url, "rq-bacsi", "doctor", department, PASSWORD, "doctor (request_cpu)")
        ensure_user(db.url, "rq-dieuduong", "nurse", department, PASSWORD, "nurse (request_cpu)")
        tokens = {r: cli(["token", "issue", "--user", u, "--scope", "user/*.cruds", "--ttl", "7200"], db.url,
                         capture=True).strip().splitlines()[-1] for r, u in users.items()}
        db.analyze()
        servers["A"] = start_server(base_tree, db.url, work / "a.log")
        servers["B"] = start_server(ROOT, db.url, work / "b.log")
        with httpx.Client(base_url=servers["B"][1], timeout=120) as c:
            bundle = c.get("/fhir/Patient?_count=300&_elements=id,identifier",
                           headers={"Authorization": f"Bearer {tokens['bacsi']}"}).raise_for_status().json()
        patients = [e["resource"]["id"] for e in bundle["entry"]]
        cccds = [i["value"] for e in bundle["entry"] for i in e["resource"].get("identifier", [])
                 if i["system"] == CCCD]
        print(f"measuring: A = {args.base}, B = working tree; {args.rounds} rounds x {args.block} requests", flush=True)
        results = measure(Actions(tokens, patients, cccds).all(), servers, args.rounds, args.block)
        weight = sum(WEIGHTS[n] for n in results)
        wa = sum(WEIGHTS[n] * r["a_ms"] for n, r in results.items()) / weight
        wb = sum(WEIGHTS[n] * r["b_ms"] for n, r in results.items()) / weight
        print(f"  {'workday-weighted':20} A {wa:6.2f}  B {wb:6.2f} ms/request  B/A {wb / wa:5.2f}")
        record = {"benchmark": "request_cpu", "base": args.base,
                  "date": dt.datetime.now().isoformat(timespec="seconds"), "rounds": args.rounds,
                  "block": args.block, "patients": args.patients, "actions": results,
                  "workday_weighted": {"a_ms": round(wa, 2), "b_ms": round(wb, 2), "ratio": round(wb / wa, 3)},
                  "machine": machine.describe(db.version())}
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"request-cpu-{args.base[:10]}.json"
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"  -> {path}")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
        db.close(keep=False)
        subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
