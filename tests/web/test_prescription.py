"""The prescription tab (/visit/{encounter}/prescription): drugs, shared code, checks, issue, print view."""

from __future__ import annotations

import re

from benhan.vn import prescription_code as rx
from tests.web.conftest import csrf_of
from tests.web.test_orders import doctor_visit, fhir, post, search


def drugs_of(web, encounter_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in search(web, f"MedicationRequest?encounter=Encounter/{encounter_id}&_count=100")
            if m["status"] in ("draft", "active")]


def add(browser, url: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"action": "add", "dose": "1", "times": "2", "days": "5", "route": "oral", **fields}
    return post(browser, url, data)


def test_drugs_share_the_prescription_code_with_the_facility_prefix(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    assert drugs_of(web, enc["id"]) == []
    assert add(browser, url, drug="T005", days="7", when="sau ăn").status_code == 303
    assert add(browser, url, drug="T001", dose="1/2", times="3", days="3", quantity="6").status_code == 303
    first, second = drugs_of(web, enc["id"])
    code = first["groupIdentifier"]["value"]
    assert rx.is_valid(code) and code.startswith(web.settings.facility_code) and code.endswith("-c")
    assert second["groupIdentifier"] == first["groupIdentifier"]
    assert first["dispenseRequest"]["quantity"] == {"value": 14, "unit": "viên"}
    assert first["dosageInstruction"][0]["text"] == "Uống 1 viên/lần x 2 lần/ngày, sau ăn"
    assert second["dispenseRequest"]["quantity"]["value"] == 6 and first["status"] == "draft"
    page = browser.get(url).text
    assert code in page and "Metformin 850mg" in page and "06 viên" in page


def test_a_narcotic_makes_the_code_n_and_removing_it_gives_c_back(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    add(browser, url, drug="T001")
    add(browser, url, drug="T030", days="5")
    codes = {m["groupIdentifier"]["value"] for m in drugs_of(web, enc["id"])}
    assert len(codes) == 1 and codes.pop().endswith("-n")
    view = browser.get(f"{url}/view").text  # controlled drugs are written first
    assert view.index("Morphin sulfat 10mg") < view.index("Paracetamol 500mg")
    morphine = next(m for m in drugs_of(web, enc["id"])
                    if m["medicationCodeableConcept"]["coding"][0]["code"] == "T030")
    assert post(browser, url, {"action": "remove", "item": morphine["id"]}).status_code == 303
    left = drugs_of(web, enc["id"])
    assert len(left) == 1 and left[0]["groupIdentifier"]["value"].endswith("-c")


def test_allergy_is_shown_before_confirming_and_nothing_is_written_until_then(web):
    browser, enc = doctor_visit(web)
    status, _ = fhir(web, "POST", "AllergyIntolerance", {
        "resourceType": "AllergyIntolerance", "patient": enc["subject"], "code": {"text": "Penicillin"},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                       "code": "active"}]}})
    assert status == 201
    url = f"/visit/{enc['id']}/prescription"
    resp = add(browser, url, drug="T011", drug_q="Amoxicilin 500mg")
    assert resp.status_code == 200 and "Dị ứng" in resp.text and "Penicillin" in resp.text
    assert "Vẫn thêm" in resp.text and 'value="Amoxicilin 500mg"' in resp.text
    assert drugs_of(web, enc["id"]) == []
    confirm = re.search(r'name="confirm" value="([^"]+)"', resp.text).group(1)
    assert confirm == "T011|5"
    token = csrf_of(resp.text)
    wrong = browser.post(url, data={"csrf_token": token, "action": "add", "drug": "T012", "dose": "1", "times": "2",
                                    "days": "5", "confirm": confirm})  # a confirmation is for the drug it showed
    assert wrong.status_code == 200 and drugs_of(web, enc["id"]) == []
    ok = browser.post(url, data={"csrf_token": token, "action": "add", "drug": "T011", "dose": "1", "times": "2",
                                 "days": "5", "confirm": confirm})
    assert ok.status_code == 303 and len(drugs_of(web, enc["id"])) == 1
    (mr,) = drugs_of(web, enc["id"])
    (issue,) = search(web, f"DetectedIssue?implicated=MedicationRequest/{mr['id']}")
    assert issue["code"]["coding"][0]["code"] == "allergy"


