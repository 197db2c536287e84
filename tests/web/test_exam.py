"""The exam tab (/visit/{encounter}): vitals, record text, diagnoses, allergies; access and read-only visits."""

from __future__ import annotations

import re

import orjson
from starlette.testclient import TestClient

from tests.conftest import system_token
from tests.web.conftest import csrf_of


def fhir(web, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """The FHIR API as a trusted system client (to set up and check the store)."""
    http = TestClient(web.app, headers={"Authorization": f"Bearer {system_token(web.engine, 'system/*.cruds')}"})
    resp = http.request(method, f"/fhir/{path}", content=orjson.dumps(body) if body is not None else None,
                        headers={"Content-Type": "application/fhir+json"})
    return resp.status_code, resp.json()


def search(web, query: str) -> list[dict]:
    status, bundle = fhir(web, "GET", query)
    assert status == 200, bundle
    return [e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def queue_visit(web, browser, status: str = "in-progress") -> dict:
    """A visit of today's queue (outpatient, K01 exam rooms) that the signed-in doctor may open."""
    for enc in search(web, f"Encounter?status={status}&class=AMB&_count=40"):
        if browser.get(f"/visit/{enc['id']}").status_code == 200:
            return enc
    raise AssertionError("no demo queue visit the doctor may open")


def count(web, rtype: str, query: str) -> int:
    return len(search(web, f"{rtype}?{query}&_count=500"))


def post(browser, path: str, data: dict, *, htmx: bool = False):
    page = browser.get(path.rsplit("/", 1)[0] if not path.endswith("/visit") else path)
    headers = {"HX-Request": "true"} if htmx else {}
    return browser.post(path, data={"csrf_token": csrf_of(page.text), **data}, headers=headers)


def field_error(html: str, name: str) -> str | None:
    """The error shown under field ``name`` (None when the field is not marked invalid)."""
    if not re.search(rf'name="{name}" id="f-{name}"[^>]*aria-invalid="true"', html, re.S):
        return None
    m = re.search(rf'id="e-{name}" role="alert">([^<]*)<', html)
    return m.group(1) if m else ""


def test_the_doctor_sees_the_exam_tab_of_a_queue_visit(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    html = b.get(f"/visit/{enc['id']}").text
    for card in ("vitals", "note", "diagnoses", "allergies"):
        assert f'id="card-{card}"' in html and f'action="/visit/{enc["id"]}/{card}"' in html
    assert "Dấu hiệu sinh tồn" in html and "Bệnh chính" in html and 'aria-current="page">Khám bệnh' in html
    assert enc["reasonCode"][0]["text"] in html  # the reason typed at reception starts the record
    assert 'aria-controls="s-main_code"' in html and "data-suggest" in html


def test_vitals_saved_with_htmx_come_back_as_the_card(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    before = count(web, "Observation", f"encounter=Encounter/{enc['id']}")
    resp = post(b, f"/visit/{enc['id']}/vitals", {"pulse": "92", "systolic": "128", "diastolic": "82",
                                                  "temperature": "37,8", "height": "158", "weight": "52"}, htmx=True)
    assert resp.status_code == 200
    assert resp.text.lstrip().startswith('<section class="card" id="card-vitals"') and "Đã lưu" in resp.text
    assert "128/82" in resp.text and "37.8" in resp.text and "20.8" in resp.text  # BMI 52 / 1.58²
    # pulse, BP panel, temperature, height, weight and BMI
    assert count(web, "Observation", f"encounter=Encounter/{enc['id']}") == before + 6
    bmi = search(web, f"Observation?encounter=Encounter/{enc['id']}&code=http://loinc.org|39156-5")
    assert [o["valueQuantity"]["value"] for o in bmi] == [20.8]


def test_implausible_vitals_are_refused_with_the_field_in_error_and_nothing_written(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    before = count(web, "Observation", f"encounter=Encounter/{enc['id']}")
    resp = post(b, f"/visit/{enc['id']}/vitals", {"pulse": "90", "temperature": "375", "spo2": "9x"})
    assert resp.status_code == 422
    assert field_error(resp.text, "temperature") == "Nhiệt độ phải từ 30 đến 43 °C"
    assert field_error(resp.text, "spo2") == "Không phải là số"
    assert field_error(resp.text, "pulse") is None
    assert 'value="375"' in resp.text and 'value="9x"' in resp.text and 'value="90"' in resp.text  # kept as typed
    assert count(web, "Observation", f"encounter=Encounter/{enc['id']}") == before


def test_the_record_text_is_saved_with_a_plain_form_post(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    resp = post(b, f"/visit/{enc['id']}/note", {"reason": "Ho, sốt", "history": "Ho 5 ngày, sốt về chiều",
                                                "exam_organs": "Phổi: ran ẩm đáy phổi phải", "plan": "Chụp X-quang"})
    assert resp.status_code == 303 and resp.headers["location"] == f"/visit/{enc['id']}#card-note"
    html = b.get(f"/visit/{enc['id']}").text
    assert "Ho 5 ngày, sốt về chiều</textarea>" in html
    notes = search(web, f"Composition?encounter=Encounter/{enc['id']}")
    assert len(notes) == 1 and notes[0]["status"] == "preliminary"
    assert notes[0]["author"][0]["reference"].startswith("Practitioner/")


def _other_sex_code(web, enc: dict) -> str:
    status, patient = fhir(web, "GET", enc["subject"]["reference"])
    assert status == 200
    return "C61" if patient["gender"] == "female" else "C51.0"  # prostate / vulva


def test_a_code_that_may_not_be_the_main_diagnosis_is_a_field_error(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    resp = post(b, f"/visit/{enc['id']}/diagnoses", {"main_code": "B95.0", "secondary_code_1": "I10"})
    assert resp.status_code == 422
    assert field_error(resp.text, "main_code") == "Mã B95.0 không được dùng làm bệnh chính"
    assert field_error(resp.text, "secondary_code_1") is None and 'value="I10"' in resp.text
    assert count(web, "Condition", f"encounter=Encounter/{enc['id']}") == 0
    status, stored = fhir(web, "GET", f"Encounter/{enc['id']}")
    assert status == 200 and "diagnosis" not in stored


def test_a_code_for_the_other_sex_is_a_field_error_shown_with_htmx_too(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    code = _other_sex_code(web, enc)
    resp = post(b, f"/visit/{enc['id']}/diagnoses", {"main_code": "J18.9", "secondary_code_1": code}, htmx=True)
    assert resp.status_code == 200 and resp.headers["X-Form-Invalid"] == "1"  # htmx swaps only 2xx answers
    assert resp.text.lstrip().startswith('<section class="card" id="card-diagnoses"')
    assert f"Mã {code} chỉ dùng cho người bệnh" in (field_error(resp.text, "secondary_code_1") or "")
    assert count(web, "Condition", f"encounter=Encounter/{enc['id']}") == 0


def test_diagnoses_are_saved_ranked_and_shown_again(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    resp = post(b, f"/visit/{enc['id']}/diagnoses", {"main_code": "j18.9", "secondary_code_1": "I10"}, htmx=True)
    assert resp.status_code == 200 and "X-Form-Invalid" not in resp.headers
    assert 'value="J18.9"' in resp.text and "Viêm phổi, không đặc hiệu" in resp.text
    status, stored = fhir(web, "GET", f"Encounter/{enc['id']}")
    assert status == 200
    assert [d["rank"] for d in stored["diagnosis"]] == [1, 2]


def test_icd10_type_ahead_fills_the_field(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    resp = b.get(f"/visit/{enc['id']}/icd10", headers={"HX-Request": "true"},
                 params={"field": "secondary_code_2", "secondary_code_2": "viem phoi khong dac hieu"})
    assert resp.status_code == 200
    assert 'role="option"' in resp.text and 'data-fill-secondary_code_2="J18.9"' in resp.text
    assert 'data-fill-secondary_code_2_display="Viêm phổi, không đặc hiệu"' in resp.text
    main = b.get(f"/visit/{enc['id']}/icd10", params={"field": "main_code", "q": "B95.0"}).text
    assert 'data-fill-main_code="B95.0"' in main and "không dùng làm bệnh chính" in main


def test_allergies_are_listed_after_being_added(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    refused = post(b, f"/visit/{enc['id']}/allergies", {"substance": " ", "criticality": "high"})
    assert refused.status_code == 422 and field_error(refused.text, "substance") == "Cần nhập chất gây dị ứng"
    resp = post(b, f"/visit/{enc['id']}/allergies", {"substance": "Amoxicillin", "category": "medication",
                                                     "criticality": "high", "reaction": "Mề đay"}, htmx=True)
    assert resp.status_code == 200 and "Amoxicillin" in resp.text and "Mề đay" in resp.text
    assert "Amoxicillin" in b.get(f"/visit/{enc['id']}").text
    found = search(web, f"AllergyIntolerance?patient={enc['subject']['reference']}")
    assert [a["criticality"] for a in found if a["code"].get("text") == "Amoxicillin"] == ["high"]


def test_reception_may_not_open_the_exam_tab_nor_post_to_it(web):
    doctor = web.browser("bacsi")
    enc = queue_visit(web, doctor)
    clerk = web.browser("tiepdon")
    assert clerk.get(f"/visit/{enc['id']}").status_code == 403
    assert clerk.get(f"/visit/{enc['id']}/icd10?q=J18").status_code == 403
    token = csrf_of(clerk.get("/reception").text)
    before = count(web, "Observation", f"encounter=Encounter/{enc['id']}")
    for card, data in (("vitals", {"pulse": "80"}), ("note", {"history": "x"}), ("diagnoses", {"main_code": "J18.9"}),
                       ("allergies", {"substance": "Tôm"})):
        resp = clerk.post(f"/visit/{enc['id']}/{card}", data={"csrf_token": token, **data})
        assert resp.status_code == 403, card
    assert count(web, "Observation", f"encounter=Encounter/{enc['id']}") == before
    assert count(web, "Composition", f"encounter=Encounter/{enc['id']}") == 0


def test_a_post_without_the_csrf_token_is_refused(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    before = count(web, "Observation", f"encounter=Encounter/{enc['id']}")
    resp = b.post(f"/visit/{enc['id']}/vitals", data={"pulse": "80"})
    assert resp.status_code == 403
    forged = b.post(f"/visit/{enc['id']}/vitals", data={"pulse": "80", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert count(web, "Observation", f"encounter=Encounter/{enc['id']}") == before


def test_a_finished_visit_is_read_only(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    enc["status"] = "finished"  # concluded by the doctor
    enc["period"]["end"] = enc["period"]["start"]
    status, _ = fhir(web, "PUT", f"Encounter/{enc['id']}", enc)
    assert status == 200
    html = b.get(f"/visit/{enc['id']}").text
    assert "bệnh án chỉ được xem" in html
    assert f'action="/visit/{enc["id"]}/' not in html and "<textarea" not in html
    assert 'id="card-diagnoses"' in html
    token = csrf_of(html)
    before = count(web, "Observation", f"encounter=Encounter/{enc['id']}")
    resp = b.post(f"/visit/{enc['id']}/vitals", data={"csrf_token": token, "pulse": "80"})
    assert resp.status_code == 409
    assert count(web, "Observation", f"encounter=Encounter/{enc['id']}") == before


def test_a_nurse_takes_vitals_but_does_not_write_diagnoses_or_the_record(web):
    nurse = web.browser("dieuduong")
    enc = queue_visit(web, nurse)
    html = nurse.get(f"/visit/{enc['id']}").text
    assert f'action="/visit/{enc["id"]}/vitals"' in html and f'action="/visit/{enc["id"]}/allergies"' in html
    assert f'action="/visit/{enc["id"]}/diagnoses"' not in html and f'action="/visit/{enc["id"]}/note"' not in html
    assert post(nurse, f"/visit/{enc['id']}/vitals", {"pulse": "76"}).status_code == 303
    assert post(nurse, f"/visit/{enc['id']}/diagnoses", {"main_code": "J18.9"}).status_code == 403
    assert post(nurse, f"/visit/{enc['id']}/note", {"history": "Ho"}).status_code == 403
    assert count(web, "Condition", f"encounter=Encounter/{enc['id']}") == 0


def test_field_errors_follow_the_language_of_the_user(web):
    b = web.browser("bacsi", lang="en")
    enc = queue_visit(web, b)
    resp = post(b, f"/visit/{enc['id']}/vitals", {"systolic": "90", "diastolic": "120"})
    assert resp.status_code == 422 and "Not saved: check the fields marked in red" in resp.text
    assert field_error(resp.text, "diastolic") == "Diastolic pressure must be lower than systolic"


def test_which_cards_a_user_may_edit_comes_from_the_policy_not_from_role_names(web, monkeypatch):
    from importlib import resources

    from benhan.security import access, policy

    shipped = resources.files("benhan.security").joinpath("policy.toml").read_text("utf-8")
    nurse_line = 'grants = { clinical = "rs", nursing = "crus", administrative = "rus", directory = "rs" }'
    doctor_line = ('grants = { clinical = "cruds", administrative = "rus", billing = "rs", directory = "rs", '
                   'Appointment = "crus" }')
    assert nurse_line in shipped and doctor_line in shipped
    changed = shipped.replace(nurse_line, nurse_line.replace(
        "directory", 'Condition = "crus", Composition = "crus", directory'))
    changed = changed.replace(doctor_line, doctor_line.replace("Appointment", 'Observation = "rs", Appointment'))
    monkeypatch.setattr(access, "load_policy", lambda: policy.parse_policy(changed))
    nurse, doctor = web.browser("dieuduong"), web.browser("bacsi")
    enc = queue_visit(web, doctor)
    url = f"/visit/{enc['id']}"
    html = nurse.get(url).text
    assert f'action="{url}/diagnoses"' in html and f'action="{url}/note"' in html
    assert post(nurse, f"{url}/diagnoses", {"main_code": "J18.9"}).status_code == 303
    html = doctor.get(url).text
    assert f'action="{url}/vitals"' not in html and f'action="{url}/note"' in html
    assert post(doctor, f"{url}/vitals", {"pulse": "76"}).status_code == 403
