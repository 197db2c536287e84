"""Named queries (``_query``, search/named/): results equal a brute-force filter over the stored resources,
paging and result parameters work, errors are 400s at ``http._query``, the CapabilityStatement and the
OperationDefinitions describe them, and access rules and audit apply as to any search."""

from __future__ import annotations

import random
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from benhan.fhir.dates import MAX_TIME, date_range
from benhan.fhir.errors import FhirError
from benhan.fhir.search.named import QUERIES
from benhan.fhir.validation import validate_resource
from benhan.security.tables import audit_log
from tests.security.conftest import put, secure, seed_two_departments  # noqa: F401  (secure: a fixture)

from .conftest import LOINC, find, ids, run, store

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOCAL = "urn:benhan:test:xet-nghiem"
rnd = random.Random(20261123)


def encounter(eid: str, pid: str, klass: str, status: str, *, provider: str, locations: list[str],
              system: str = ACT, start: str = "2026-11-01T08:00:00+07:00") -> dict[str, Any]:
    res = {"resourceType": "Encounter", "id": eid, "status": status, "class": {"system": system, "code": klass},
           "subject": {"reference": f"Patient/{pid}"}, "period": {"start": start},
           "serviceProvider": {"reference": f"Organization/{provider}"}}
    if locations:
        res["location"] = [{"location": {"reference": f"Location/{loc}"}} for loc in locations]
    return res


PATIENTS = [{"resourceType": "Patient", "id": f"p{i}", "name": [{"family": "Nguyễn", "given": [f"B{i}"]}]}
            for i in range(6)]
ORGS = [{"resourceType": "Organization", "id": o, "name": o} for o in ("khoa-noi", "khoa-ngoai")]
LOCATIONS = [{"resourceType": "Location", "id": loc, "name": loc} for loc in ("noi-p1", "noi-p2", "ngoai-p1")]
CLASSES = [("IMP", ACT), ("ACUTE", ACT), ("NONAC", ACT), ("AMB", ACT), ("EMER", ACT), ("IMP", "urn:other")]
STATUSES = ["planned", "arrived", "in-progress", "onleave", "finished", "cancelled"]
ENCOUNTERS = [encounter(f"e{i}", f"p{i % 6}", *rnd.choice(CLASSES)[:1], rnd.choice(STATUSES),
                        system=rnd.choice(CLASSES)[1] if i % 7 == 0 else ACT,
                        provider=rnd.choice(["khoa-noi", "khoa-ngoai"]),
                        locations=rnd.sample(["noi-p1", "noi-p2", "ngoai-p1"], rnd.randint(0, 2)),
                        start=f"2026-11-{1 + i % 28:02d}T08:00:00+07:00")
              for i in range(48)]
# every combination of the two conditions appears at least once, whatever the random draw
ENCOUNTERS += [encounter(f"f{i}", "p0", k, st, provider="khoa-noi", locations=["noi-p1"])
               for i, (k, st) in enumerate([("IMP", "in-progress"), ("IMP", "onleave"), ("ACUTE", "in-progress"),
                                            ("NONAC", "onleave"), ("IMP", "finished"), ("AMB", "in-progress")])]


def _inpatient(e: dict[str, Any]) -> bool:
    return (e["class"]["system"] == ACT and e["class"]["code"] in ("IMP", "ACUTE", "NONAC")
            and e["status"] in ("in-progress", "onleave"))


CODES = [(LOINC, "8480-6"), (LOINC, "8867-4"), (LOINC, "8310-5"), (LOCAL, "8480-6"), (None, "8867-4")]


def observation(oid: str, pid: str, codes: list[tuple[str | None, str]], effective: dict[str, Any],
                status: str) -> dict[str, Any]:
    coding = [{"code": c} if s is None else {"system": s, "code": c} for s, c in codes]
    return {"resourceType": "Observation", "id": oid, "status": status, "code": {"coding": coding},
            "subject": {"reference": f"Patient/{pid}"}, **effective}


def _effective(i: int) -> dict[str, Any]:
    day = 1 + rnd.randrange(6)  # few distinct days: ties of date and precision are common
    kind = rnd.choice(["none", "day", "time", "period", "period-open"])
    if kind == "none":
        return {}
    if kind == "day":
        return {"effectiveDateTime": f"2026-11-0{day}"}
    if kind == "time":
        return {"effectiveDateTime": f"2026-11-0{day}T{rnd.choice(['08', '23'])}:00:00+07:00"}
    if kind == "period":
        return {"effectivePeriod": {"start": f"2026-10-2{day}", "end": f"2026-11-0{day}T12:00:00+07:00"}}
    return {"effectivePeriod": {"start": f"2026-11-0{day}"}}


