"""The chain budget (search/budget.py): at most six links per parameter and 160 chain branches per search,
both a 400 ``too-costly`` naming the parameter; legal deep chains keep their exact results."""

from __future__ import annotations

from typing import Any

import pytest

from benhan.fhir.errors import FhirError
from benhan.fhir.search import budget

from .conftest import find, run, store

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def org(oid: str, name: str, parent: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Organization", "id": oid, "name": name}
    if parent:
        res["partOf"] = {"reference": f"Organization/{parent}"}
    return res


def encounter(eid: str, part_of: str | None, status: str) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Encounter", "id": eid, "status": status,
                           "class": {"system": ACT, "code": "IMP"}}
    if part_of:
        res["partOf"] = {"reference": f"Encounter/{part_of}"}
    return res


# Two hospital hierarchies (Sở Y tế > bệnh viện > khối > khoa > đơn nguyên), one patient under each leaf,
# and chains of stored Encounters (a stay and its transfers).
ORGS = [org("so-hn", "Sở Y tế Hà Nội"), org("bv-a", "Bệnh viện A", "so-hn"), org("khoi-a", "Khối Nội", "bv-a"),
        org("khoa-a", "Khoa Tim mạch", "khoi-a"), org("dn-a", "Đơn nguyên CCU", "khoa-a"),
        org("so-hcm", "Sở Y tế Hồ Chí Minh"), org("bv-b", "Bệnh viện B", "so-hcm"), org("khoa-b", "Khoa Nhi", "bv-b")]
PATIENTS = [{"resourceType": "Patient", "id": "p-a", "managingOrganization": {"reference": "Organization/dn-a"}},
            {"resourceType": "Patient", "id": "p-b", "managingOrganization": {"reference": "Organization/khoa-b"}}]
ENCOUNTERS = [encounter("e0", None, "finished")] + [encounter(f"e{i}", f"e{i - 1}", "in-progress") for i in range(1, 7)]
OBSERVATIONS = [{"resourceType": "Observation", "id": f"o-{p['id']}", "status": "final", "code": {"text": "Mạch"},
                 "subject": {"reference": f"Patient/{p['id']}"}, "encounter": {"reference": "Encounter/e6"}}
                for p in PATIENTS]
ALL = ORGS + PATIENTS + ENCOUNTERS + OBSERVATIONS


def _walk(resource: dict[str, Any], path: list[str]) -> list[dict[str, Any]]:
    """Brute force: the resources reached from ``resource`` through the reference elements of ``path``."""
    by_ref = {f"{r['resourceType']}/{r['id']}": r for r in ALL}
    current = [resource]
    for element in path:
        current = [by_ref[r[element]["reference"]] for r in current if element in r]
    return current


@pytest.fixture
def hospital(engine):
    store(engine, *ALL)
    return engine


def test_six_stored_links_give_the_brute_force_answer(hospital):
    names = {r["id"]: r.get("name", "") for r in ORGS}
    path = ["subject", "managingOrganization", "partOf", "partOf", "partOf", "partOf"]  # six links
    expected = {o["id"] for o in OBSERVATIONS if any(names[r["id"]] == "Sở Y tế Hà Nội" for r in _walk(o, path))}
    assert expected == {"o-p-a"}
    query = "subject:Patient.organization.partof.partof.partof.partof.name=sở y tế hà nội"
    assert find(hospital, "Observation", query) == expected
    assert find(hospital, "Observation", query.replace("hà nội", "hồ chí minh")) == set()  # khoa-b is two levels up
    assert find(hospital, "Observation", "subject:Patient.organization.partof.partof.name=sở y tế hồ chí minh") == {
        "o-p-b"}
    # six links through stored Encounters: e6 -> e1, then e0 is the seventh hop away from the Observation
    for hops in range(1, 7):
        chain = "encounter" + ".part-of" * (hops - 1)
        reached = _walk(OBSERVATIONS[0], ["encounter"] + ["partOf"] * (hops - 1))
        assert find(hospital, "Observation", f"{chain}._id={reached[0]['id']}") == {"o-p-a", "o-p-b"}


