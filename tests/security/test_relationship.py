"""Access by relationship: department encounters, care teams, sensitive labels, break-glass."""

from __future__ import annotations

from sqlalchemy import select

from benhan.security.tables import audit_log

from .conftest import encounter, observation, patient, put, seed_two_departments


def _seed(secure):  # type: ignore[no-untyped-def]
    seed_two_departments(secure.admin)
    put(secure.admin, {"resourceType": "Practitioner", "id": "pr-an", "name": [{"family": "An"}]})
    put(secure.admin, patient("p3"))
    put(secure.admin, observation("o1", "p1"))
    put(secure.admin, observation("o1-hiv", "p1", "HIV"))
    put(secure.admin, observation("o2", "p2"))
    put(secure.admin, observation("o3", "p3"))
    put(secure.admin, {"resourceType": "CareTeam", "id": "ct3", "subject": {"reference": "Patient/p3"},
                       "participant": [{"member": {"reference": "Practitioner/pr-an"}}]})
    put(secure.admin, observation("o3-psy", "p3", "PSY"))


def test_doctor_sees_department_patients_only(secure):
    _seed(secure)
    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])
    assert doctor.get("Observation/o1").status_code == 200
    assert doctor.get("Observation/o2").status_code == 403
    bundle = doctor.get("Observation?_total=accurate").json()
    assert sorted(e["resource"]["id"] for e in bundle["entry"]) == ["o1"]  # not the HIV-labelled one
    assert bundle["total"] == 1
    patients = doctor.get("Patient").json()
    assert [e["resource"]["id"] for e in patients["entry"]] == ["p1"]
    assert doctor.get("Observation/o1-hiv").status_code == 403  # sensitive: care team only
    assert doctor.put("Observation/o9", observation("o9", "p1")).status_code == 201
    assert doctor.put("Observation/o10", observation("o10", "p2")).status_code == 403


def test_nurse_sees_department_and_care_team_patients_only(secure):
    _seed(secure)
    nurse = secure.as_user("dd.lan", ["nurse"], departments=["khoa-noi"], practitioner="pr-an")
    bundle = nurse.get("Observation?_total=accurate").json()
    # khoa-noi's p1 and care-team p3 with p3's PSY record (care team), not p1's HIV one (department only), not p2
    assert sorted(e["resource"]["id"] for e in bundle["entry"]) == ["o1", "o3", "o3-psy"] and bundle["total"] == 3
    assert nurse.get("Observation/o2").status_code == 403
    assert nurse.put("Observation/o9", observation("o9", "p1")).status_code == 201  # vital signs: the nurse's
    assert nurse.put("Observation/o10", observation("o10", "p2")).status_code == 403  # not her patient


def test_care_team_member_sees_the_patient_and_its_sensitive_records(secure):
    _seed(secure)
    doctor = secure.as_user("bs.an", ["doctor"], departments=["khoa-ngoai"], practitioner="pr-an")
    ids = sorted(e["resource"]["id"] for e in doctor.get("Observation").json()["entry"])
    assert ids == ["o2", "o3", "o3-psy"]  # p2 by department, p3 by care team (PSY label allowed)


def test_head_of_department_sees_the_department(secure):
    _seed(secure)
    head = secure.as_user("tk.cuong", ["head-of-department"], departments=["khoa-ngoai"])
    assert [e["resource"]["id"] for e in head.get("Patient").json()["entry"]] == ["p2"]


def test_reception_sees_administrative_data_not_clinical(secure):
    _seed(secure)
    reception = secure.as_user("td.dung", ["reception"])
    assert len(reception.get("Patient").json()["entry"]) == 3
    assert reception.get("Encounter/e1").status_code == 200
    assert reception.get("Observation/o1").status_code == 403
    assert reception.post("Patient", patient("p9")).status_code == 201
    label = reception.get("Patient?_total=accurate").json()["total"]
    put(secure.admin, patient("vip", "V"))
    assert reception.get("Patient?_total=accurate").json()["total"] == label  # a VIP stays hidden
    assert reception.get("Patient/vip").status_code == 403


