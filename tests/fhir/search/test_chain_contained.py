"""Chained parameters through local references (``#id``) into contained resources (R4 search.html, "Contained
resources": a chained condition is evaluated inside contained resources), ``_has`` and ``_list`` on contained
rows, access, paging, includes, updates; a hypothesis comparison with a brute-force resolver."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benhan.fhir.errors import FhirError
from benhan.fhir.search.engine import build_where
from tests.security.conftest import put, secure, seed_two_departments  # noqa: F401  (secure: a fixture)

from ..test_query_counts import counting
from .conftest import BASE, VN_PATIENTS, find, ids, run, store

DRUGS = "http://benhan.test/thuoc"


def med(mid: str, code: str, manufacturer: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Medication", "id": mid,
                           "code": {"coding": [{"system": DRUGS, "code": code}], "text": f"Thuốc {code}"}}
    if manufacturer:
        res["manufacturer"] = {"reference": manufacturer}
    return res


def org(oid: str, name: str) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": oid, "name": name}


def order(oid: str, patient: str, medication: str | None, *contained: dict[str, Any], **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": oid, "status": "active", "intent": "order",
                           "subject": {"reference": f"Patient/{patient}"}}
    if medication is not None:
        res["medicationReference"] = {"reference": medication}
    else:
        res["medicationCodeableConcept"] = {"text": "Thuốc kê ngoài danh mục"}
    if contained:
        res["contained"] = list(contained)
    res.update(extra)
    return res


def obs(oid: str, subject: str, *contained: dict[str, Any], **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Observation", "id": oid, "status": "final", "code": {"text": "Mạch"},
                           "subject": {"reference": subject}}
    if contained:
        res["contained"] = list(contained)
    res.update(extra)
    return res


def contained_patient(pid: str, family: str, given: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": family, "given": [given]}]}


@pytest.fixture
def world(engine):
    store(engine, *VN_PATIENTS,
          org("dhg", "Dược Hậu Giang"), org("imex", "Imexpharm"),
          med("para-kho", "PARA500", "Organization/imex"),
          med("m1", "CEFU500"),  # a stored Medication whose id is also a local id in the containers below
          # contained Medication -> a stored Organization
          order("don-1", "anh", "#m1", med("m1", "PARA500", "Organization/dhg")),
          # contained Medication -> a sibling contained Organization; m2 is named by another element only
          order("don-2", "dao", "#m1", med("m1", "AMOX250", "#nsx"), med("m2", "PARA500"),
                org("nsx", "Công ty Mekophar"), supportingInformation=[{"reference": "#m2"}]),
          order("don-3", "duc", "Medication/para-kho"),  # a stored Medication
          # "#khong-co" names nothing; the contained PARA500 is named by another element only
          order("don-4", "hoa", "#khong-co", med("m1", "PARA500"), supportingInformation=[{"reference": "#m1"}]),
          order("don-5", "hoa", "Medication/m1"),  # the stored m1 (CEFU500)
          order("don-6", "anh", None),  # no reference at all
          obs("o1", "#p1", contained_patient("p1", "Nguyễn", "Bình")),
          obs("o2", "#l1", {"resourceType": "Location", "id": "l1", "name": "Nguyễn Trãi"}),
          obs("o3", "Patient/anh"),  # Nguyễn Văn Ánh, stored
          obs("o4", "#p1", contained_patient("p1", "Lê", "Hương")),  # same local id as o1, another container
          obs("o5", "Patient/dao", contained_patient("p1", "Nguyễn", "Cường"), performer=[{"reference": "#p1"}]),
          obs("o6", "Patient/duc", basedOn=[{"reference": "MedicationRequest/don-1"}]))
    return engine


@pytest.mark.parametrize(("rtype", "query", "expected"), [
    # the example of the brief: a contained Medication with the code
    ("MedicationRequest", "medication.code=PARA500", {"don-1", "don-3"}),  # contained and stored, one search
    ("MedicationRequest", f"medication.code={DRUGS}|PARA500", {"don-1", "don-3"}),
    ("MedicationRequest", "medication:Medication.code=AMOX250", {"don-2"}),
    ("MedicationRequest", "medication.code=CEFU500", {"don-5"}),  # the stored m1, not a contained m1
    ("MedicationRequest", "medication.code:text=thuoc amox", {"don-2"}),
    ("MedicationRequest", "medication.code=PARA500,AMOX250", {"don-1", "don-2", "don-3"}),
    ("MedicationRequest", "medication.code=PARA500&subject=Patient/anh", {"don-1"}),
    ("MedicationRequest", "medication._id=m1", {"don-1", "don-2", "don-5"}),
    # depth 2: contained -> stored, contained -> contained sibling, stored -> stored
    ("MedicationRequest", "medication.manufacturer.name=dược hậu", {"don-1"}),
    ("MedicationRequest", "medication.manufacturer.name=duoc hau giang", {"don-1"}),
    ("MedicationRequest", "medication.manufacturer.name=công ty mekophar", {"don-2"}),
    ("MedicationRequest", "medication.manufacturer.name=imex", {"don-3"}),
    ("MedicationRequest", "medication.manufacturer:Organization._id=dhg,imex", {"don-1", "don-3"}),
    # a contained Patient; the type filter checks the contained resource's type
    ("Observation", "subject:Patient.name=nguyen", {"o1", "o3"}),
    ("Observation", "subject:Patient.name=Nguyễn Bình", {"o1"}),
    ("Observation", "patient.name=nguyen", {"o1", "o3"}),
    ("Observation", "subject.name=nguyen", {"o1", "o2", "o3"}),  # any target type: also the contained Location
    ("Observation", "subject:Location.name=nguyen", {"o2"}),
    ("Observation", "subject:Patient.name=lê", {"o4"}),  # o1's p1 is not o4's p1
    ("Observation", "subject:Patient.name=cuong", set()),  # o5's p1 is its performer, not its subject
    ("Observation", "performer:Patient.name=cuong", {"o5"}),
    # a chain through a stored resource into that resource's contained one (depth 2)
    ("Observation", "based-on:MedicationRequest.medication.code=PARA500", {"o6"}),
    ("Observation", "based-on:MedicationRequest.medication.manufacturer.name=duoc", {"o6"}),
    # reverse chains: the referring resource is stored, its own chain may go inside it
    ("Patient", "_has:MedicationRequest:subject:medication.code=PARA500", {"anh", "duc"}),
    ("Patient", "_has:Observation:subject:code:text=mach", {"anh", "dao", "duc"}),  # not the contained subjects
    # _filter uses the same chains
    ("MedicationRequest", "_filter=medication.code eq PARA500", {"don-1", "don-3"}),
    ("MedicationRequest", "_filter=not (medication.code eq PARA500)", {"don-2", "don-4", "don-5", "don-6"}),
])
def test_chains_follow_local_references(world, rtype, query, expected):
    assert find(world, rtype, query) == expected, query


def test_contained_resources_named_by_other_elements_or_missing_never_match(world):
    # don-2 contains a PARA500 (m2) named only by supportingInformation; don-4 names "#khong-co", which it lacks
    assert "don-2" not in find(world, "MedicationRequest", "medication.code=PARA500")
    assert "don-4" not in find(world, "MedicationRequest", "medication.code=PARA500")
    assert find(world, "MedicationRequest", "medication.code:missing=false") == {"don-1", "don-2", "don-3", "don-5"}
    # and a plain reference search never treats "#m1" as a stored Medication/m1
    assert find(world, "MedicationRequest", "medication=Medication/m1") == {"don-5"}
    assert find(world, "MedicationRequest", "medication=m1") == {"don-5"}


def test_contained_searches_follow_siblings_and_the_container(world):
    # a contained Medication whose manufacturer is a sibling contained Organization
    assert find(world, "Medication", "manufacturer.name=cong ty meko&_contained=true") == {"don-2"}
    got = run(world, "Medication", "manufacturer.name=cong ty meko&_contained=true&_containedType=contained")
    assert [e["fullUrl"] for e in got["entry"]] == [f"{BASE}/MedicationRequest/don-2#m1"]
    assert find(world, "Medication", "manufacturer.name=duoc&_contained=true") == {"don-1"}
    # "#" from a contained resource names its container (R4 references.html)
    provenance = {"resourceType": "Provenance", "id": "nguon", "target": [{"reference": "#"}],
                  "recorded": "2024-05-01T08:00:00+07:00", "agent": [{"who": {"reference": "Practitioner/bs-lan"}}]}
    store(world, {"resourceType": "Practitioner", "id": "bs-lan", "name": [{"family": "Phạm", "given": ["Lan"]}]},
          order("don-7", "dao", None, provenance))
    assert find(world, "Provenance", "target:MedicationRequest.subject.name=trần&_contained=true") == {"don-7"}
    assert find(world, "Provenance", "target:MedicationRequest.subject.name=đỗ&_contained=true") == set()
    assert find(world, "Provenance", "target:Patient.name=trần&_contained=true") == set()  # the container's type


def test_has_and_list_on_contained_rows_mean_their_container(world):
    # reverse chains onto a contained Medication: only its container can name it (as "#id"); the stored
    # Medication/m1 named by don-5 (on-hold) must not make the contained m1s match
    store(world, order("don-5", "hoa", "Medication/m1", status="on-hold"))
    query = "_contained=true&_containedType=contained&_has:MedicationRequest:medication:"
    urls = {e["fullUrl"] for e in run(world, "Medication", query + "status=active")["entry"]}
    assert urls == {f"{BASE}/MedicationRequest/don-1#m1", f"{BASE}/MedicationRequest/don-2#m1"}
    assert run(world, "Medication", query + "status=on-hold").get("entry", []) == []
    got = run(world, "Medication", query + "subject.name=trần")
    assert [e["fullUrl"] for e in got["entry"]] == [f"{BASE}/MedicationRequest/don-2#m1"]
    assert find(world, "Medication", "_has:MedicationRequest:medication:status=on-hold") == {"m1"}  # stored m1
    # _list: a List naming the stored Medication/m1 does not list contained m1s; a List's own "#id" entry does
    store(world, {"resourceType": "List", "id": "ds-thuoc", "status": "current", "mode": "working",
                  "entry": [{"item": {"reference": "Medication/m1"}}, {"item": {"reference": "#tu-thuoc"}}],
                  "contained": [med("tu-thuoc", "IBU400")]})
    assert find(world, "Medication", "_list=ds-thuoc") == {"m1"}
    assert find(world, "Medication", "_list=ds-thuoc&_contained=true") == {"ds-thuoc"}
    listed = run(world, "Medication", "_list=ds-thuoc&_contained=true&_containedType=contained")
    assert [e["fullUrl"] for e in listed["entry"]] == [f"{BASE}/List/ds-thuoc#tu-thuoc"]


def test_updates_and_deletes_of_the_container(world):
    store(world, order("don-1", "anh", "#m1", med("m1", "IBU400", "Organization/imex")))
    assert find(world, "MedicationRequest", "medication.code=PARA500") == {"don-3"}
    assert find(world, "MedicationRequest", "medication.code=IBU400") == {"don-1"}
    assert find(world, "MedicationRequest", "medication.manufacturer.name=duoc") == set()
    assert find(world, "MedicationRequest", "medication.manufacturer.name=imex") == {"don-1", "don-3"}
    store(world, order("don-1", "anh", "Medication/para-kho"))  # the contained Medication is gone
    assert find(world, "MedicationRequest", "medication.code=IBU400") == set()
    assert find(world, "MedicationRequest", "medication.code=PARA500") == {"don-1", "don-3"}
    store(world, obs("o1", "#p1", contained_patient("p1", "Phan", "Bình")))
    assert find(world, "Observation", "subject:Patient.name=nguyen") == {"o3"}
    from benhan.fhir.repository import Repository
    with world.begin() as conn:
        Repository(conn, base_url=BASE).delete("Observation", "o1")
    assert find(world, "Observation", "subject:Patient.name=phan") == set()


class Hide:
    """An access filter hiding some resources by id (everything else visible), as FhirGuard's search side would."""

    def __init__(self, *hidden: str) -> None:
        self.hidden = list(hidden)

    def search_conditions(self, r: Any, rtype: str | None) -> list[Any]:
        return [r.c.id.not_in(self.hidden)]

    def after_search(self, conn: Any, rtype: str | None, params: Any, rows: list[Any], included: list[Any],
                     compartment: Any = None) -> list[Any]:
        return included