OBSERVATIONS = [observation(f"o{i}", f"p{rnd.randrange(3)}", rnd.sample(CODES, rnd.randint(1, 2)), _effective(i),
                            rnd.choice(["final", "final", "preliminary"])) for i in range(70)]
DELETED = {"o3", "o17"}  # deleted after being stored: never a result, never a newer one


def _end(o: dict[str, Any]) -> int | None:
    """The latest instant of effective[x] (µs, the index's reading of a FHIR date; open end: MAX_TIME), or None."""
    if "effectiveDateTime" in o:
        return date_range(o["effectiveDateTime"])[1]
    period = o.get("effectivePeriod")
    if period is None:
        return None
    return date_range(period["end"])[1] if "end" in period else MAX_TIME


def _latest(patients: set[str], codes: set[tuple[str | None, str]] | None, statuses: set[str] | None) -> set[str]:
    """Brute force: among the live Observations matching the other parameters, those with no more recent one of
    the same patient sharing a coding (later end of effective[x]; none is oldest; a tie goes to the later one)."""
    order = {o["id"]: n for n, o in enumerate(OBSERVATIONS)}  # stored in this order: pk order

    def key(o: dict[str, Any]) -> tuple[float, int]:
        end = _end(o)
        return (float("-inf") if end is None else end, order[o["id"]])

    def codings(o: dict[str, Any]) -> set[tuple[str | None, str]]:
        return {(c.get("system"), c["code"]) for c in o["code"]["coding"]}

    matches = [o for o in OBSERVATIONS if o["id"] not in DELETED and o["subject"]["reference"][8:] in patients
               and (codes is None or codings(o) & codes) and (statuses is None or o["status"] in statuses)]
    return {o["id"] for o in matches
            if not any(n is not o and n["subject"] == o["subject"] and codings(n) & codings(o) and key(n) > key(o)
                       for n in matches)}


@pytest.fixture
def hospital(engine):
    store(engine, *PATIENTS, *ORGS, *LOCATIONS, *ENCOUNTERS, *OBSERVATIONS)
    from benhan.fhir.repository import Repository

    with engine.begin() as conn:
        repo = Repository(conn, base_url="http://benhan.test/fhir")
        for oid in DELETED:
            repo.delete("Observation", oid)
    return engine


# -- current-inpatients -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "keep"), [
    ("", lambda e: True),
    ("&location=Location/noi-p1", lambda e: {"location": {"reference": "Location/noi-p1"}} in e.get("location", [])),
    ("&location=noi-p2,ngoai-p1", lambda e: any(x["location"]["reference"] in ("Location/noi-p2", "Location/ngoai-p1")
                                                 for x in e.get("location", []))),
    ("&service-provider=Organization/khoa-ngoai",
     lambda e: e["serviceProvider"]["reference"] == "Organization/khoa-ngoai"),
    ("&service-provider=khoa-noi&subject=Patient/p0",
     lambda e: e["serviceProvider"]["reference"] == "Organization/khoa-noi"
     and e["subject"]["reference"] == "Patient/p0"),
    ("&date=lt2026-11-15", lambda e: e["period"]["start"] < "2026-11-15"),  # open periods: the start decides
])
def test_current_inpatients_equal_brute_force(hospital, extra, keep):
    expected = {e["id"] for e in ENCOUNTERS if _inpatient(e) and keep(e)}
    assert expected  # the data set exercises the case
    assert find(hospital, "Encounter", "_query=current-inpatients" + extra) == expected
    assert {"f0", "f1", "f2", "f3"} <= {e["id"] for e in ENCOUNTERS if _inpatient(e)}  # incl. on leave, ACUTE, NONAC


