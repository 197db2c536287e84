"""Helpers for the search tests: Vietnamese sample data and a compact way to run queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import Engine

from benhan.fhir.repository import Repository
from benhan.fhir.search import search
from tests.conftest import BACKENDS, fresh_database, template_fixtures

BASE = "http://benhan.test/fhir"
CCCD = "http://fhir.ehealth.gov.vn/core/sid/national_id"
BHYT = "http://fhir.ehealth.gov.vn/core/sid/insurance_number"
LOINC = "http://loinc.org"


def patient(pid: str, family: str, given: list[str], *, cccd: str | None = None, bhyt: str | None = None,
            gender: str | None = None, birth: str | None = None, active: bool | None = None,
            **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "id": pid, "name": [{"family": family, "given": given}]}
    ids = []
    if cccd:
        ids.append({"system": CCCD, "value": cccd})
    if bhyt:
        ids.append({"system": BHYT, "value": bhyt})
    if ids:
        res["identifier"] = ids
    if gender:
        res["gender"] = gender
    if birth:
        res["birthDate"] = birth
    if active is not None:
        res["active"] = active
    res.update(extra)
    return res


def observation(oid: str, subject: str, code: str, *, value: float | None = None, unit: str = "mm[Hg]",
                date: str | None = None, encounter: str | None = None, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Observation", "id": oid, "status": "final",
                           "code": {"coding": [{"system": LOINC, "code": code}]},
                           "subject": {"reference": subject}}
    if value is not None:
        res["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if date:
        res["effectiveDateTime"] = date
    if encounter:
        res["encounter"] = {"reference": encounter}
    res.update(extra)
    return res


def store(engine: Engine, *resources: dict[str, Any]) -> None:
    """Create (with the given ids) in one transaction."""
    with engine.begin() as conn:
        repo = Repository(conn, base_url=BASE)
        for res in resources:
            repo.update(res["resourceType"], res["id"], res)


def run(engine: Engine, rtype: str | None, query: str, **kwargs: Any) -> dict[str, Any]:
    params = parse_qsl(query, keep_blank_values=True)
    with engine.connect() as conn:
        return search(conn, rtype, params, base_url=BASE, **kwargs)


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def find(engine: Engine, rtype: str | None, query: str, **kwargs: Any) -> set[str]:
    """The ids matched by a query, all pages at once."""
    return set(ids(run(engine, rtype, query + "&_count=1000" if query else "_count=1000", **kwargs)))


VN_PATIENTS = [
    patient("anh", "Nguyễn", ["Văn", "Ánh"], cccd="001090000001", bhyt="DN4010123456789", gender="male",
            birth="1990-05-17", active=True),
    patient("dao", "Trần", ["Thị", "Đào"], cccd="079185000002", bhyt="HC4790000000002", gender="female",
            birth="1985-12-01", active=True),
    patient("duc", "Đặng", ["Minh", "Đức"], cccd="001200000003", gender="male", birth="2000", active=False),
    patient("hoa", "Đỗ", ["Thị", "Hoa"], bhyt="GD4010000000004", gender="female", birth="1975-03"),
]


@pytest.fixture
def vn(engine: Engine) -> Iterator[Engine]:
    """The four Vietnamese sample patients."""
    store(engine, *VN_PATIENTS)
    yield engine


def _load_terminology(url: str) -> None:
    from benhan.db.engine import make_engine
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                load_catalogs(conn, shipped(["icd10", "gender"]))
    finally:
        eng.dispose()


sqlite_icdsearch_template, pg_icdsearch_template = template_fixtures("icdsearch", _load_terminology)


@pytest.fixture(params=BACKENDS)
def term_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the ICD-10 (QĐ 4469) and administrative-gender catalogs loaded."""
    from benhan.db.engine import make_engine

    with fresh_database(request, tmp_path, sqlite_template="sqlite_icdsearch_template",
                        pg_template="pg_icdsearch_template", prefix="icds") as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()