def test_a_hidden_container_never_makes_anything_match(world):
    hide = Hide("don-1")
    assert find(world, "MedicationRequest", "medication.code=PARA500", access=hide) == {"don-3"}
    # don-1 is the middle of the chain: its contained Medication must not decide for o6
    assert find(world, "Observation", "based-on:MedicationRequest.medication.code=PARA500", access=hide) == set()
    assert find(world, "Observation", "based-on:MedicationRequest.medication.code=PARA500",
                access=Hide("o1")) == {"o6"}
    assert find(world, "Patient", "_has:MedicationRequest:subject:medication.code=PARA500", access=hide) == {"duc"}
    assert find(world, "Medication", "code=PARA500&_contained=true", access=hide) == {"don-2", "don-4"}
    assert find(world, "Medication", "manufacturer.name=duoc&_contained=true", access=hide) == set()
    # hiding the stored Organization stops the contained -> stored link, not the contained -> contained one
    assert find(world, "MedicationRequest", "medication.manufacturer.name=duoc", access=Hide("dhg")) == set()
    meko = "medication.manufacturer.name=cong ty meko"
    assert find(world, "MedicationRequest", meko, access=Hide("dhg")) == {"don-2"}


def _link(bundle: dict, relation: str) -> str | None:
    return next((lk["url"] for lk in bundle["link"] if lk["relation"] == relation), None)


