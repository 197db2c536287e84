"""Loading the demo through the normal write path: ``Repository.create`` (validation, indexing,
history), never SQL of our own.

Each database transaction holds a batch of whole patients: the repository runs with
``defer_integrity`` and checks every reference once at the end of the batch, so a patient's
resources may point at each other in any order. Buffered writes are flushed every few hundred
resources (bulk INSERTs; large buffers cost more than they save). With a database URL, several
worker processes can load disjoint batches in parallel (PostgreSQL; SQLite writers take turns).
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from benhan.db.engine import is_sqlite, make_engine
from benhan.fhir.clock import Clock, system_clock
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository

from .generator import DemoSpec, Generator

FLUSH_EVERY = 200
DEFAULT_BATCH = 20  # patients per database transaction

ProgressFn = Callable[[int, int], None]  # (patients done, resources written)


class DemoLoadError(RuntimeError):
    """A generated resource was refused by the repository (a bug in the generator), or its id is taken."""

    def __init__(self, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.conflict = conflict  # the same resources are already there (same seed loaded twice, or a race)


def _is_conflict(exc: BaseException) -> bool:
    """A unique-key conflict, however the storage layer reports it (409, IntegrityError, SQLSTATE 23505)."""
    if isinstance(exc, FhirError):
        return exc.status == 409
    if isinstance(exc, IntegrityError):
        return True
    return str(getattr(exc, "sqlstate", "") or "").startswith("23")


def _begin(conn: Connection) -> Any:
    conn.info["write"] = True  # SQLite: BEGIN IMMEDIATE, take the write lock up front
    return conn.begin()


def _repository(conn: Connection, clock: Clock) -> Repository:
    repo = Repository(conn, clock=clock)
    repo.defer_integrity = True
    return repo


def write_resources(conn: Connection, resources: Iterable[dict[str, Any]], counts: Counter[str], *,
                    clock: Clock = system_clock, where: str = "", repo: Repository | None = None) -> int:
    """Create ``resources`` (each carrying its id) in the caller's transaction; return how many.

    With ``repo`` (one repository for a whole batch transaction) references are checked when the
    caller ends the batch; without, at the end of these resources.
    """
    own = repo is None
    if repo is None:
        repo = _repository(conn, clock)
    written = 0
    for resource in resources:
        try:
            repo.create(resource, rid=resource["id"])
        except FhirError as exc:
            raise DemoLoadError(f"{where}{resource['resourceType']}/{resource['id']}: {exc}") from exc
        counts[resource["resourceType"]] += 1
        written += 1
        if repo.buffered >= FLUSH_EVERY:
            _flush(repo.flush, where)
    if own:
        _flush(repo.check_deferred_references, where)
    return written


def _flush(step: Callable[[], None], where: str) -> None:
    try:
        step()
    except (FhirError, DBAPIError) as exc:
        raise DemoLoadError(f"{where}{exc}", conflict=_is_conflict(exc)) from exc
    except Exception as exc:
        if not _is_conflict(exc):  # e.g. a driver error raised outside SQLAlchemy (COPY on PostgreSQL)
            raise
        raise DemoLoadError(f"{where}{exc}", conflict=True) from exc


def load_shared(engine: Engine, generator: Generator, *, clock: Clock = system_clock) -> Counter[str]:
    counts: Counter[str] = Counter()
    with engine.connect() as conn, _begin(conn):
        write_resources(conn, generator.shared(), counts, clock=clock, where="shared: ")
    return counts


def load_batches(engine: Engine, generator: Generator, batches: Iterable[range], *, clock: Clock = system_clock,
                 progress: ProgressFn | None = None) -> Counter[str]:
    """Write the patients of each batch in one transaction per batch."""
    counts: Counter[str] = Counter()
    for batch in batches:
        before = sum(counts.values())
        with engine.connect() as conn, _begin(conn):
            # One repository per transaction: writes are flushed in full-size bulk statements across
            # patients, and references (to the shared hospital resources, mostly) are checked once.
            repo = _repository(conn, clock)
            for index in batch:
                write_resources(conn, generator.patient(index), counts, clock=clock, where=f"patient {index}: ",
                                repo=repo)
            _flush(repo.check_deferred_references, f"patients {batch.start}-{batch.stop - 1}: ")
        if progress is not None:
            progress(len(batch), sum(counts.values()) - before)
    return counts


def batches_of(spec: DemoSpec, size: int) -> list[range]:
    return [range(start, min(start + size, spec.patients)) for start in range(0, spec.patients, size)]


def load(target: Engine | str, spec: DemoSpec, *, workers: int = 1, batch: int = DEFAULT_BATCH,
         clock: Clock = system_clock, progress: ProgressFn | None = None) -> Counter[str]:
    """Generate ``spec`` into the database; return the number of resources written per type.

    ``target`` is an Engine (one process) or a database URL (``workers`` processes on PostgreSQL).
    """
    generator = Generator(spec)
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        counts = load_shared(engine, generator, clock=clock)
        plan = batches_of(spec, batch)
        if workers <= 1 or not isinstance(target, str) or is_sqlite(engine):
            counts.update(load_batches(engine, generator, plan, clock=clock, progress=progress))
            return counts
    finally:
        if isinstance(target, str):
            engine.dispose()
    counts.update(_parallel(target, spec, plan, workers, progress))
    return counts


def _worker(url: str, spec: DemoSpec, plan: list[range], messages: Any) -> None:
    engine = make_engine(url)
    try:
        generator = Generator(spec)
        counts = load_batches(engine, generator, plan,
                              progress=lambda patients, resources: messages.put(("progress", patients, resources)))
        messages.put(("done", dict(counts), None))
    except Exception as exc:  # reported to the parent, which raises it
        messages.put(("error", repr(exc), None))
    finally:
        engine.dispose()


def _parallel(url: str, spec: DemoSpec, plan: list[range], workers: int,
              progress: ProgressFn | None) -> Counter[str]:
    # fork where available: no re-import of the caller's __main__ (scripts without a main guard work),
    # and the parent holds no database connection at this point (its engine was disposed).
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    messages = context.Queue()
    processes = [context.Process(target=_worker, args=(url, spec, plan[w::workers], messages), daemon=True)
                 for w in range(workers)]
    for process in processes:
        process.start()
    counts: Counter[str] = Counter()
    finished, error = 0, None
    try:
        while finished < len(processes):
            try:
                kind, first, second = messages.get(timeout=1.0)
            except queue_module.Empty:
                if any(not p.is_alive() and p.exitcode not in (0, None) for p in processes):
                    error = error or "a worker process died"
                    break
                continue
            if kind == "progress" and progress is not None:
                progress(first, second)
            elif kind == "done":
                counts.update(first)
                finished += 1
            elif kind == "error":
                error = first
                break
    finally:
        for process in processes:
            if error is not None and process.is_alive():
                process.terminate()
            process.join()
    if error is not None:
        raise DemoLoadError(error)
    return counts
