"""The orders tab (/visit/{encounter}/orders): type-ahead, add, cancel, pending until a report, access, CSRF."""

from __future__ import annotations

import orjson
from starlette.testclient import TestClient

from tests.conftest import system_token
from tests.web.conftest import csrf_of


def fhir(web, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    """The FHIR API as a trusted system client (to set up and check the store)."""
    http = TestClient(web.app, headers={"Authorization": f"Bearer {system_token(web.engine, 'system/*.cruds')}"})
    resp = http.request(method, f"/fhir/{path}", content=orjson.dumps(body) if body is not None else None,
                        headers={"Content-Type": "application/fhir+json"})
    return resp.status_code, resp.json()


def search(web, query: str) -> list[dict]:  # type: ignore[no-untyped-def]
    status, bundle = fhir(web, "GET", query)
    assert status == 200, bundle
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def doctor_visit(web) -> tuple[TestClient, dict]:  # type: ignore[no-untyped-def]
    """The demo doctor's browser and an open outpatient visit of the doctor's department."""
    browser = web.browser("bacsi")
    for status in ("in-progress", "arrived"):
        for enc in search(web, f"Encounter?status={status}&class=AMB&_count=50"):
            if browser.get(f"/visit/{enc['id']}/orders").status_code == 200:
                return browser, enc
    raise AssertionError("no open demo visit the doctor may see")


def post(browser: TestClient, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get(url).text)
    return browser.post(url, data={"csrf_token": token, **data})


def orders_of(web, encounter_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return search(web, f"ServiceRequest?encounter=Encounter/{encounter_id}&_count=100")


def test_type_ahead_lists_catalog_services_without_diacritics(web):
    browser, enc = doctor_visit(web)
    resp = browser.get(f"/visit/{enc['id']}/orders/suggest?service_q=sieu am", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    assert 'data-fill-service="CD002"' in resp.text and "Siêu âm ổ bụng tổng quát" in resp.text
    assert 'role="option"' in resp.text and "XN001" not in resp.text
    assert "Không có mục nào" in browser.get(f"/visit/{enc['id']}/orders/suggest?q=zzzzqq").text


def test_add_then_cancel_an_order(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/orders"
    before = {o["id"] for o in orders_of(web, enc["id"])}
    resp = post(browser, url, {"action": "add", "service": "XN002", "service_q": "Định lượng Glucose máu"})
    assert resp.status_code == 303 and resp.headers["location"] == url
    new = [o for o in orders_of(web, enc["id"]) if o["id"] not in before]
    assert len(new) == 1
    sr = new[0]
    assert sr["status"] == "active" and sr["intent"] == "order"
    assert sr["code"]["coding"][1]["code"] == "14749-6" and sr["requester"]["reference"].startswith("Practitioner/")
    page = browser.get(url).text
    assert "Định lượng Glucose máu" in page and "Chờ kết quả" in page
    assert post(browser, url, {"action": "cancel", "order": sr["id"]}).status_code == 303
    _status, stored = fhir(web, "GET", f"ServiceRequest/{sr['id']}")
    assert stored["status"] == "revoked" and "Đã huỷ" in browser.get(url).text


def test_a_report_replaces_pending_by_its_conclusion(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/orders"
    post(browser, url, {"action": "add", "service": "CD001"})
    sr = next(o for o in orders_of(web, enc["id"]) if o["code"]["coding"][0]["code"] == "CD001"
              and o["status"] == "active")
    status, _ = fhir(web, "POST", "DiagnosticReport", {
        "resourceType": "DiagnosticReport", "status": "final", "code": sr["code"], "subject": sr["subject"],
        "encounter": sr["encounter"], "basedOn": [{"reference": f"ServiceRequest/{sr['id']}"}],
        "conclusion": "Đám mờ thùy dưới phổi phải."})
    assert status == 201
    page = browser.get(url).text
    assert "Đám mờ thùy dưới phổi phải." in page and "Đã có kết quả" in page


def test_unknown_service_is_a_field_error_and_nothing_is_written(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/orders"
    before = len(orders_of(web, enc["id"]))
    resp = post(browser, url, {"action": "add", "service": "", "service_q": "xet nghiem la"})
    assert resp.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-service"' in resp.text
    assert "Chọn một dịch vụ trong danh mục" in resp.text and 'value="xet nghiem la"' in resp.text
    assert len(orders_of(web, enc["id"])) == before


def test_reception_is_refused_and_csrf_is_required(web):
    _, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/orders"
    reception = web.browser("tiepdon")
    assert reception.get(url).status_code == 403
    token = csrf_of(reception.get("/reception").text)
    assert reception.post(url, data={"csrf_token": token, "service": "XN001"}).status_code == 403
    doctor = web.browser("bacsi")
    before = len(orders_of(web, enc["id"]))
    assert doctor.post(url, data={"service": "XN001"}).status_code == 403  # no CSRF token
    assert len(orders_of(web, enc["id"])) == before


def test_a_closed_visit_is_read_only(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/orders"
    token = csrf_of(browser.get(url).text)
    status, _ = fhir(web, "PUT", f"Encounter/{enc['id']}", {**enc, "status": "finished"})
    assert status == 200
    page = browser.get(url)
    assert page.status_code == 200 and "chỉ xem, không sửa" in page.text and 'name="service"' not in page.text
    resp = browser.post(url, data={"csrf_token": token, "service": "XN001"})
    assert resp.status_code == 409 and len([o for o in orders_of(web, enc["id"])
                                            if o["code"]["coding"][0]["code"] == "XN001"
                                            and o["status"] == "active"]) == 0