def test_paging_sort_total_and_includes_with_a_contained_hop(world):
    orders = [order(f"toa-{i:02d}", VN_PATIENTS[i % 4]["id"], "#thuoc", med("thuoc", "PARA500"),
                    authoredOn=f"2024-05-{i + 1:02d}") for i in range(9)]
    orders += [order(f"kho-{i:02d}", "dao", "Medication/para-kho", authoredOn=f"2024-06-{i + 1:02d}")
               for i in range(3)]
    store(world, *orders)
    expected = [o["id"] for o in sorted(orders, key=lambda o: o["authoredOn"], reverse=True)]
    first = run(world, "MedicationRequest", "medication.code=PARA500&authoredon=ge2024&_sort=-authoredon"
                "&_count=5&_total=accurate&_include=MedicationRequest:subject&_include=MedicationRequest:medication")
    assert first["total"] == 12
    seen, page = ids(first), first
    included = set(ids(first, "include"))
    while (nxt := _link(page, "next")) is not None:
        parts = urlsplit(nxt)
        assert ("medication.code", "PARA500") in parse_qsl(parts.query)
        page = run(world, "MedicationRequest", parts.query)
        seen += ids(page)
        included |= set(ids(page, "include"))
    assert seen == expected
    assert included == {"anh", "dao", "duc", "hoa", "para-kho"}  # contained Medications are not included
    counted = run(world, "MedicationRequest", "medication.code=PARA500&_summary=count")
    assert counted["total"] == 14  # don-1, don-3 and the twelve above


