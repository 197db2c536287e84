"""Clinicians restricted to their patients can still use terminology (it holds no patient data)."""

from __future__ import annotations

from benhan.security import accounts, tokens
from benhan.settings import Settings
from tests.conftest import FhirClient


def _doctor_client(term_url: str):  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from benhan.app import create_app

    settings = Settings(database_url=term_url, base_url="http://testserver/fhir")
    app = create_app(settings)
    with app.state.engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            accounts.add_user(conn, settings, username="bs.lan", display_name="Trần Thị Lan", roles=["doctor"],
                              password="Ngan-Hang-Mau-2026!", departments=["khoa-noi"])
            token, _ = tokens.issue(conn, subject="bs.lan", kind="user", scope="user/*.cruds", ttl=600)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_doctor_can_expand_icd10_and_type_level_meta_is_filtered(term_url):
    with _doctor_client(term_url) as http:
        client = FhirClient(http)
        expanded = client.get("ValueSet/$expand?url=urn:benhan:fhir:ValueSet:icd-10-vn&filter=dai%20thao%20duong")
        assert expanded.status_code == 200, expanded.text
        codes = [c["code"] for c in expanded.json()["expansion"]["contains"]]
        assert any(code.startswith("E11") for code in codes)
        meta = client.get("Patient/$meta")  # filtered by the row rules like a search: none of their patients here
        assert meta.status_code == 200 and meta.json()["parameter"][0]["valueMeta"] == {}
