"""Bearer tokens and scopes on the FHIR API: 401 without/with a bad token, 403 for what the role or
the scope does not cover, patient compartments, searches that hide (and do not count) the rest."""

from __future__ import annotations

import time

from .conftest import observation, patient, put


def _seed(secure):  # type: ignore[no-untyped-def]
    for pid in ("p1", "p2"):
        put(secure.admin, patient(pid))
    put(secure.admin, observation("o1", "p1"))
    put(secure.admin, observation("o2", "p2"))
    put(secure.admin, observation("o3", "p2"))


def test_every_endpoint_needs_a_token(secure):
    http = secure.http
    for method, path in [("GET", "/fhir/Patient"), ("GET", "/fhir/Patient/p1"), ("POST", "/fhir/Patient"),
                         ("GET", "/fhir/_history"), ("POST", "/fhir"), ("GET", "/fhir/Patient/p1/$everything"),
                         ("GET", "/fhir/AuditEvent"), ("DELETE", "/fhir/Patient/p1"), ("GET", "/fhir")]:
        resp = http.request(method, path, headers={"Content-Type": "application/fhir+json"},
                            content=b'{"resourceType":"Patient"}' if method == "POST" else None)
        assert resp.status_code == 401, (method, path, resp.text)
        assert resp.headers["www-authenticate"].startswith('Bearer realm="benhan"')
        body = resp.json()
        assert body["resourceType"] == "OperationOutcome"
        assert " / " in body["issue"][0]["details"]["text"]  # Vietnamese / English


def test_metadata_and_smart_configuration_are_public(secure):
    assert secure.http.get("/fhir/metadata").status_code == 200
    for path in ("/.well-known/smart-configuration", "/fhir/.well-known/smart-configuration"):
        conf = secure.http.get(path).json()
        assert conf["code_challenge_methods_supported"] == ["S256"]
        assert conf["token_endpoint"].endswith("/oauth/token")


def test_bad_expired_and_revoked_tokens(secure):
    _seed(secure)
    secure.user("bs.an", ["reception"])
    assert secure.client_for("not-a-jwt").get("Patient").status_code == 401
    expired = secure.token("bs.an", "user/*.rs", ttl=1)
    time.sleep(2.1)
    resp = secure.client_for(expired).get("Patient")
    assert resp.status_code == 401 and "expired" in resp.headers["www-authenticate"]
    good = secure.token("bs.an", "user/*.rs")
    assert secure.client_for(good).get("Patient").status_code == 200
    from benhan.security import tokens

    claims = tokens.unverified_claims(good)
    with secure.tx() as conn:
        tokens.revoke(conn, claims["jti"], claims["exp"])
    resp = secure.client_for(good).get("Patient")
    assert resp.status_code == 401 and "revoked" in resp.headers["www-authenticate"]


def test_tampered_token_is_refused(secure):
    secure.user("tn.an", ["cashier"])
    token = secure.token("tn.an", "user/*.rs")
    head, payload, sig = token.split(".")
    forged = f"{head}.{payload}.{sig[:-4]}AAAA"
    assert secure.client_for(forged).get("Patient").status_code == 401


def test_scope_limits_what_the_role_allows(secure):
    _seed(secure)
    client = secure.as_user("kt.binh", ["technician"], scope="user/Patient.rs")
    assert client.get("Patient/p1").status_code == 200
    resp = client.get("Observation/o1")
    assert resp.status_code == 403 and resp.json()["resourceType"] == "OperationOutcome"
    assert client.get("Observation").status_code == 403
    assert client.post("Patient", patient("new")).status_code == 403  # .rs: no create


def test_v1_scopes_are_accepted(secure):
    _seed(secure)
    client = secure.as_user("kt.cuong", ["technician"], scope="user/Observation.read")
    assert client.get("Observation/o1").status_code == 200
    assert client.put("Observation/o1", observation("o1", "p1")).status_code == 403


def test_role_limits_what_the_scope_allows(secure):
    _seed(secure)
    reception = secure.as_user("td.dung", ["reception"])
    assert reception.get("Patient/p1").status_code == 200
    assert reception.get("Observation/o1").status_code == 403  # clinical data: not for reception
    assert reception.get("Observation").status_code == 403
    admin = secure.as_user("qt.em", ["admin"])
    assert admin.get("Patient/p1").status_code == 403