@pytest.mark.parametrize("query", [
    "medication:Patient.code=x",  # medication cannot refer to a Patient
    "medication:Khong.code=x",
    "medication.code:khong=x",
])
def test_bad_chains_are_400(world, query):
    with pytest.raises(FhirError) as info:
        run(world, "MedicationRequest", query)
    assert info.value.status == 400


def test_unknown_chained_parameter_is_reported_once(world):
    bundle = run(world, "MedicationRequest", "medication.manufacturer.khong-co=1")
    outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1 and len(outcomes[0]["issue"]) == 1


def test_no_contained_branch_for_types_no_container_holds(engine):
    """A link compiles its ``#id`` branch only for target types some container holds: in a database without
    contained Medications ``medication.code`` is the stored-only SQL, plus one probe statement."""
    store(engine, *VN_PATIENTS, med("kho", "PARA500"), order("d1", "anh", "Medication/kho"))

    def sql(rtype: str, query: str) -> str:
        with engine.connect() as conn:
            where, _, _ = build_where(conn, rtype, parse_qsl(query), base_url=BASE, strict=False, warnings=[])
            return " ".join(str(w.compile(conn)) for w in where)

    assert "contained_resource" not in sql("MedicationRequest", "medication.code=PARA500")
    with counting(engine) as statements:
        assert find(engine, "MedicationRequest", "medication.code=PARA500") == {"d1"}
    assert statements["SELECT"] == 2  # the probe and the page (the total is free on a first page holding all)
    store(engine, order("d2", "dao", "#m1", med("m1", "PARA500")))
    assert "contained_resource" in sql("MedicationRequest", "medication.code=PARA500")
    assert find(engine, "MedicationRequest", "medication.code=PARA500") == {"d1", "d2"}
    assert "contained_resource" not in sql("MedicationRequest", "subject:Patient.name=nguyen")  # no Patient held