def test_break_glass_flow(secure):
    _seed(secure)
    secure.user("bs.em", ["doctor"], departments=["khoa-noi"])
    token = secure.token("bs.em", "user/*.cruds")
    doctor = secure.client_for(token)
    assert doctor.get("Observation/o2").status_code == 403
    auth = {"Authorization": f"Bearer {token}"}
    resp = secure.http.post("/auth/break-glass", json={"patient": "Patient/p2", "reason": "ngắn"}, headers=auth)
    assert resp.status_code == 400  # a real reason is required
    narrow = {"Authorization": f"Bearer {secure.token('bs.em', 'user/Observation.rs')}"}  # an app's token
    resp = secure.http.post("/auth/break-glass", headers=narrow,
                            json={"patient": "Patient/p2", "reason": "Cấp cứu: bệnh nhân hôn mê, cần xem tiền sử"})
    assert resp.status_code == 403 and "user/Patient.r" in resp.json()["error_description"]
    resp = secure.http.post("/auth/break-glass", headers=auth,
                            json={"patient": "Patient/p2", "reason": "Cấp cứu: bệnh nhân hôn mê, cần xem tiền sử"})
    assert resp.status_code == 201, resp.text
    assert doctor.get("Observation/o2").status_code == 200
    with secure.engine.connect() as conn:
        last = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).mappings().one()
    assert last["purpose"] == "BTG" and last["patients"] == ",p2,"
    # a receptionist may not break the glass
    secure.user("td.ha", ["reception"])
    other = {"Authorization": f"Bearer {secure.token('td.ha', 'user/*.rs')}"}
    assert secure.http.post("/auth/break-glass", headers=other,
                            json={"patient": "p2", "reason": "Cấp cứu cần xem hồ sơ ngay"}).status_code == 403
    # the head of the doctor's department reviews it; another department's head does not see it
    secure.user("tk.noi", ["head-of-department"], departments=["khoa-noi"])
    secure.user("tk.ngoai", ["head-of-department"], departments=["khoa-ngoai"])
    listed = secure.http.get("/auth/break-glass",
                             headers={"Authorization": f"Bearer {secure.token('tk.noi', 'user/*.rs')}"}).json()
    assert [g["user"] for g in listed["grants"]] == ["bs.em"]
    listed = secure.http.get("/auth/break-glass",
                             headers={"Authorization": f"Bearer {secure.token('tk.ngoai', 'user/*.rs')}"}).json()
    assert listed["grants"] == []
    assert secure.http.get("/auth/break-glass", headers=auth).status_code == 403  # doctors do not review
    assert secure.http.get("/auth/break-glass").status_code == 401


def test_break_glass_expires(secure):
    _seed(secure)
    from benhan.security.breakglass import open_grant

    user = secure.user("bs.khanh", ["doctor"], departments=["khoa-noi"])
    with secure.tx() as conn:
        open_grant(conn, user_id=user.id, username=user.username, departments=user.departments, patient_id="p2",
                   reason="Cấp cứu ngoài giờ hành chính", minutes=-1)
    doctor = secure.client_for(secure.token("bs.khanh", "user/*.rs"))
    assert doctor.get("Observation/o2").status_code == 403


def test_chains_and_has_do_not_match_on_hidden_resources(secure):
    """A hidden record must not decide what a search matches (no inference through _has or chains)."""
    _seed(secure)
    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])
    secure_id = "o1-hiv"  # on p1, whom the doctor may see; but the HIV label hides this observation
    assert doctor.get(f"Observation/{secure_id}").status_code == 403
    admin_view = secure.admin.get("Patient?_has:Observation:subject:_id=o1-hiv").json()
    assert [e["resource"]["id"] for e in admin_view["entry"]] == ["p1"]  # the query itself does match
    hidden = doctor.get("Patient?_has:Observation:subject:_id=o1-hiv").json()
    assert hidden.get("entry", []) == []
    visible = doctor.get("Patient?_has:Observation:subject:_id=o1").json()
    assert [e["resource"]["id"] for e in visible["entry"]] == ["p1"]
    # forward chain: Encounter e2 (khoa-ngoai) is hidden from this doctor, so it cannot select p2's data
    assert doctor.get("Observation?encounter._id=e2").json().get("entry", []) == []


def test_doctor_name_search_pages_through_related_patients_only(secure):
    """``Patient?name=`` alone is paged from the sorted name index rows on PostgreSQL, with the relationship
    and label tests applied lazily: pages must hold exactly the visible patients, in order."""
    put(secure.admin, {"resourceType": "Organization", "id": "khoa-noi", "name": "khoa-noi"})
    put(secure.admin, {"resourceType": "Organization", "id": "khoa-ngoai", "name": "khoa-ngoai"})
    visible = []
    for i in range(12):
        pid = f"n{i:02d}"
        put(secure.admin, patient(pid, *(["R"] if i % 4 == 3 else [])))
        put(secure.admin, encounter(f"e{pid}", pid, "khoa-noi" if i % 3 else "khoa-ngoai"))
        if i % 3 and i % 4 != 3:
            visible.append(pid)
    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])
    seen, url = [], "Patient?name=nguy&_count=2"
    while url:
        bundle = doctor.get(url).json()
        seen += [e["resource"]["id"] for e in bundle.get("entry", [])]
        url = next((link["url"].split("/fhir/", 1)[1] for link in bundle["link"] if link["relation"] == "next"), None)
    assert seen == visible
    assert doctor.get("Patient?name=nguy&_count=2&_total=accurate").json()["total"] == len(visible)