def test_duplicate_ingredient_is_warned(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    add(browser, url, drug="T001")
    resp = add(browser, url, drug="T002")
    assert resp.status_code == 200 and "Trùng hoạt chất paracetamol" in resp.text
    assert len(drugs_of(web, enc["id"])) == 1


def test_duration_over_the_limit_is_a_field_error(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    resp = add(browser, url, drug="T030", drug_q="Morphin", days="10")
    assert resp.status_code == 422
    assert 'aria-describedby="e-days"' in resp.text and "tối đa 7 ngày" in resp.text
    assert 'value="10"' in resp.text and drugs_of(web, enc["id"]) == []


def test_wrong_dose_is_a_field_error_and_nothing_is_written(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    resp = add(browser, url, drug="T001", dose="hai")
    assert resp.status_code == 422 and 'aria-describedby="e-dose"' in resp.text and 'value="hai"' in resp.text
    assert "Liều mỗi lần" in resp.text and drugs_of(web, enc["id"]) == []


def test_issue_with_advice_then_read_only_and_print_view(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    add(browser, url, drug="T003", days="5", times="1")
    assert post(browser, url, {"action": "issue", "advice": "Tái khám sau 5 ngày"}).status_code == 303
    (mr,) = drugs_of(web, enc["id"])
    assert mr["status"] == "active" and mr["note"] == [{"text": "Tái khám sau 5 ngày"}]
    page = browser.get(url).text
    assert "Đã phát hành" in page and 'name="drug"' not in page
    resp = add(browser, url, drug="T001")
    assert resp.status_code == 422 and "đã phát hành" in resp.text and len(drugs_of(web, enc["id"])) == 1
    view = browser.get(f"{url}/view")
    assert view.status_code == 200 and mr["groupIdentifier"]["value"] in view.text
    assert "Amlodipin 5mg" in view.text and "Tái khám sau 5 ngày" in view.text and "05 viên" in view.text
    assert "Bác sĩ kê đơn" in view.text


def test_drug_type_ahead_fills_code_and_route(web):
    browser, enc = doctor_visit(web)
    resp = browser.get(f"/visit/{enc['id']}/prescription/suggest?drug_q=amoxi")
    assert resp.status_code == 200 and 'data-fill-drug="T011"' in resp.text and 'data-fill-route="oral"' in resp.text
    assert 'data-fill-drug="T012"' in resp.text and "T001" not in resp.text


def test_reception_and_nurse_cannot_prescribe_and_csrf_is_required(web):
    _, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    reception = web.browser("tiepdon")
    assert reception.get(url).status_code == 403
    token = csrf_of(reception.get("/reception").text)
    assert reception.post(url, data={"csrf_token": token, "drug": "T001", "dose": "1", "times": "1",
                                     "days": "1"}).status_code == 403
    doctor = web.browser("bacsi")
    assert doctor.post(url, data={"drug": "T001", "dose": "1", "times": "1", "days": "1"}).status_code == 403
    assert drugs_of(web, enc["id"]) == []


def test_a_nurse_reads_but_cannot_prescribe(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    add(browser, url, drug="T003")
    nurse = web.browser("dieuduong")
    page = nurse.get(url)
    assert page.status_code == 200 and "Amlodipin 5mg" in page.text and "Chỉ bác sĩ được kê đơn" in page.text
    resp = nurse.post(url, data={"csrf_token": csrf_of(page.text), "action": "add", "drug": "T001", "dose": "1",
                                 "times": "1", "days": "1"})
    assert resp.status_code == 403 and len(drugs_of(web, enc["id"])) == 1


def test_a_finished_visit_shows_the_prescription_read_only(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription"
    add(browser, url, drug="T003")
    (mr,) = drugs_of(web, enc["id"])
    token = csrf_of(browser.get(url).text)
    status, _ = fhir(web, "PUT", f"Encounter/{enc['id']}", {**enc, "status": "finished"})
    assert status == 200
    page = browser.get(url).text
    assert "Amlodipin 5mg" in page and "chỉ xem, không sửa" in page and 'value="remove"' not in page
    resp = browser.post(url, data={"csrf_token": token, "action": "remove", "item": mr["id"]})
    assert resp.status_code == 409 and drugs_of(web, enc["id"])[0]["status"] == "draft"


def test_preview_shows_the_dosage_text_and_computed_quantity(web):
    browser, enc = doctor_visit(web)
    url = f"/visit/{enc['id']}/prescription/preview"
    resp = browser.get(url, params={"drug": "T005", "dose": "1", "times": "2", "days": "7", "route": "oral",
                                    "when": "sau ăn"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "Uống 1 viên/lần x 2 lần/ngày, sau ăn" in resp.text and "14 viên" in resp.text
    bad = browser.get(url, params={"drug": "T005", "dose": "0", "times": "2", "days": "7"})
    assert "Liều mỗi lần" in bad.text and drugs_of(web, enc["id"]) == []


def test_english_page_and_english_field_error(web):
    _, enc = doctor_visit(web)
    browser = web.browser("bacsi", lang="en")
    url = f"/visit/{enc['id']}/prescription"
    assert "Add drug" in browser.get(url).text
    resp = add(browser, url, drug="T001", days="0")
    assert resp.status_code == 422 and "Days must be 1 to 365" in resp.text