# -- over HTTP -------------------------------------------------------------------------------------------------

def test_over_http(client):
    assert client.put("Patient/p1", VN_PATIENTS[0] | {"id": "p1"}).status_code == 201
    created = client.create(order("x", "p1", "#m1", med("m1", "PARA500")))
    found = client.get("MedicationRequest?medication.code=PARA500").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]
    assert found["total"] == 1
    assert client.get("MedicationRequest?medication.code=AMOX250").json().get("entry", []) == []
    obs_created = client.create(obs("x", "#p1", contained_patient("p1", "Nguyễn", "Bình")))
    got = client.get("Observation?subject:Patient.name=nguy%E1%BB%85n").json()
    assert [e["resource"]["id"] for e in got["entry"]] == [obs_created["id"]]


def test_restricted_user_over_http(secure):  # noqa: F811
    seed_two_departments(secure.admin)
    put(secure.admin, order("d1", "p1", "#m1", med("m1", "PARA500")))
    put(secure.admin, order("d2", "p2", "#m1", med("m1", "PARA500")))
    admin = secure.admin.get("MedicationRequest?medication.code=PARA500").json()
    assert {e["resource"]["id"] for e in admin["entry"]} == {"d1", "d2"}
    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])  # sees p1, not p2
    seen = doctor.get("MedicationRequest?medication.code=PARA500").json()
    assert {e["resource"]["id"] for e in seen["entry"] if e["search"]["mode"] == "match"} == {"d1"}
    patients = doctor.get("Patient?_has:MedicationRequest:subject:medication.code=PARA500").json()
    assert {e["resource"]["id"] for e in patients["entry"] if e["search"]["mode"] == "match"} == {"p1"}


# -- brute force ----------------------------------------------------------------------------------------------

