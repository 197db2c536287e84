"""``benhan init`` / ``benhan db upgrade`` load the shipped catalogs when the database holds other content."""

from __future__ import annotations

from sqlalchemy import func, select, update

from benhan.cli import main
from benhan.db import schema as s
from benhan.db.engine import make_engine
from benhan.terminology.catalogs import SHIPPED
from benhan.terminology.tables import term_codesystem, term_concept


def _state(url: str) -> tuple[dict[tuple[str, str], str], int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            t = term_codesystem
            hashes = {(r.url, r.version): r.content_hash for r in conn.execute(select(t.c.url, t.c.version,
                                                                                        t.c.content_hash))}
            versions = conn.execute(select(func.count()).select_from(s.resource_version)).scalar_one()
            concepts = conn.execute(select(func.count()).select_from(term_concept)).scalar_one()
    finally:
        engine.dispose()
    return hashes, versions, concepts


def test_init_loads_then_upgrade_reloads_only_what_changed(database_url, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BENHAN_DATABASE_URL", database_url)
    assert main(["init"]) == 0
    hashes, versions, concepts = _state(database_url)
    assert len(hashes) == len(SHIPPED) and concepts > 12_137 + 3_355
    assert "catalog created" in capsys.readouterr().out

    # Unchanged: nothing is written.
    assert main(["db", "upgrade"]) == 0
    assert "catalog" not in capsys.readouterr().out
    assert _state(database_url) == (hashes, versions, concepts)

    # A database holding an older content of one catalog (as after a product upgrade) gets the shipped one.
    engine = make_engine(database_url)
    with engine.begin() as conn:
        t = term_codesystem
        conn.execute(update(t).where(t.c.version == "NQ202-2025").values(content_hash="older"))
        conn.execute(term_concept.delete().where(term_concept.c.code == "26743"))
    engine.dispose()
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "catalog updated" in out and "|NQ202-2025" in out and out.count("catalog ") == 1
    after, _, concepts_after = _state(database_url)
    assert after == hashes and concepts_after == concepts


def test_terminology_load_shows_progress(database_url, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BENHAN_DATABASE_URL", database_url)
    assert main(["terminology", "load", "--only", "gender", "--only", "ethnicity"]) == 0
    captured = capsys.readouterr()
    assert "] 1/2 gioi-tinh 4.0.1: created" in captured.err and "] 2/2 dan-toc 1.0: created" in captured.err
    assert "Xong / done in" in captured.err
    assert "created   http://hl7.org/fhir/administrative-gender|4.0.1" in captured.out
    assert main(["terminology", "load", "--only", "gender"]) == 0
    assert "1/1 gioi-tinh 4.0.1: unchanged" in capsys.readouterr().err