def test_current_inpatients_page_sort_include_and_count(hospital):
    expected = {e["id"] for e in ENCOUNTERS if _inpatient(e)}
    query, seen, included = "_query=current-inpatients&_count=3&_sort=date&_include=Encounter:subject", [], set()
    while query:
        page = run(hospital, "Encounter", query)
        seen += ids(page)
        included |= set(ids(page, "include"))
        nxt = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
        query = urlsplit(nxt).query if nxt else ""
        assert not nxt or "_query=current-inpatients" in nxt  # the links keep the named query
    assert set(seen) == expected and len(seen) == len(expected)
    starts = [next(e["period"]["start"] for e in ENCOUNTERS if e["id"] == i) for i in seen]
    assert starts == sorted(starts)  # open stays: ascending by start (descending would tie at the open end)
    assert included == {e["subject"]["reference"][8:] for e in ENCOUNTERS if _inpatient(e)}
    counted = run(hospital, "Encounter", "_query=current-inpatients&_summary=count")
    assert counted["total"] == len(expected) and "entry" not in counted
    summary = run(hospital, "Encounter", "_query=current-inpatients&_summary=true&_total=accurate&_count=2")
    assert summary["total"] == len(expected) and len(ids(summary)) == 2


# -- latest -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "patients", "codes", "statuses"), [
    ("patient=p0", {"p0"}, None, None),
    ("patient=Patient/p1", {"p1"}, None, None),
    ("patient=p0,p2", {"p0", "p2"}, None, None),
    (f"patient=p1&code={LOINC}|8480-6", {"p1"}, {(LOINC, "8480-6")}, None),
    ("patient=p2&code=8867-4", {"p2"}, {(LOINC, "8867-4"), (None, "8867-4")}, None),
    (f"patient=p0&code={LOCAL}|8480-6,{LOINC}|8310-5", {"p0"}, {(LOCAL, "8480-6"), (LOINC, "8310-5")}, None),
    ("patient=p0,p1,p2&status=final", {"p0", "p1", "p2"}, None, {"final"}),  # the latest final result
    ("patient=p5", {"p5"}, None, None),  # no Observation at all
])
def test_latest_equals_brute_force(hospital, query, patients, codes, statuses):
    expected = _latest(patients, codes, statuses)
    assert find(hospital, "Observation", f"_query=latest&{query}") == expected


def test_latest_data_set_has_ties_and_undated_results():
    ends = [_end(o) for o in OBSERVATIONS]
    assert None in ends and len(set(ends)) < len(ends)


def test_latest_with_paging_and_sort(hospital):
    expected = _latest({"p0", "p1", "p2"}, None, None)
    bundle = run(hospital, "Observation", "_query=latest&patient=p0,p1,p2&_count=1000&_sort=_id&_elements=code")
    assert ids(bundle) == sorted(expected) and bundle["total"] == len(expected)
    first = run(hospital, "Observation", "_query=latest&patient=p0,p1,p2&_count=2&_sort=_id")
    assert ids(first) == sorted(expected)[:2]


# -- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rtype", "query", "code", "location"), [
    ("Encounter", "_query=khong-co", "not-found", "http._query"),
    ("Observation", "_query=current-inpatients&patient=p0", "not-found", "http._query"),  # another type's query
    (None, "_query=latest", "not-found", "http._query"),  # system level
    ("Encounter", "_query=current-inpatients,current-inpatients", "invalid", "http._query"),
    ("Encounter", "_query=current-inpatients&_query=current-inpatients", "invalid", "http._query"),
    ("Encounter", "_query:exact=current-inpatients", "not-supported", "http._query:exact"),
    ("Observation", "_query=latest", "required", "http.patient"),
    ("Observation", "_query=latest&code=8480-6", "required", "http.patient"),
    ("Observation", "_query=latest&patient=p0&_contained=true", "not-supported", "http._query"),
    ("Observation", "encounter._query=current-inpatients", "not-supported", None),
    ("Observation", "_filter=_query eq latest", "not-supported", None),
])
def test_errors(hospital, rtype, query, code, location):
    with pytest.raises(FhirError) as info:
        run(hospital, rtype, query)
    issue = info.value.issues[0]
    assert (info.value.status, issue.code) == (400, code)
    if location is not None:
        assert issue.location == location
    assert issue.vi and issue.en and issue.vi != issue.en


def test_empty_query_does_not_restrict(hospital):
    assert find(hospital, "Encounter", "_query=&status=onleave") == {e["id"] for e in ENCOUNTERS
                                                                     if e["status"] == "onleave"}


# -- conformance over HTTP -----------------------------------------------------------------------------------

