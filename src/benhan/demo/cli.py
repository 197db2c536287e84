"""``benhan demo``: generate realistic synthetic Vietnamese hospital data.

    benhan demo --patients 10000 --years 5 --seed 42 [--facility 01999]
    benhan demo --patients 100 --out ./demo-ndjson [--format bundles]

Registered on the main parser by :func:`add_demo_parser`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from benhan.demo.timefmt import today_in_vietnam
from benhan.settings import Settings

from .files import FORMATS
from .generator import DEFAULT_FACILITY


def _facility(value: str) -> str:
    from benhan.vn.errors import InvalidValue
    from benhan.vn.facility import parse_facility_code

    from . import data

    try:
        code = parse_facility_code(value)
    except InvalidValue as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if code.province not in data.provinces():
        raise argparse.ArgumentTypeError(f"{value}: the first two digits must be one of the 34 province codes "
                                         f"in force since 01/07/2025")
    return value


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_demo_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``demo`` on the ``benhan`` sub-command parser."""
    demo = subparsers.add_parser(
        "demo", help="generate synthetic hospital data / tạo dữ liệu mẫu",
        description="Dữ liệu bệnh viện mẫu (tổng hợp, không phải người thật) / synthetic Vietnamese hospital data.")
    demo.add_argument("--patients", type=_positive, default=1000, help="number of patients (default 1000)")
    demo.add_argument("--years", type=_positive, default=3, help="years of history up to today (default 3)")
    demo.add_argument("--seed", type=int, default=1, help="random seed: same seed, same data (default 1)")
    demo.add_argument("--facility", type=_facility, default=None,
                      help="5-digit facility code, first 2 digits = province "
                           f"(default: BENHAN_FACILITY_CODE, else {DEFAULT_FACILITY})")
    demo.add_argument("--today", type=date.fromisoformat, default=None,
                      help="the day the data ends (YYYY-MM-DD, default: today); fix it for reproducible output")
    demo.add_argument("--out", type=Path, default=None,
                      help="write files to this directory instead of the database")
    demo.add_argument("--format", choices=FORMATS, default="ndjson",
                      help="with --out: ndjson (one file per type) or bundles (transaction Bundles)")
    demo.add_argument("--workers", type=_positive, default=None,
                      help="writer processes (default: 2 on PostgreSQL, 1 on SQLite)")
    demo.add_argument("--batch", type=_positive, default=20, help="patients per database transaction (default 20)")
    demo.add_argument("--no-today", dest="with_today", action="store_false",
                      help="no clinic queue, appointments or current inpatients today")
    demo.set_defaults(func=run_demo)
    return demo


def print_counts(counts: Counter[str], seconds: float, stream: TextIO) -> None:
    total = sum(counts.values())
    rate = total / seconds if seconds > 0 else 0.0
    stream.write(f"Đã tạo / created: {total:,} tài nguyên / resources in {seconds:.1f} s ({rate:,.0f}/s)\n")
    width = max((len(t) for t in counts), default=10)
    for rtype, number in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        stream.write(f"  {rtype:<{width}}  {number:>10,}\n")
    stream.write(f"  {'Tổng / total':<{width}}  {total:>10,}\n")


def run_demo(args: argparse.Namespace, settings: Settings, stream: TextIO | None = None) -> int:
    from .generator import DemoSpec
    from .progress import Progress

    out = stream or sys.stdout
    try:
        facility = args.facility or _facility(getattr(settings, "facility_code", None) or DEFAULT_FACILITY)
    except argparse.ArgumentTypeError as exc:
        sys.stderr.write(f"Lỗi / error: BENHAN_FACILITY_CODE {exc}\n")
        return 2
    spec = DemoSpec(seed=args.seed, patients=args.patients, years=args.years, facility_code=facility,
                    today=args.today or today_in_vietnam(), with_today=args.with_today)
    progress = Progress(spec.patients)
    started = time.perf_counter()
    if args.out is not None:
        from .files import write_files

        counts = write_files(args.out, spec, fmt=args.format, progress=progress.update)
        progress.finish()
        out.write(f"Đã ghi / written to {args.out} ({args.format})\n")
    else:
        from benhan.db.engine import make_engine
        from benhan.db.migrate import upgrade

        from .writer import DemoLoadError, load

        upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        sqlite = engine.dialect.name == "sqlite"
        engine.dispose()
        workers = args.workers or (1 if sqlite else 2)
        try:
            counts = load(settings.database_url, spec, workers=workers, batch=args.batch, progress=progress.update)
        except DemoLoadError as exc:
            progress.finish()
            sys.stderr.write(f"Lỗi / error: {exc}\n")
            return 1
        progress.finish()
    print_counts(counts, time.perf_counter() - started, out)
    return 0
