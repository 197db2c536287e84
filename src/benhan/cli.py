"""The ``benhan`` command: ``init``, ``serve``, ``db upgrade``, and the security commands
(``user``, ``client``, ``token``, ``audit``, ``break-glass``: see ``security/cli.py``).

Command and option names are a stable contract for operators' scripts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from benhan.settings import Settings


def _cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    from benhan.db.migrate import upgrade
    from benhan.security.cli import _init_keys
    from benhan.terminology.cli import sync_shipped

    upgrade(settings.database_url)
    _init_keys(settings)  # the token-signing key, shared by every worker through the database
    sync_shipped(settings.database_url)  # catalogs shipped with this version, when the database differs
    print(f"Cơ sở dữ liệu sẵn sàng / database ready: {_safe_url(settings.database_url)}")
    if settings.demo:
        _load_demo(settings)
    return 0


def _load_demo(settings: Settings) -> None:
    """Demo mode: a small demo hospital on an empty database, the catalogs, and one account per role."""
    import time

    from sqlalchemy import select

    from benhan.db.engine import make_engine
    from benhan.demo.accounts import ensure_demo_accounts
    from benhan.demo.small import load_small_demo
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs
    from benhan.terminology.tables import term_codesystem

    engine = make_engine(settings.database_url)
    try:
        started = time.monotonic()
        counts = load_small_demo(engine, facility_code=settings.facility_code)  # no-op unless empty
        if counts:
            print(f"Dữ liệu demo / demo data: {sum(counts.values())} tài nguyên / resources "
                  f"({time.monotonic() - started:.0f} s)")
        with engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                if conn.execute(select(term_codesystem.c.url).limit(1)).first() is None:
                    load_catalogs(conn, shipped(None))
                    print("Danh mục / catalogs: ICD-10 (QĐ 4469), dân tộc, nghề nghiệp, quốc gia, khoa, tỉnh")
        # Planner statistics for the freshly loaded data, on both engines (autocommit: not rolled back).
        # PostgreSQL went without until autovacuum came by, so plans depended on when it had: with none, a
        # visit's `Observation?encounter=&category=vital-signs` started from the category and ran the
        # doctor's access test on every vital sign of the hospital (4 s on the test database).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        ensure_demo_accounts(engine, settings)
    finally:
        engine.dispose()


def _cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from benhan.db.migrate import current_revision, upgrade

    upgrade(settings.database_url, args.revision)
    print(f"schema revision: {current_revision(settings.database_url)}")
    if args.revision == "head":
        from benhan.terminology.cli import sync_shipped

        sync_shipped(settings.database_url)  # catalogs shipped with this version, when the database differs
    return 0


def _cmd_db_reindex(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from benhan.db.engine import make_engine
    from benhan.fhir.reindex import count_current, reindex

    engine = make_engine(settings.database_url)
    try:
        total = count_current(engine, args.type)
        started = time.monotonic()

        def progress(done: int, last_pk: int) -> None:
            print(f"\r{done:,}/{total:,} tài nguyên / resources (last pk {last_pk})", end="", flush=True)

        counts = reindex(engine, types=args.type, batch=args.batch, from_pk=args.from_pk, progress=progress)
    finally:
        engine.dispose()
    print(f"\nĐã lập lại chỉ mục / reindexed {sum(counts.values()):,} in {time.monotonic() - started:.0f} s")
    for rtype, n in sorted(counts.items()):
        print(f"  {rtype}: {n:,}")
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if settings.demo:
        from benhan.db.engine import make_engine
        from benhan.demo.accounts import ensure_demo_accounts, print_logins

        engine = make_engine(settings.database_url)
        try:
            print(print_logins(ensure_demo_accounts(engine, settings), f"http://{args.host}:{args.port}"))
        finally:
            engine.dispose()
    print(f"Bệnh Án đang chạy tại / serving at http://{args.host}:{args.port}  (FHIR: /fhir)")
    uvicorn.run("benhan.app:create_app", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, access_log=False)
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password (never print secrets)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benhan", description="Bệnh Án — bệnh án điện tử / EMR (FHIR R4)")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create or upgrade the database / tạo hoặc nâng cấp CSDL")
    init.set_defaults(func=_cmd_init)

    serve = sub.add_parser("serve", help="serve the HTTP API / chạy máy chủ")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_cmd_serve)

    db = sub.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply schema migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_cmd_db_upgrade)
    rx = db_sub.add_parser("reindex", help="rebuild the search index of stored resources / lập lại chỉ mục tìm kiếm")
    rx.add_argument("--type", action="append", help="only this resource type (repeatable)")
    rx.add_argument("--batch", type=int, default=500, help="resources per transaction")
    rx.add_argument("--from-pk", type=int, default=0, help="resume after this resource key")
    rx.set_defaults(func=_cmd_db_reindex)
    from benhan.security.db_roles import register_cli

    register_cli(db_sub)

    from benhan.security.cli import register

    register(sub)
    from benhan.terminology.cli import add_terminology_parser

    add_terminology_parser(sub)
    from benhan.demo.cli import add_demo_parser

    add_demo_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args, Settings.from_env()) or 0)


if __name__ == "__main__":
    sys.exit(main())
