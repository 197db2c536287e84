"""``load_small_demo``: the data ``make run`` starts with on an empty database.

A few hundred patients with a year of history, this morning's clinic queue, today's booked
appointments and some current inpatients; under a minute on SQLite. It does nothing when the
database already holds any resource besides the shipped catalogs, so it is safe to call at every start
(two processes racing on an empty database: the second one's first write conflicts on the same ids and
it backs off).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Connection, Engine, select

from benhan.db import schema
from benhan.db.engine import make_engine
from benhan.demo.timefmt import today_in_vietnam
from benhan.fhir.clock import Clock, system_clock

from .generator import DemoSpec, Generator
from .writer import DemoLoadError, _begin, batches_of, load_batches, write_resources

SMALL_SEED = 20250701
SMALL_PATIENTS = 300
SMALL_YEARS = 1


# What ``benhan init`` writes before the demo: the shipped catalogs as FHIR terminology resources.
CATALOG_TYPES = ("CodeSystem", "ValueSet", "NamingSystem", "ConceptMap")


def is_empty(engine: Engine) -> bool:
    """No data yet besides the shipped catalogs (which ``benhan init`` loads first)."""
    with engine.connect() as conn:
        return _still_empty(conn)


def load_small_demo(engine_or_url: Engine | str, today: date | None = None, *, patients: int = SMALL_PATIENTS,
                    seed: int = SMALL_SEED, facility_code: str | None = None,
                    clock: Clock = system_clock) -> Counter[str]:
    """Load the small demo if the database is empty; return the counts written (empty if it did nothing)."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        if not is_empty(engine):
            return Counter()
        options = {"facility_code": facility_code} if facility_code else {}
        spec = DemoSpec(seed=seed, patients=patients, years=SMALL_YEARS, today=today or today_in_vietnam(), **options)
        generator = Generator(spec)
        counts: Counter[str] = Counter()
        try:
            with engine.connect() as conn, _begin(conn):
                if not _still_empty(conn):
                    return Counter()
                write_resources(conn, generator.shared(), counts, clock=clock, where="shared: ")
        except DemoLoadError as exc:
            if exc.conflict:
                return Counter()  # another process is loading the same demo
            raise
        counts.update(load_batches(engine, generator, batches_of(spec, 25), clock=clock))
        return counts
    finally:
        if isinstance(engine_or_url, str):
            engine.dispose()


def _still_empty(conn: Connection) -> bool:
    r = schema.resource
    return conn.execute(select(r.c.pk).where(r.c.type.not_in(CATALOG_TYPES)).limit(1)).first() is None
