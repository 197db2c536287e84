"""Patient search and chart pages over the small demo hospital (web/chart.py)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, event, select

from benhan.clinical import chart
from benhan.db import schema as s
from benhan.fhir.repository import Repository
from benhan.fhir.text import normalize
from benhan.security.accounts import get_user
from benhan.vn.names import format_name

VI_RESTRICTED = "Không hiển thị với vai trò của bạn"
UNRELATED = "chart-test-unrelated"


def _all(engine: Engine, rtype: str) -> list[dict[str, Any]]:
    r = s.resource
    with engine.connect() as conn:
        rows = conn.execute(select(r.c.content).where(r.c.type == rtype, r.c.deleted.is_(False))).scalars()
        return [json.loads(row) for row in rows]


def visits_by_patient(engine: Engine, username: str = "bacsi") -> dict[str, list[dict[str, Any]]]:
    """Encounters (newest first) of the patients with a visit in one of ``username``'s departments."""
    with engine.connect() as conn:
        user = get_user(conn, username)
    assert user is not None and user.departments
    depts = {f"Organization/{d}" for d in user.departments}
    by_patient: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for enc in _all(engine, "Encounter"):
        by_patient[enc["subject"]["reference"].split("/", 1)[1]].append(enc)
    related = {pid: encs for pid, encs in by_patient.items()
               if any((e.get("serviceProvider") or {}).get("reference") in depts for e in encs)
               and not any((e.get("meta") or {}).get("security") for e in encs)}
    for encs in related.values():
        encs.sort(key=lambda e: e["period"]["start"], reverse=True)
    return related


def longest_history(engine: Engine) -> tuple[str, list[dict[str, Any]]]:
    pid, encs = max(visits_by_patient(engine).items(), key=lambda kv: (len(kv[1]), kv[0]))
    return pid, encs


def patient_name(engine: Engine, patient_id: str) -> str:
    patient = next(p for p in _all(engine, "Patient") if p["id"] == patient_id)
    return format_name(patient["name"][0])


def new_unrelated_patient(engine: Engine) -> str:
    """A patient registered directly (no visit, no care team): outside every doctor's relationship."""
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            repo = Repository(conn, base_url="http://testserver/fhir")
            repo.create({"resourceType": "Patient", "name": [{"family": "Vũ", "given": ["Thị", "Xuân"]}],
                         "gender": "female", "birthDate": "1990-01-01"}, rid=UNRELATED)
            repo.flush()
    return UNRELATED


def visit_ids(html: str) -> list[str]:
    return re.findall(r'data-encounter="([^"]+)"', html)


def test_anonymous_users_are_sent_to_login(web):
    resp = web.browser().get("/patients/abc")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/auth/login?next=")


def test_the_doctor_sees_the_newest_visits_with_diagnoses_and_can_load_older_ones(web, monkeypatch):
    monkeypatch.setattr(chart, "VISITS_PER_PAGE", 5)
    pid, encounters = longest_history(web.engine)
    assert len(encounters) > 10, "the demo hospital should hold a patient with a long history"
    http = web.browser("bacsi")
    resp = http.get(f"/patients/{pid}")
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert visit_ids(html) == [e["id"] for e in encounters[:5]]
    assert patient_name(web.engine, pid) in html
    assert 'class="diagnoses"' in html and re.search(r'<code class="icd">[A-Z]\d', html)
    assert VI_RESTRICTED not in html
    more = re.search(r'hx-get="(/patients/[^"]+/visits\?before=[^"]+)"', html)
    assert more, "no older-visits loader"
    older = http.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert older.status_code == 200 and "<html" not in older.text
    assert visit_ids(older.text) == [e["id"] for e in encounters[5:10]]


