"""``--out`` files (NDJSON, transaction Bundles) and the ``benhan demo`` command line."""

from __future__ import annotations

import argparse
import io
from collections import Counter
from datetime import date
from pathlib import Path

import orjson

from benhan.demo import DemoSpec, write_files
from benhan.demo.cli import add_demo_parser
from benhan.fhir.validation import validate_resource
from benhan.settings import Settings

TODAY = date(2026, 11, 22)
SPEC = DemoSpec(seed=31, patients=5, years=1, today=TODAY)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benhan")
    add_demo_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_ndjson_files_hold_one_valid_resource_per_line(tmp_path: Path):
    counts = write_files(tmp_path, SPEC)
    found: Counter[str] = Counter()
    for path in tmp_path.glob("*.ndjson"):
        for line in path.read_bytes().splitlines():
            resource = orjson.loads(line)
            assert resource["resourceType"] == path.stem
            validate_resource(resource, resource_type=path.stem)
            found[path.stem] += 1
    assert found == counts


def test_files_are_reproducible(tmp_path: Path):
    write_files(tmp_path / "a", SPEC)
    write_files(tmp_path / "b", SPEC)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_bundles_are_valid_transactions_the_server_accepts(tmp_path: Path, client):
    counts = write_files(tmp_path, SPEC, fmt="bundles")
    paths = sorted(tmp_path.glob("*.json"))
    assert paths[0].name == "000000-shared.json" and len(paths) == SPEC.patients + 1
    total = 0
    for path in paths:
        bundle = orjson.loads(path.read_bytes())
        assert bundle["type"] == "transaction"
        validate_resource(bundle, resource_type="Bundle")
        total += len(bundle["entry"])
    assert total == sum(counts.values())
    for path in paths[:2]:  # the hospital, then one patient whose references point into it
        response = client.post("", orjson.loads(path.read_bytes()))
        assert response.status_code == 200, response.text[:500]
        assert all(e["response"]["status"].startswith("201") for e in response.json()["entry"])


def test_cli_out_prints_counts_per_type(tmp_path: Path):
    args = _parser().parse_args(["demo", "--patients", "4", "--years", "1", "--seed", "5", "--today", "2026-11-22",
                                 "--out", str(tmp_path)])
    stream = io.StringIO()
    assert args.func(args, Settings(database_url=f"sqlite:///{tmp_path}/unused.db"), stream) == 0
    text = stream.getvalue()
    assert "Patient" in text and "Observation" in text and "Tổng / total" in text
    assert (tmp_path / "Patient.ndjson").read_bytes().count(b"\n") == 4


def test_cli_loads_the_database(database_url):
    args = _parser().parse_args(["demo", "--patients", "3", "--years", "1", "--seed", "6", "--today", "2026-11-22",
                                 "--workers", "1"])
    stream = io.StringIO()
    assert args.func(args, Settings(database_url=database_url), stream) == 0
    assert "Patient" in stream.getvalue()


def test_cli_rejects_a_bad_facility_code():
    import pytest

    with pytest.raises(SystemExit):
        _parser().parse_args(["demo", "--facility", "ABCDE"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["demo", "--facility", "02001"])  # Hà Giang: merged into Tuyên Quang (08) in 2025
