"""Printed forms: PDFs of the outpatient record (15/BV1) and the prescription (TT 26), Vietnamese text
extractable with its diacritics, fonts embedded, every print audited, never cached."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from benhan.clinical.forms.prescription import quantity_text
from benhan.demo.accounts import DEMO_PASSWORD
from benhan.security.tables import audit_log
from tests.clinical.test_signing import make_visit
from tests.web.conftest import csrf_of


def pdf_text(data: bytes) -> tuple[str, set[str]]:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                fonts.add(str(font["/BaseFont"]))
    return text, fonts


def conclude(web, visit) -> None:
    http = web.browser("bacsi")
    url = f"/visit/{visit.encounter_id}/conclusion"
    resp = http.post(url, data={"csrf_token": csrf_of(http.get(url).text), "action": "conclude", "outcome": "home",
                                "advice": "Uống nhiều nước, nghỉ ngơi", "password": DEMO_PASSWORD})
    assert resp.status_code == 303, resp.text


def prints(web, username: str) -> list[tuple[str, str]]:
    with web.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.entity, audit_log.c.patients)
                            .where(audit_log.c.action == "print", audit_log.c.username == username))
        return [(entity, patients.strip(",")) for entity, patients in rows]


def test_the_signed_record_prints_as_a_pdf_with_vietnamese_text_and_embedded_fonts(web):
    visit = make_visit(web.engine)
    conclude(web, visit)
    resp = web.browser("bacsi").get(f"/visit/{visit.encounter_id}/print/record.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    assert "no-store" in resp.headers["cache-control"]
    text, fonts = pdf_text(resp.content)
    for expected in ("BỆNH ÁN NGOẠI TRÚ", "MS: 15/BV1", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "SỞ Y TẾ", "J06.9", "Viêm đường hô hấp trên cấp",
                     "Họng đỏ, phổi trong", "Uống nhiều nước, nghỉ ngơi", "Đã ký số", "Bệnh chính"):
        assert expected in text, expected
    # embedded (FontFile2) subsets of the @font-face family of templates/print/base.html, i.e. the DejaVu
    # Serif files shipped in static/fonts, not whatever the server has installed
    assert {f.split("+", 1)[1] for f in fonts} >= {"Form-Serif", "Form-Serif-Bold"}, fonts
    assert prints(web, "bacsi") == [(f"Encounter/{visit.encounter_id}", visit.patient_id)]


def test_the_prescription_prints_per_tt26(web):
    visit = make_visit(web.engine)
    conclude(web, visit)
    resp = web.browser("bacsi").get(f"/visit/{visit.encounter_id}/print/prescription.pdf")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    text, fonts = pdf_text(resp.content)
    for expected in ("ĐƠN THUỐC", "Mã đơn thuốc", "01999abc1234-n", "Paracetamol 500 mg", "Amoxicilin 250 mg",
                     "10 viên", "11 viên", "Uống mỗi lần 1 viên, ngày 3 lần, sau ăn", "Lời dặn",
                     "(J06.9)", "Đã ký số", "BÁC SĨ KÊ ĐƠN"):
        assert expected in text, expected
    assert fonts
    assert prints(web, "bacsi") == [(f"Encounter/{visit.encounter_id}", visit.patient_id)]


def test_an_unsigned_record_prints_as_not_signed(web):
    visit = make_visit(web.engine)
    resp = web.browser("bacsi").get(f"/visit/{visit.encounter_id}/print/record.pdf")
    text, _fonts = pdf_text(resp.content)
    assert "Chưa ký số" in text and "Đã ký số" not in text


def test_printing_needs_read_access(web):
    visit = make_visit(web.engine)
    resp = web.browser("tiepdon").get(f"/visit/{visit.encounter_id}/print/record.pdf")
    assert resp.status_code == 403 and not resp.content.startswith(b"%PDF")
    assert prints(web, "tiepdon") == []
    assert web.browser().get(f"/visit/{visit.encounter_id}/print/record.pdf").status_code == 303  # sign in first


@pytest.mark.parametrize(("value", "unit", "text"), [(5, "viên", "05 viên"), (10, "viên", "10 viên"),
                                                      (2.5, "ml", "2.5 ml"), (None, "viên", "")])
def test_quantities_under_ten_have_a_leading_zero(value, unit, text):
    assert quantity_text(value, unit) == text


def test_children_under_72_months_have_their_age_in_months():
    from datetime import date

    from benhan.clinical.forms.common import identity

    child = identity({"resourceType": "Patient", "birthDate": "2021-06-27", "name": [{"text": "Bé Na"}]},
                     date(2026, 11, 20))
    assert child.age == "64 tháng tuổi" and child.age_months == 64
    adult = identity({"resourceType": "Patient", "birthDate": "1990-12-01"}, date(2026, 11, 20))
    assert adult.age == "35 tuổi" and adult.age_months is None