def test_a_seventh_link_is_too_costly(hospital):
    raw = "encounter" + ".part-of" * 6 + ".status"
    with pytest.raises(FhirError) as info:
        run(hospital, "Observation", f"{raw}=finished")
    issue = info.value.issues[0]
    assert (info.value.status, issue.code, issue.expression, issue.location) == (400, "too-costly", raw, f"http.{raw}")
    assert "6" in issue.en and "6" in issue.vi and issue.vi != issue.en


@pytest.mark.parametrize("query", [
    "_has:Observation:subject:_has:Provenance:target:_has:AuditEvent:entity:_has:Provenance:target:"
    "_has:Provenance:target:_has:Provenance:target:_has:Provenance:target:agent=x",  # seven _has
    "organization.partof.partof.partof.partof.partof.partof.name=x",  # seven links
    "_has:Observation:subject:encounter.part-of.part-of.part-of.part-of.part-of.status=x",  # one _has + six links
    "_filter=organization.partof.partof.partof.partof.partof.partof.name eq x",  # the same limit inside _filter
])
def test_links_are_counted_before_anything_is_compiled(hospital, query):
    with pytest.raises(FhirError) as info:
        run(hospital, "Patient", query)
    assert (info.value.status, info.value.issues[0].code) == (400, "too-costly")


def test_one_link_into_every_type_fits_the_budget(hospital):
    """``Provenance.target`` may be any resource: one link compiles a branch per type that has the parameter
    (145 for ``_id``), within the budget; a second link after it would multiply that and is refused."""
    store(hospital, {"resourceType": "Provenance", "id": "prov", "recorded": "2026-11-20T08:00:00+07:00",
                     "target": [{"reference": "Encounter/e3"}, {"reference": "Patient/p-b"}],
                     "agent": [{"who": {"reference": "Organization/bv-b"}}]})
    assert find(hospital, "Provenance", "target._id=e3") == {"prov"}
    assert find(hospital, "Provenance", "target._id=p-b") == {"prov"}
    assert find(hospital, "Provenance", "target._id=e4") == set()
    with pytest.raises(FhirError) as info:
        run(hospital, "Provenance", "target.subject.name=x")  # 313 branches
    assert (info.value.status, info.value.issues[0].code, info.value.issues[0].location) == (
        400, "too-costly", "http.target.subject.name")


def test_the_budget_is_per_search_not_per_parameter(hospital):
    assert find(hospital, "Provenance", "target._id=x") == set()  # 145 branches
    assert find(hospital, "Provenance", "target.identifier=x") == set()  # 112
    with pytest.raises(FhirError) as info:  # 257 together: the parameter that went over budget is named
        run(hospital, "Provenance", "target._id=x&target.identifier=x")
    assert info.value.issues[0].expression == "target.identifier"


def test_compiling_stops_at_the_first_branch_over_budget(hospital, monkeypatch):
    seen: list[int] = []
    real = budget.Context.count_branch

    def spy(self: Any) -> int:
        seen.append(real(self))
        return seen[-1]

    monkeypatch.setattr(budget.Context, "count_branch", spy)
    with pytest.raises(FhirError):
        run(hospital, "Provenance", "target.subject.name=x")
    assert seen[-1] == budget.MAX_BRANCHES + 1 and len(seen) == budget.MAX_BRANCHES + 1


def test_over_http(client):
    raw = "subject:Patient.organization.partof.partof.partof.partof.partof.name"
    resp = client.get(f"Observation?{raw}=x")
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["code"] == "too-costly" and issue["location"] == [f"http.{raw}"] and issue["expression"] == [raw]
    vi, en = issue["details"]["text"].split(" / ")
    assert "quá tốn kém" in vi and "too costly" in en
    resp = client.get("Provenance?target.subject.name=x")
    assert resp.status_code == 400 and resp.json()["issue"][0]["code"] == "too-costly"
    assert client.get("Observation?subject:Patient.organization.partof.partof.partof.partof.name=x").status_code == 200
