"""The conclusion page: conclude and sign with the password, read-only signed record, addenda."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from benhan.db import schema as s
from benhan.demo.accounts import DEMO_PASSWORD
from tests.clinical.test_signing import current, make_visit
from tests.web.conftest import csrf_of


def count(engine, rtype: str) -> int:
    r = s.resource
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(r).where(r.c.type == rtype)).scalar_one()


def post(http, url: str, data: dict[str, str]):
    return http.post(url, data={"csrf_token": csrf_of(http.get(url).text), **data})


def test_the_form_asks_for_the_outcome_and_the_password(web):
    visit = make_visit(web.engine)
    page = web.browser("bacsi").get(f"/visit/{visit.encounter_id}/conclusion")
    assert page.status_code == 200
    assert "Kết thúc và ký" in page.text and 'type="password"' in page.text and 'name="outcome"' in page.text


def test_conclude_and_sign_then_the_page_is_read_only_with_a_valid_signature(web):
    visit = make_visit(web.engine)
    http = web.browser("bacsi")
    url = f"/visit/{visit.encounter_id}/conclusion"
    follow_up = (date.today() + timedelta(days=7)).isoformat()
    resp = post(http, url, {"action": "conclude", "outcome": "home", "advice": "Uống nhiều nước ấm",
                            "follow_up": follow_up, "password": DEMO_PASSWORD})
    assert resp.status_code == 303, resp.text
    encounter = current(web.engine, "Encounter", visit.encounter_id)
    assert encounter["status"] == "finished" and encounter["meta"]["tag"][-1]["code"] == "signed"
    page = http.get(url)
    assert "Hợp lệ" in page.text and "Uống nhiều nước ấm" in page.text and "Kết thúc và ký" not in page.text
    assert "Viết phụ lục" in page.text and "/print/record.pdf" in page.text
    kid = page.text.split("/signing-keys/")[1].split('"')[0]
    jwk = http.get(f"/signing-keys/{kid}")
    assert jwk.status_code == 200 and jwk.json()["kid"] == kid and "d" not in jwk.json()


def test_a_wrong_password_is_a_field_error_and_nothing_is_signed(web):
    visit = make_visit(web.engine)
    http = web.browser("bacsi")
    before = count(web.engine, "Provenance")
    resp = post(http, f"/visit/{visit.encounter_id}/conclusion",
                {"action": "conclude", "outcome": "home", "password": "Wrong-Password-123"})
    assert resp.status_code == 422
    assert "Mật khẩu không đúng" in resp.text and 'aria-invalid="true"' in resp.text
    assert 'value="home" checked' in resp.text  # what was typed is kept (except the password)
    encounter = current(web.engine, "Encounter", visit.encounter_id)
    assert encounter["status"] == "in-progress" and "tag" not in encounter["meta"]
    assert count(web.engine, "Provenance") == before


def test_wrong_signing_passwords_count_toward_the_lockout_and_are_audited(web):
    from sqlalchemy import select

    from benhan.security.tables import audit_log

    visit = make_visit(web.engine)
    http = web.browser("bacsi")
    url = f"/visit/{visit.encounter_id}/conclusion"
    for _ in range(web.settings.lockout_threshold):
        assert post(http, url, {"action": "conclude", "outcome": "home", "password": "Guess-1234"}).status_code == 422
    # locked now: even the right password does not sign, and nothing was written
    resp = post(http, url, {"action": "conclude", "outcome": "home", "password": DEMO_PASSWORD})
    assert resp.status_code == 422 and "khoá tạm thời" in resp.text
    assert current(web.engine, "Encounter", visit.encounter_id)["status"] == "in-progress"
    with web.engine.connect() as conn:
        failed = conn.execute(select(audit_log.c.username).where(audit_log.c.action == "sign-failed")).scalars().all()
    assert failed == ["bacsi"] * web.settings.lockout_threshold


def test_missing_outcome_is_a_field_error(web):
    visit = make_visit(web.engine)
    resp = post(web.browser("bacsi"), f"/visit/{visit.encounter_id}/conclusion",
                {"action": "conclude", "password": DEMO_PASSWORD})
    assert resp.status_code == 422 and "Hãy chọn kết quả khám" in resp.text
    assert current(web.engine, "Encounter", visit.encounter_id)["status"] == "in-progress"


def test_a_second_doctor_cannot_change_the_signed_record_but_can_add_an_addendum(web):
    visit = make_visit(web.engine)
    url = f"/visit/{visit.encounter_id}/conclusion"
    assert post(web.browser("bacsi"), url, {"action": "conclude", "outcome": "home",
                                            "password": DEMO_PASSWORD}).status_code == 303
    signed = current(web.engine, "Encounter", visit.encounter_id)
    other = web.browser("truongkhoa")
    resp = post(other, url, {"action": "conclude", "outcome": "admit", "password": DEMO_PASSWORD})
    assert resp.status_code == 409 and "phụ lục" in resp.text
    assert current(web.engine, "Encounter", visit.encounter_id) == signed
    resp = post(other, url, {"action": "addendum", "addendum": "Bổ sung kết quả xét nghiệm",
                             "password": DEMO_PASSWORD})
    assert resp.status_code == 303, resp.text
    page = other.get(url)
    assert "Bổ sung kết quả xét nghiệm" in page.text and page.text.count("Hợp lệ") == 2
    assert current(web.engine, "Encounter", visit.encounter_id) == signed


def test_reception_cannot_see_the_conclusion(web):
    visit = make_visit(web.engine)
    assert web.browser("tiepdon").get(f"/visit/{visit.encounter_id}/conclusion").status_code == 403