def test_capability_statement_and_operation_definitions(client):
    statement = client.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    listed = {}
    for rtype, entry in resources.items():
        params = {p["name"]: p for p in entry["searchParam"]}
        for op in entry.get("operation", []):
            if op["definition"].startswith("urn:benhan:fhir:OperationDefinition:"):
                listed[(rtype, op["name"])] = op["definition"]
                assert params["_query"]["definition"] == "http://hl7.org/fhir/SearchParameter/Resource-query"
        if not any(t == rtype for t, _ in QUERIES):
            assert "_query" not in params
    assert set(listed) == set(QUERIES) == {("Encounter", "current-inpatients"), ("Observation", "latest")}
    for (rtype, code), url in listed.items():
        resp = client.get(f"OperationDefinition/{rtype}-{code}")
        assert resp.status_code == 200
        definition = resp.json()
        assert (definition["url"], definition["kind"], definition["code"], definition["resource"]) == (
            url, "query", code, [rtype])
        validate_resource(definition)  # a valid R4 OperationDefinition; opd-0 and opd-2 by hand:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9_]{0,254}", definition["name"])
        for p in definition["parameter"]:
            assert p["use"] == "in" and p["type"] == "string" and p["searchType"] in ("reference", "token")
    latest = client.get("OperationDefinition/Observation-latest").json()
    assert {p["name"]: p["min"] for p in latest["parameter"]} == {"patient": 1, "code": 0}
    assert client.get("OperationDefinition/Observation-khong-co").status_code == 404


def test_over_http(client):
    for res in (*PATIENTS[:2], *ORGS, *LOCATIONS, ENCOUNTERS[-6], ENCOUNTERS[-5], ENCOUNTERS[-2]):
        assert client.put(f"{res['resourceType']}/{res['id']}", res).status_code == 201
    found = client.get("Encounter?_query=current-inpatients&location=Location/noi-p1").json()
    assert sorted(e["resource"]["id"] for e in found["entry"]) == ["f0", "f1"]
    resp = client.get("Encounter?_query=khong-co")
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["location"] == ["http._query"] and issue["code"] == "not-found"
    vi, en = issue["details"]["text"].split(" / ")
    assert "khong-co" in vi and "current-inpatients" in en
    resp = client.get("Encounter?_query=current-inpatients", headers={"Prefer": "handling=strict"})
    assert resp.status_code == 200  # implemented: strict handling has nothing to refuse


# -- access and audit ----------------------------------------------------------------------------------------

def _obs(oid: str, pid: str, when: str, *labels: str) -> dict[str, Any]:
    res = observation(oid, pid, [(LOINC, "8867-4")], {"effectiveDateTime": when}, "final")
    if labels:
        res["meta"] = {"security": [{"system": ACT, "code": code} for code in labels]}
    return res


def test_access_rules_and_audit_apply(secure):  # noqa: F811
    seed_two_departments(secure.admin)  # p1 with e1 in khoa-noi, p2 with e2 in khoa-ngoai (IMP, in progress)
    put(secure.admin, _obs("old", "p1", "2026-11-01"))
    put(secure.admin, _obs("new-hiv", "p1", "2026-11-02", "HIV"))  # newer, but sensitive: care team only
    put(secure.admin, _obs("p2-only", "p2", "2026-11-03"))
    admin_inpatients = secure.admin.get("Encounter?_query=current-inpatients").json()
    assert {e["resource"]["id"] for e in admin_inpatients["entry"]} == {"e1", "e2"}
    admin_latest = secure.admin.get("Observation?_query=latest&patient=p1,p2").json()
    assert {e["resource"]["id"] for e in admin_latest["entry"]} == {"new-hiv", "p2-only"}

    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])  # sees p1, not p2, not HIV
    seen = doctor.get("Encounter?_query=current-inpatients").json()
    assert [e["resource"]["id"] for e in seen["entry"] if e["search"]["mode"] == "match"] == ["e1"]
    latest = doctor.get("Observation?_query=latest&patient=p1,p2").json()
    # the hidden newer result neither shows nor hides the older one the doctor may see
    assert [e["resource"]["id"] for e in latest["entry"] if e["search"]["mode"] == "match"] == ["old"]
    with secure.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.username, audit_log.c.entity, audit_log.c.patients)
                            .where(audit_log.c.username == "bs.binh").order_by(audit_log.c.seq)).all()
    searches = [r for r in rows if r.entity and "_query=" in r.entity]
    assert any("current-inpatients" in r.entity and r.patients == ",p1," for r in searches)
    assert any("latest" in r.entity and r.patients == ",p1," for r in searches)
