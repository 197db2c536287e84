"""Run ``benhan serve`` as a subprocess and watch the memory and CPU of its process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from benhan.db.pgcluster import free_port


def tree_rss(root: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def tree_cpu(root: psutil.Process) -> float:
    """CPU seconds (user + system) used by a process tree, including children already reaped."""
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class PeakSampler:
    """Samples the resident memory of a process tree in a thread; ``peak`` since the last reset.

    The tree's processes are listed again every ``refresh`` seconds only: listing children walks
    every process of the machine, which cost the load generator a tenth of its CPU at 5 samples/s.
    """

    def __init__(self, pid: int, interval: float = 0.2, refresh: float = 5.0) -> None:
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.refresh = refresh
        self.peak = 0
        self.last = 0
        self._procs: list[psutil.Process] = []
        self._listed = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _sample(self) -> int:
        now = time.monotonic()
        if now - self._listed > self.refresh:
            self._procs, self._listed = [self.proc, *self.proc.children(recursive=True)], now
        total = 0
        for proc in self._procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                self._listed = 0.0  # a worker went away: list the tree again next time
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.last = self._sample()
            except psutil.Error:
                return
            self.peak = max(self.peak, self.last)

    def reset(self) -> None:
        self._listed = 0.0
        self.peak = self.last = self._sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


@dataclass
class Server:
    """A running ``benhan serve`` on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def run(cmd: list[str], database_url: str) -> None:
    """Run a ``benhan`` subcommand against ``database_url``; raise on failure."""
    env = {**os.environ, "BENHAN_DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "benhan.cli", *cmd], env=env, check=True, stdout=subprocess.DEVNULL)


# A throw-away public key: backend clients must register a JWKS, but the benchmark's token is issued
# by ``benhan token issue`` on the command line, so the key is never used to sign anything.
BENCH_JWKS = {"keys": [{"kty": "EC", "crv": "P-256", "x": "DHQzCvvw65sdFeD18RpwO-SZIdVcMLHMclPHXDnrN_0",
                        "y": "bcrYAPJywARAZYK11kZ2arWn_fXP9Th0yZEaZstM13g", "use": "sig", "alg": "ES256",
                        "kid": "benhan-bench"}]}
BENCH_SCOPE = "system/*.cruds"


def issue_token(database_url: str, ttl: int = 24 * 3600) -> str | None:
    """A bearer token for a backend client with full ``system/`` scopes; None if the build has no security.

    Uses the operator commands (``benhan client add``, ``benhan token issue``), as a hospital would.
    """
    env = {**os.environ, "BENHAN_DATABASE_URL": database_url}
    base = [sys.executable, "-m", "benhan.cli"]
    probe = subprocess.run([*base, "token", "--help"], env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        return None  # no security commands in this build: the API is open
    import json

    subprocess.run([*base, "client", "add", "benhan-bench", "--kind", "backend", "--scope", BENCH_SCOPE,
                    "--jwks", json.dumps(BENCH_JWKS), "--name", "benchmarks/fhir_store.py"],
                   env=env, check=True, capture_output=True, text=True)
    out = subprocess.run([*base, "token", "issue", "--client", "benhan-bench", "--scope", BENCH_SCOPE,
                          "--ttl", str(ttl)], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def start(database_url: str, workers: int, log_path: Path, timeout: float = 60.0) -> Server:
    """Start ``benhan serve`` on a free port and wait until ``/healthz`` answers."""
    port = free_port()
    env = {**os.environ, "BENHAN_DATABASE_URL": database_url}
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "benhan.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"benhan serve exited with {process.returncode}; see {log_path}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                # with several workers, give every worker the time to come up
                if workers > 1:
                    time.sleep(2)
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"benhan serve did not answer within {timeout} s; see {log_path}")
