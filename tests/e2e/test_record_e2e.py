"""The signed record in a real browser (Chromium): signing, printing, addenda, prescription checks.

* a wrong signing password: the password field is marked with a Vietnamese error, nothing is signed;
* the printed PDFs are what the browser receives when the doctor clicks the print links
  (``application/pdf``, pages, the patient's name and diagnosis with their diacritics);
* after signing the record is read-only; an addendum is signed and shown, the signed text unchanged;
* prescription checks: an allergy and a duplicate ingredient are shown before adding; confirming the
  override keeps a ``DetectedIssue``.

Screenshots of every step go to ``test-artifacts/e2e/<test>/``.
"""

from __future__ import annotations

import io
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from benhan.clinical import exam_note
from benhan.demo.accounts import DEMO_PASSWORD
from tests.clinical.test_signing import current, make_visit
from tests.e2e.test_visit_e2e import count, found, pick, signed

DIAGNOSIS = "Viêm đường hô hấp trên cấp"  # the text of make_visit's main diagnosis (J06.9)
SIGNING_MS = 45_000  # signing unwraps the key (scrypt, slow on purpose): more time on a busy machine
ADDENDUM = "Bổ sung: kết quả công thức máu bình thường, tiếp tục điều trị."


def conclude(page: Any, encounter_id: str, password: str) -> None:
    page.goto(f"/visit/{encounter_id}/conclusion")
    page.locator('input[name="outcome"][value="home"]').check()
    page.locator("#f-password").fill(password)
    page.locator('form:has(input[name="action"][value="conclude"]) button[type=submit]').click(timeout=SIGNING_MS)


def received_pdf(page: Any, link: Any) -> tuple[str, bytes, Any]:
    """Click a print link (it opens a new tab): the type and bytes the browser received, and the tab.

    Chromium shows a PDF in its viewer, whose page replaces the response body; the route handler
    passes the server's answer through unchanged and keeps a copy of it.
    """
    received: list[tuple[str, bytes]] = []

    def keep(route: Any) -> None:
        answer = route.fetch()
        received.append((answer.headers.get("content-type", ""), answer.body()))
        route.fulfill(response=answer)

    href = link.get_attribute("href")
    page.context.route(f"**{href}", keep)
    try:
        with page.context.expect_page() as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state()
    finally:
        page.context.unroute(f"**{href}", keep)
    assert tab.url.endswith(href) and len(received) == 1, (tab.url, len(received))
    return received[0][0], received[0][1], tab


def pdf_pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF"), data[:40]
    return [p.extract_text() for p in PdfReader(io.BytesIO(data)).pages]


def test_a_wrong_signing_password_is_a_vietnamese_field_error_and_nothing_is_signed(sign_in, shot, live_server):
    engine = live_server.engine
    visit = make_visit(engine)
    provenances = count(engine, "Provenance")
    doctor = sign_in("bacsi")
    conclude(doctor, visit.encounter_id, "Sai-Mat-Khau-2026")
    field = doctor.locator("#f-password")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(doctor.locator("#e-password")).to_have_text("Mật khẩu không đúng")
    expect(field).to_have_value("")  # a password is never sent back
    expect(doctor.locator('input[name="outcome"][value="home"]')).to_be_checked()  # the rest is kept
    expect(doctor.locator("#h-signatures")).to_have_count(0)
    shot("wrong-password", doctor)
    encounter = current(engine, "Encounter", visit.encounter_id)
    assert encounter["status"] == "in-progress" and not signed(encounter)
    assert count(engine, "Provenance") == provenances
    assert not signed(current(engine, "Composition", visit.ids["Composition"]))