def shapes(engine: Engine) -> dict[str, frozenset[str]]:
    """Per patient, which kinds of record the chart reads hold something (an empty search costs less)."""
    kinds: dict[str, set[str]] = defaultdict(set)
    for rtype in ("AllergyIntolerance", "Condition", "Observation", "DiagnosticReport", "MedicationRequest"):
        for res in _all(engine, rtype):
            ref = (res.get("subject") or res.get("patient") or {}).get("reference", "")
            kind = rtype
            if rtype == "Condition":
                categories = {c.get("code") for cat in res.get("category") or [] for c in cat.get("coding") or []}
                kind = "problem" if "problem-list-item" in categories else "diagnosis"
            kinds[ref.split("/", 1)[-1]].add(kind)
    return {pid: frozenset(k) for pid, k in kinds.items()}


def test_the_chart_makes_as_many_queries_for_a_long_history_as_for_a_short_one(web):
    histories = visits_by_patient(web.engine)
    shape = shapes(web.engine)
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for pid in histories:
        groups[shape.get(pid, frozenset())].append(pid)
    pairs = [(max(g, key=lambda p: len(histories[p])), min(g, key=lambda p: len(histories[p])))
             for g in groups.values() if len(g) > 1]
    long_pid, short_pid = max(pairs, key=lambda lp: len(histories[lp[0]]) / len(histories[lp[1]]))
    assert len(histories[long_pid]) >= 2 * len(histories[short_pid]) and len(histories[long_pid]) >= 8
    http = web.browser("bacsi")
    counts = {}
    for pid in (short_pid, long_pid):
        statements: list[str] = []

        def count(*args: Any, into: list[str] = statements) -> None:
            into.append(args[2])

        event.listen(web.engine, "before_cursor_execute", count)
        try:
            assert http.get(f"/patients/{pid}").status_code == 200
        finally:
            event.remove(web.engine, "before_cursor_execute", count)
        counts[pid] = len(statements)
    assert counts[long_pid] == counts[short_pid], counts


def test_a_patient_outside_the_doctors_relationship_is_refused(web):
    pid = new_unrelated_patient(web.engine)
    http = web.browser("bacsi")
    resp = http.get(f"/patients/{pid}")
    assert resp.status_code == 403
    assert "Vũ Thị Xuân" not in resp.text
    assert http.get(f"/patients/{pid}/visits", headers={"HX-Request": "true"}).status_code == 403
    assert http.get("/patients", params={"q": "vu thi xuan"}).text.count(f"/patients/{pid}") == 0
    # reception works for the whole facility: the same patient is found and opened
    desk = web.browser("tiepdon")
    assert f"/patients/{pid}" in desk.get("/patients", params={"q": "vu thi xuan"}).text
    assert desk.get(f"/patients/{pid}").status_code == 200


def test_reception_sees_the_visits_but_not_the_clinical_record(web):
    pid, encounters = longest_history(web.engine)
    html = web.browser("tiepdon").get(f"/patients/{pid}").text
    # administrative: visits, dates, places
    assert visit_ids(html) == [e["id"] for e in encounters[:chart.VISITS_PER_PAGE]]
    assert VI_RESTRICTED in html
    assert "chẩn đoán và bệnh lý" in html and "ghi chép lâm sàng" in html and "đơn thuốc" in html
    assert 'class="diagnoses"' not in html and 'class="icd"' not in html and 'class="prescription"' not in html


def test_search_by_name_without_diacritics_and_by_identifier(web):
    pid, _ = longest_history(web.engine)
    name = patient_name(web.engine, pid)
    http = web.browser("bacsi")
    typed = normalize(name)
    partial = http.get("/patients", params={"q": typed}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text
    assert f'data-href="/patients/{pid}"' in partial.text
    page = http.get("/patients", params={"q": typed})
    assert "<html" in page.text and "data-search" in page.text and f"/patients/{pid}" in page.text
    patient = next(p for p in _all(web.engine, "Patient") if p["id"] == pid)
    for ident in patient.get("identifier") or []:
        found = http.get("/patients", params={"q": ident["value"]}, headers={"HX-Request": "true"}).text
        assert f"/patients/{pid}" in found, ident
    assert "role=\"option\"" not in http.get("/patients", params={"q": "zzqxw"},
                                              headers={"HX-Request": "true"}).text