def test_patient_scope_stays_in_the_compartment(secure):
    _seed(secure)
    app = secure.as_user("bs.giang", ["doctor"], scope="patient/*.rs", launch_patient="p1",
                         departments=["k"], practitioner=None)
    # the doctor has no relationship with p1 here, so even the launch patient is hidden: role AND scope
    assert app.get("Observation/o1").status_code == 403
    portal = secure.as_user("nb.p1", ["patient"], scope="patient/*.rs", patient="p1")
    assert portal.get("Observation/o1").status_code == 200
    assert portal.get("Observation/o2").status_code == 403  # another patient's record
    assert portal.get("Patient/p2").status_code == 403
    bundle = portal.get("Observation?_total=accurate").json()
    assert [e["resource"]["id"] for e in bundle.get("entry", [])] == ["o1"]
    assert bundle["total"] == 1  # the other patient's two observations are not counted
    assert portal.get("Observation?subject=Patient/p2").json()["total"] == 0
    summary = portal.get("Observation?_summary=count").json()
    assert summary["total"] == 1
    everything = portal.get("Patient/p1/$everything").json()
    assert {e["resource"]["id"] for e in everything["entry"]} == {"p1", "o1"}
    assert portal.get("Patient/p2/$everything").status_code == 403
    assert portal.post("Observation", observation("o9", "p1")).status_code == 403  # read-only scope


def test_system_search_hides_other_types_and_rows(secure):
    _seed(secure)
    portal = secure.as_user("nb.p2", ["patient"], scope="patient/*.rs", patient="p2")
    bundle = portal.get("?_type=Patient,Observation&_total=accurate").json()
    assert sorted(e["resource"]["id"] for e in bundle["entry"]) == ["o2", "o3", "p2"]
    assert bundle["total"] == 3
    included = portal.get("Observation?_include=Observation:subject").json()
    assert {e["resource"]["id"] for e in included["entry"]} == {"o2", "o3", "p2"}
    # _type naming a type the caller may not search is a 403, as GET /fhir/Observation is
    reception = secure.as_user("td.an", ["reception"])
    refused = reception.get("?_type=Patient,Observation")
    assert refused.status_code == 403 and refused.json()["resourceType"] == "OperationOutcome"
    assert "Observation" in refused.json()["issue"][0]["details"]["text"]
    assert reception.get("?_type=Patient").status_code == 200
    narrow = secure.as_user("td.binh", ["reception"], scope="user/Organization.rs")
    assert narrow.get("?_type=Patient").status_code == 403  # the scope does not cover it


def test_history_shows_only_the_compartment(secure):
    _seed(secure)
    portal = secure.as_user("nb.p1", ["patient"], scope="patient/*.rs", patient="p1")
    assert portal.get("Observation/o1/_history").status_code == 200
    assert portal.get("Observation/o2/_history").status_code == 403
    assert portal.get("Observation/o1/_history/1").status_code == 200
    assert portal.get("Observation/o2/_history/1").status_code == 403
    typed = portal.get("Observation/_history").json()
    assert [e["resource"]["id"] for e in typed["entry"]] == ["o1"] and typed["total"] == 1
    system = portal.get("_history").json()
    assert sorted(e["resource"]["id"] for e in system["entry"]) == ["o1", "p1"] and system["total"] == 2
    assert secure.admin.get("_history").json()["total"] == 5


def test_bundle_entries_are_each_checked(secure):
    _seed(secure)
    nurse = secure.as_user("tn.hoa", ["cashier"])
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/p1"}},
        {"request": {"method": "GET", "url": "Observation/o1"}},
        {"resource": {"resourceType": "Account", "status": "active"}, "request": {"method": "POST", "url": "Account"}},
        {"resource": observation("o7", "p1"), "request": {"method": "PUT", "url": "Observation/o7"}},
    ]}
    resp = nurse.post("", batch)
    assert resp.status_code == 200, resp.text
    statuses = [e["response"]["status"][:3] for e in resp.json()["entry"]]
    assert statuses == ["200", "403", "201", "403"]
    transaction = {**batch, "type": "transaction", "entry": batch["entry"][2:]}
    resp = nurse.post("", transaction)
    assert resp.status_code == 403
    assert secure.admin.get("Account?_total=accurate").json()["total"] == 1  # the transaction rolled back


def test_write_outside_allowed_compartment_is_refused(secure):
    _seed(secure)
    portal = secure.as_user("nb.p1", ["patient"], scope="patient/*.cruds", patient="p1")
    # the patient role grants only rs, whatever the scope says
    assert portal.post("Observation", observation("o8", "p1")).status_code == 403
    tech = secure.as_user("kt.lan", ["technician"], scope="patient/Observation.crus", launch_patient="p1")
    assert tech.put("Observation/o8", observation("o8", "p1")).status_code == 201
    assert tech.put("Observation/o9", observation("o9", "p2")).status_code == 403
    assert tech.put("Observation/o2", observation("o2", "p1")).status_code == 403  # o2 belongs to p2 today
