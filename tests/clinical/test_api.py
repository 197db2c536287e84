"""The registration router, mounted on a bare FastAPI app with a trusted repository scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi import FastAPI, Request
from sqlalchemy import Engine
from starlette.testclient import TestClient

from benhan.clinical.api import create_registration_router
from benhan.fhir.repository import Repository
from benhan.integrations.bhxh import BhxhCardClient, BhxhCredentials
from benhan.integrations.bhxh.fake_gateway import (
    FAKE_ID_TOKEN,
    FAKE_PASSWORD,
    FAKE_TOKEN,
    FAKE_USERNAME,
    FakeBhxhGateway,
)

from .conftest import FACILITY, transaction


@pytest.fixture
def http(engine: Engine) -> Iterator[tuple[TestClient, FakeBhxhGateway]]:
    gateway = FakeBhxhGateway()

    @contextmanager
    def scope(request: Request) -> Iterator[Repository]:
        with transaction(engine) as repo:
            yield repo

    def client() -> BhxhCardClient:
        creds = BhxhCredentials(FAKE_USERNAME, FAKE_PASSWORD, FAKE_TOKEN, FAKE_ID_TOKEN)
        return BhxhCardClient(creds, transport=gateway.transport())

    app = FastAPI()
    app.include_router(create_registration_router(scope, facility_code=FACILITY, card_client=client))
    with TestClient(app) as c:
        yield c, gateway


BODY = {"name": "Nguyễn Văn An", "gender": "male", "birthDate": "1985-03-12", "phone": "0912345678",
        "address": {"line": "12 Lê Lợi", "commune": {"code": "26743", "display": "Phường Bến Thành"},
                    "province": {"code": "79", "display": "Thành phố Hồ Chí Minh"}},
        "ethnicity": {"code": "01", "display": "Kinh"}, "nationality": "VN",
        "contacts": [{"name": "Trần Thị Bình", "relationship": "Vợ", "phone": "0901234567"}],
        "bhyt": {"number": "DN4791234567890", "validFrom": "2026-01-01", "validTo": "2026-12-31"}}


def test_register_review_merge_over_http(http) -> None:  # type: ignore[no-untyped-def]
    c, _ = http
    first = c.post("/api/registration", json=BODY)
    assert first.status_code == 201, first.text
    assert first.json()["outcome"] == "created" and first.json()["coverage"]["subscriberId"] == "DN4791234567890"
    again = c.post("/api/registration", json={**BODY, "name": "Nguyen Van An", "bhyt": None,
                                              "birthDate": "1985-12-03", "phone": None})
    assert again.status_code == 200 and again.json()["outcome"] == "review"
    reasons = {r["code"] for r in again.json()["candidates"][0]["reasons"]}
    assert reasons == {"name_same", "birth_swapped", "gender_same", "commune_same"}
    dup = c.get("/api/registration/duplicates", params={"name": "Nguyen Van An", "birthDate": "1985-03-12",
                                                        "gender": "male"})
    assert dup.json()["candidates"][0]["level"] == "likely"
    second = c.post("/api/registration?confirmedNew=true", json={**BODY, "name": "Nguyen Van An", "bhyt": None,
                                                                 "birthDate": "1985-12-03"})
    assert second.status_code == 201
    merged = c.post("/api/registration/merge", json={"source": second.json()["patient"]["id"],
                                                     "target": first.json()["patient"]["id"]})
    assert merged.status_code == 200 and merged.json()["event"]["action"] == "mpi.merge"
    found = c.get("/api/registration/patients", params={"birthdate": "1985-12-03"}).json()["patients"]
    assert [p["patient"]["id"] for p in found] == [first.json()["patient"]["id"]]
    undone = c.post("/api/registration/unmerge", json={"source": second.json()["patient"]["id"]})
    assert undone.status_code == 200


def test_errors_are_operation_outcomes(http) -> None:  # type: ignore[no-untyped-def]
    c, _ = http
    bad = c.post("/api/registration", json={**BODY, "bhyt": {"number": "DN4991234567890"}})
    assert bad.status_code == 422 and bad.json()["resourceType"] == "OperationOutcome"
    assert c.post("/api/registration/merge", json={"source": "x"}).status_code == 422
    assert c.put("/api/registration/nope", json=BODY).status_code == 404


def test_card_check_over_http(http) -> None:  # type: ignore[no-untyped-def]
    c, gateway = http
    body = {"card": "DN4797900000001", "name": "Nguyễn Văn An", "birthDate": "1985-03-12",
            "staffName": "Lê Thị Tiếp Đón", "staffCccd": "079090000001"}
    ok = c.post("/api/registration/card-check", json=body)
    assert ok.status_code == 200 and ok.json()["code"] == "000" and ok.json()["status"] == "ok"
    gateway.fail_next = "timeout"
    assert c.post("/api/registration/card-check", json=body).status_code == 504