CODES = ["PARA500", "AMOX250", "IBU400"]
MAKERS = ["Dược Hậu Giang", "Imexpharm", "Mekophar"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def make_dataset(seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Stored Organizations and Medications, prescriptions whose medication is stored, contained (with a stored,
    a sibling contained or no manufacturer), missing or absent."""
    rnd = random.Random(seed)
    stored: list[dict[str, Any]] = [org(f"nsx-{i}", name) for i, name in enumerate(MAKERS)]
    stored += [med(f"kho-{i}", rnd.choice(CODES), rnd.choice([None, *(f"Organization/nsx-{j}" for j in range(3))]))
               for i in range(5)]
    orders = []
    for i in range(30):
        contained: list[dict[str, Any]] = []
        for j in range(rnd.randint(0, 3)):
            maker = rnd.choice([None, "stored", "sibling"])
            ref = (f"Organization/nsx-{rnd.randrange(3)}" if maker == "stored"
                   else "#o" if maker == "sibling" else None)
            contained.append(med(f"m{j}", rnd.choice(CODES), ref))
        if any(m.get("manufacturer", {}).get("reference") == "#o" for m in contained):
            contained.append(org("o", rnd.choice(MAKERS)))
        local = [f"#{c['id']}" for c in contained if c["resourceType"] == "Medication"]
        choices = [None, "#m9", f"Medication/kho-{rnd.randrange(5)}", *local]
        target = rnd.choice(choices)
        extra = {"supportingInformation": [{"reference": f"#{c['id']}"} for c in contained]} if contained else {}
        orders.append(order(f"don-{i}", VN_PATIENTS[i % 4]["id"], target, *contained,
                            status=rnd.choice(["active", "completed"]), **extra))
    return stored, orders


STORED, ORDERS = make_dataset()


def _medication(o: dict[str, Any]) -> dict[str, Any] | None:
    """The Medication ``medicationReference`` names: a contained one by ``#id``, else a stored one."""
    ref = o.get("medicationReference", {}).get("reference")
    if ref is None:
        return None
    if ref.startswith("#"):
        return next((c for c in o.get("contained", []) if c["id"] == ref[1:] and c["resourceType"] == "Medication"),
                    None)
    return next((m for m in STORED if f"Medication/{m['id']}" == ref), None)


def _maker(o: dict[str, Any], m: dict[str, Any]) -> str | None:
    ref = m.get("manufacturer", {}).get("reference")
    if ref is None:
        return None
    if ref.startswith("#"):  # a sibling, only when the Medication is itself contained in o
        if m not in o.get("contained", []):
            return None
        return next((c["name"] for c in o["contained"] if c["id"] == ref[1:] and c["resourceType"] == "Organization"),
                    None)
    return next((s["name"] for s in STORED if f"Organization/{s['id']}" == ref), None)


def test_chains_into_contained_resources_equal_brute_force(engine):
    store(engine, *VN_PATIENTS, *STORED, *ORDERS)
    from benhan.fhir.text import normalize

    @SETTINGS
    @given(codes=st.lists(st.sampled_from(CODES), max_size=2, unique=True),
           maker=st.one_of(st.none(), st.sampled_from(["duoc", "Dược Hậu", "imex", "meko", "x"])),
           status=st.one_of(st.none(), st.sampled_from(["active", "completed"])),
           typed=st.booleans())
    def check(codes, maker, status, typed):
        link = "medication:Medication" if typed else "medication"
        parts = []
        if codes:
            parts.append(f"{link}.code=" + ",".join(codes))
        if maker is not None:
            parts.append(f"{link}.manufacturer.name={maker}")
        if status is not None:
            parts.append(f"status={status}")
        expected = set()
        for o in ORDERS:
            m = _medication(o)
            if (codes or maker is not None) and m is None:
                continue
            if codes and m["code"]["coding"][0]["code"] not in codes:
                continue
            if maker is not None:
                name = _maker(o, m)
                if name is None or not normalize(name).startswith(normalize(maker)):
                    continue
            if status is not None and o["status"] != status:
                continue
            expected.add(o["id"])
        query = "&".join(parts)
        assert find(engine, "MedicationRequest", query) == expected, query

    check()


def test_brute_force_dataset_covers_every_kind_of_link():
    kinds = {("contained" if (r := o.get("medicationReference", {}).get("reference", "")).startswith("#m")
              and _medication(o) else "missing" if r.startswith("#") else "stored" if r else "none")
             for o in ORDERS}
    assert kinds == {"contained", "missing", "stored", "none"}
    makers = {m.get("manufacturer", {}).get("reference", "-")[:1] for o in ORDERS if (m := _medication(o))}
    assert {"#", "O", "-"} <= makers



def _encounter(eid: str, part_of: str | None, status: str = "in-progress") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Encounter", "id": eid, "status": status,
                           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}}
    if part_of:
        res["partOf"] = {"reference": part_of}
    return res


def test_deep_links_through_siblings_then_a_stored_resource(world):
    siblings = [_encounter(f"e{i}", f"#e{i + 1}") for i in range(1, 5)] + [_encounter("e5", "Encounter/goc")]
    store(world, _encounter("goc", None, "finished"),
          obs("o7", "Patient/anh", *siblings, encounter={"reference": "#e1"}))
    query = "encounter.part-of.part-of.part-of.part-of.status="
    assert find(world, "Observation", query + "in-progress") == {"o7"}  # e5, reached through four siblings
    assert find(world, "Observation", query + "finished") == set()
    assert find(world, "Observation", "encounter.part-of.part-of.part-of.status=in-progress") == {"o7"}
    # six links through types containers hold would compile 287 branches (budget.py): refused, as is a seventh link
    for links in (6, 7):
        with pytest.raises(FhirError) as info:
            run(world, "Observation", "encounter" + ".part-of" * (links - 1) + ".status=finished")
        assert (info.value.status, info.value.issues[0].code) == (400, "too-costly")
