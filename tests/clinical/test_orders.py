"""Orders of a visit: ServiceRequest per service, cancel, pending until a DiagnosticReport is based on it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from benhan.clinical import orders as o
from tests.clinical.conftest import transaction
from tests.clinical.test_prescribing import NOW, make_visit


def test_order_writes_an_active_service_request(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        sid = o.order_service(repo, visit, "XN001", practitioner_id=visit["doctor"], now=NOW)
        sr = repo.read("ServiceRequest", sid).resource()
    assert sr["status"] == "active" and sr["intent"] == "order"
    assert sr["category"][0]["coding"][0]["code"] == "108252007"
    assert {"system": o.LOINC, "code": "58410-2", "display": "CBC panel - Blood by Automated count"} in \
        sr["code"]["coding"]
    assert sr["code"]["coding"][0] == {"system": o.SERVICES, "code": "XN001",
                                       "display": "Tổng phân tích tế bào máu ngoại vi (máy đếm tự động)"}
    assert sr["encounter"] == {"reference": f"Encounter/{visit['id']}"} and sr["subject"] == visit["subject"]
    assert sr["requester"] == {"reference": f"Practitioner/{visit['doctor']}"}


def test_pending_until_a_report_then_shows_its_conclusion_and_results(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        xray = o.order_service(repo, visit, "CD001", practitioner_id=None, now=NOW)
        lab = o.order_service(repo, visit, "XN002", practitioner_id=None, now=NOW)
        assert [x.status for x in o.visit_orders(repo, visit["id"])] == ["pending", "pending"]
        obs = repo.create({"resourceType": "Observation", "status": "final", "code": {"text": "Glucose"},
                           "subject": visit["subject"],
                           "valueQuantity": {"value": 7.2, "unit": "mmol/L"},
                           "interpretation": [{"coding": [{"code": "H"}]}]}).stored.id
        for sid, extra in ((xray, {"conclusion": "Hình ảnh tim phổi bình thường."}),
                           (lab, {"result": [{"reference": f"Observation/{obs}"}]})):
            repo.create({"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "x"},
                         "basedOn": [{"reference": f"ServiceRequest/{sid}"}], "subject": visit["subject"],
                         "encounter": {"reference": f"Encounter/{visit['id']}"}, **extra})
        got = {x.id: x for x in o.visit_orders(repo, visit["id"])}
    assert got[xray].status == "resulted" and got[xray].conclusion == "Hình ảnh tim phổi bình thường."
    assert got[lab].results == ["Glucose: 7.2 mmol/L (H)"] and not got[lab].cancellable


def test_cancel_revokes_a_pending_order_only(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        sid = o.order_service(repo, visit, "CD002", practitioner_id=None, now=NOW)
        o.cancel_order(repo, visit["id"], sid)
        assert repo.read("ServiceRequest", sid).resource()["status"] == "revoked"
        assert [x.status for x in o.visit_orders(repo, visit["id"])] == ["cancelled"]
        with pytest.raises(o.FieldError):
            o.cancel_order(repo, visit["id"], sid)
        o.order_service(repo, visit, "CD002", practitioner_id=None, now=NOW)  # may be ordered again


def test_unknown_or_duplicate_service_is_refused(engine: Engine) -> None:
    with transaction(engine) as repo:
        visit = make_visit(repo)
        with pytest.raises(o.FieldError) as err:
            o.order_service(repo, visit, "ZZ999", practitioner_id=None, now=NOW)
        assert err.value.field == "service"
        o.order_service(repo, visit, "XN003", practitioner_id=None, now=NOW)
        with pytest.raises(o.FieldError) as err:
            o.order_service(repo, visit, "XN003", practitioner_id=None, now=NOW)
        assert err.value.rule == "order.duplicate"


def test_type_ahead_without_the_index_matches_words_without_diacritics() -> None:
    assert [s.code for s in o.search_services(None, "sieu am")] == ["CD002", "CD006", "CD007"]
    assert [s.code for s in o.search_services(None, "xn01")][:1] == ["XN010"]
    assert o.search_services(None, "") == []


def test_type_ahead_uses_the_loaded_concept_index(engine: Engine) -> None:
    from benhan.clinical.prescribing import search_drugs
    from benhan.terminology.catalogs import shipped
    from benhan.terminology.loader import load_catalogs

    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            load_catalogs(conn, shipped(["services", "drugs"]))
        assert {s.code for s in o.search_services(conn, "XN00")} == {f"XN00{n}" for n in range(1, 10)}
        assert "CD006" in [s.code for s in o.search_services(conn, "sieu am tim")]
        assert {d.code for d in search_drugs(conn, "amoxicilin")} >= {"T011", "T012"}