def test_signed_record_prints_pdfs_and_takes_an_addendum(sign_in, shot, live_server):
    engine = live_server.engine
    visit = make_visit(engine)
    patient = current(engine, "Patient", current(engine, "Encounter", visit.encounter_id)["subject"]["reference"]
                      .split("/", 1)[1])
    name = patient["name"][0]["text"]
    original = current(engine, "Composition", visit.ids["Composition"])
    doctor = sign_in("bacsi")
    conclude(doctor, visit.encounter_id, DEMO_PASSWORD)
    expect(doctor.locator("#h-signatures")).to_be_visible()
    expect(doctor.locator("table tbody tr .badge.signed")).to_have_count(1)
    shot("signed", doctor)
    at_signing = current(engine, "Composition", visit.ids["Composition"])
    assert signed(at_signing) and exam_note.texts(at_signing) == exam_note.texts(original)
    provenances = count(engine, "Provenance")

    # --- the printed forms, as the browser receives them from the print links
    for form, diagnosis in (("record", "J06.9"), ("prescription", "J06.9")):
        link = doctor.locator(f'a[href="/visit/{visit.encounter_id}/print/{form}.pdf"]')
        content_type, data, tab = received_pdf(doctor, link)
        assert content_type == "application/pdf", content_type
        shot(f"{form}-pdf-tab", tab)
        tab.close()
        pages = pdf_pages(data)
        assert len(pages) > 0
        text = " ".join(" ".join(pages).split())  # lines may wrap anywhere
        assert name in text or name.upper() in text, text[:400]
        assert diagnosis in text and DIAGNOSIS in text, text  # the diagnosis as written, diacritics intact

    # --- read-only: no form changes the record any more
    doctor.goto(f"/visit/{visit.encounter_id}")
    expect(doctor.locator(".patient-banner .badge.signed")).to_be_visible()
    expect(doctor.locator('#card-note form, #card-vitals form, #card-diagnoses form')).to_have_count(0)
    shot("record-read-only", doctor)

    # --- an addendum, signed with the password and shown with the signatures
    doctor.goto(f"/visit/{visit.encounter_id}/conclusion")
    form = doctor.locator('form:has(input[name="action"][value="addendum"])')
    form.locator('textarea[name="addendum"]').fill(ADDENDUM)
    form.locator('input[name="password"]').fill(DEMO_PASSWORD)
    shot("addendum-typed", doctor)
    form.locator("button[type=submit]").click(timeout=SIGNING_MS)
    expect(doctor.locator("#h-signatures ~ table tbody tr")).to_have_count(2)
    expect(doctor.locator("table tbody")).to_contain_text(ADDENDUM)
    expect(doctor.locator("table tbody tr .badge.signed")).to_have_count(2)
    shot("addendum-signed", doctor)

    # --- the database: a new signed Composition appends the original, which is unchanged
    assert current(engine, "Composition", visit.ids["Composition"]) == at_signing  # not a new version
    compositions = found(engine, "Composition", f"encounter=Encounter/{visit.encounter_id}")
    (addendum,) = [c for c in compositions if c["id"] != visit.ids["Composition"]]
    assert addendum["relatesTo"][0] == {"code": "appends",
                                        "targetReference": {"reference": f"Composition/{visit.ids['Composition']}"}}
    assert signed(addendum) and "kết quả công thức máu bình thường" in addendum["section"][0]["text"]["div"]
    assert count(engine, "Provenance") == provenances + 1  # the addendum's signature


def test_prescription_warnings_and_a_confirmed_override(sign_in, shot, live_server):
    engine = live_server.engine
    visit = make_visit(engine, drugs=0)  # its patient is allergic to penicillin
    issues = count(engine, "DetectedIssue")
    doctor = sign_in("bacsi")
    url = f"/visit/{visit.encounter_id}/prescription"
    doctor.goto(url)
    shot("empty-prescription", doctor)

    # a first drug: paracetamol
    pick(doctor, "#f-drug-q", "paracetamol 500", "#s-drug")
    doctor.locator("form.rx-form button[type=submit]").click()
    expect(doctor.locator("table.rx-items tbody tr")).to_have_count(1)
    shot("paracetamol-added", doctor)

    # a second product with the same ingredient: warned, not added
    pick(doctor, "#f-drug-q", "paracetamol 250", "#s-drug")
    doctor.locator("form.rx-form button[type=submit]").click()
    warnings = doctor.locator(".rx-warnings")
    expect(warnings).to_contain_text("Trùng hoạt chất paracetamol")
    expect(doctor.locator("table.rx-items tbody tr")).to_have_count(1)
    shot("duplicate-warned", doctor)
    doctor.locator("form.rx-form .actions a.secondary").click()  # "Cancel": change the drug

    # amoxicillin for a patient allergic to penicillin: warned; confirmed with "Add anyway"
    doctor.wait_for_url(f"**{url}")
    pick(doctor, "#f-drug-q", "amoxicilin 500", "#s-drug")
    doctor.locator("form.rx-form button[type=submit]").click()
    expect(warnings).to_contain_text("Dị ứng")
    expect(warnings).to_contain_text("Penicillin")
    add_anyway = doctor.locator("form.rx-form button[type=submit]")
    expect(add_anyway).to_have_text("Vẫn thêm")
    assert len(found(engine, "MedicationRequest", f"encounter=Encounter/{visit.encounter_id}")) == 1
    assert count(engine, "DetectedIssue") == issues
    shot("allergy-warned", doctor)
    add_anyway.click()
    expect(doctor.locator("table.rx-items tbody tr")).to_have_count(2)
    expect(doctor.locator("table.rx-items")).to_contain_text("Amoxicilin")
    shot("override-confirmed", doctor)

    drugs = found(engine, "MedicationRequest", f"encounter=Encounter/{visit.encounter_id}")
    amoxicillin = next(m for m in drugs if m["medicationCodeableConcept"]["coding"][0]["code"] == "T011")
    (issue,) = found(engine, "DetectedIssue", f"implicated=MedicationRequest/{amoxicillin['id']}")
    assert issue["code"]["coding"][0]["code"] == "allergy"
    assert {m["medicationCodeableConcept"]["coding"][0]["code"] for m in drugs} == {"T001", "T011"}
