"""Type- and system-level ``_history`` and ``$meta`` for users limited by relationship: only the versions
they may see, filtered in SQL so totals and pages never count the rest; deleted records never leak."""

from __future__ import annotations

from sqlalchemy import select

from benhan.security.tables import audit_log

from .conftest import encounter, observation, patient, put, seed_two_departments


def _seed(secure):  # type: ignore[no-untyped-def]
    seed_two_departments(secure.admin)
    put(secure.admin, observation("o1", "p1"))
    put(secure.admin, {**observation("o1", "p1"), "meta": {"tag": [{"system": "urn:t", "code": "noi"}]}})
    put(secure.admin, observation("o1-hiv", "p1", "HIV"))  # p1's, but sensitive: care team only
    put(secure.admin, {**observation("o2", "p2"), "meta": {"tag": [{"system": "urn:t", "code": "ngoai"}]}})
    put(secure.admin, observation("o2b", "p2"))
    put(secure.admin, observation("o-del", "p1"))
    assert secure.admin.delete("Observation/o-del").status_code == 204


def _ids(bundle) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["fullUrl"].split("/fhir/", 1)[1] for e in bundle.get("entry", [])]


def test_type_history_shows_only_the_departments_versions(secure):
    _seed(secure)
    noi = secure.as_user("bs.noi", ["doctor"], departments=["khoa-noi"])
    ngoai = secure.as_user("bs.ngoai", ["doctor"], departments=["khoa-ngoai"])
    resp = noi.get("Observation/_history")
    assert resp.status_code == 200, resp.text
    bundle = resp.json()
    assert _ids(bundle) == ["Observation/o1", "Observation/o1"]  # both versions; not HIV, not deleted
    assert bundle["total"] == 2
    other = ngoai.get("Observation/_history").json()
    assert sorted(_ids(other)) == ["Observation/o2", "Observation/o2b"] and other["total"] == 2
    # paging counts only what is visible
    page = noi.get("Observation/_history?_count=1").json()
    assert page["total"] == 2 and len(page["entry"]) == 1
    nxt = next(link["url"] for link in page["link"] if link["relation"] == "next")
    page2 = noi.get(nxt.split("/fhir/", 1)[1]).json()
    assert _ids(page2) == ["Observation/o1"] and not any(link["relation"] == "next" for link in page2["link"])
    # the unrestricted view still has everything, tombstone included
    everything = secure.admin.get("Observation/_history").json()
    assert everything["total"] == 7 and "Observation/o-del" in _ids(everything)


def test_system_history_hides_other_patients_and_deleted_records(secure):
    _seed(secure)
    noi = secure.as_user("bs.noi", ["doctor"], departments=["khoa-noi"])
    bundle = noi.get("_history?_count=100").json()
    ids = set(_ids(bundle))
    assert {"Patient/p1", "Encounter/e1", "Observation/o1", "Organization/khoa-noi"} <= ids
    assert not ids & {"Patient/p2", "Encounter/e2", "Observation/o2", "Observation/o2b", "Observation/o1-hiv",
                      "Observation/o-del"}
    assert bundle["total"] == len(bundle["entry"])
    with secure.engine.connect() as conn:
        row = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).mappings().one()
    assert (row["action"], row["outcome"], row["username"]) == ("history", 200, "bs.noi")
    assert row["patients"] == ",p1," and row["entity"].startswith("_history")


def test_current_version_decides_the_compartment_of_all_versions(secure):
    _seed(secure)
    put(secure.admin, observation("o-moved", "p2"))
    put(secure.admin, observation("o-moved", "p1"))  # corrected: it was p1's
    noi = secure.as_user("bs.noi", ["doctor"], departments=["khoa-noi"])
    ngoai = secure.as_user("bs.ngoai", ["doctor"], departments=["khoa-ngoai"])
    assert _ids(noi.get("Observation/_history?_count=100").json()).count("Observation/o-moved") == 2
    assert "Observation/o-moved" not in _ids(ngoai.get("Observation/_history?_count=100").json())
    assert noi.get("Observation/o-moved/_history").status_code == 200  # as instance history and vread
    assert ngoai.get("Observation/o-moved/_history/1").status_code == 403


def test_patient_portal_history_and_type_without_access(secure):
    _seed(secure)
    portal = secure.as_user("nb.p2", ["patient"], scope="patient/*.rs", patient="p2")
    assert sorted(set(_ids(portal.get("Observation/_history").json()))) == ["Observation/o2", "Observation/o2b"]
    reception = secure.as_user("td.an", ["reception"])
    assert reception.get("Observation/_history").status_code == 403  # no clinical types at all
    assert reception.get("Patient/_history").json()["total"] == 2  # facility-wide administrative data


def test_type_and_system_meta_show_only_visible_tags(secure):
    _seed(secure)
    noi = secure.as_user("bs.noi", ["doctor"], departments=["khoa-noi"])
    for path in ("Observation/$meta", "$meta"):
        resp = noi.get(path)
        assert resp.status_code == 200, resp.text
        meta = resp.json()["parameter"][0]["valueMeta"]
        assert [t["code"] for t in meta.get("tag", [])] == ["noi"], path
    admin_meta = secure.admin.get("Observation/$meta").json()["parameter"][0]["valueMeta"]
    assert sorted(t["code"] for t in admin_meta["tag"]) == ["ngoai", "noi"]
    assert secure.as_user("td.an", ["reception"]).get("Observation/$meta").status_code == 403


def test_history_of_a_record_moved_by_a_patient_merge(secure):
    """After a merge the survivor's team sees every version of a re-pointed record at every history level
    (FHIR: the linked patient's records are in the survivor's compartment); others see none; and each
    access names the earlier patient too, so it is on that record's access list."""
    from benhan.clinical.mpi import merge_patients
    from benhan.fhir.repository import Repository

    _seed(secure)
    put(secure.admin, {"resourceType": "Organization", "id": "khoa-san", "name": "khoa-san"})
    put(secure.admin, patient("p3"))  # a duplicate record of p1's person, seen at khoa-san
    put(secure.admin, encounter("e3", "p3", "khoa-san"))
    put(secure.admin, observation("o3", "p3"))
    with secure.tx() as conn:
        merge_patients(Repository(conn, base_url="http://testserver/fhir"), "p3", "p1", reason="Trùng hồ sơ")
    noi = secure.as_user("bs.noi", ["doctor"], departments=["khoa-noi"])
    ngoai = secure.as_user("bs.ngoai", ["doctor"], departments=["khoa-ngoai"])
    versions = noi.get("Observation/o3/_history").json()
    subjects = [e["resource"]["subject"]["reference"] for e in versions["entry"]]
    assert subjects == ["Patient/p1", "Patient/p3"] and versions["total"] == 2
    assert noi.get("Observation/o3/_history/1").json()["subject"]["reference"] == "Patient/p3"
    assert _ids(noi.get("Observation/_history?_count=100").json()).count("Observation/o3") == 2
    assert _ids(noi.get("_history?_count=200").json()).count("Observation/o3") == 2
    # a user outside the survivor's relationship sees none of them, at any level
    assert ngoai.get("Observation/o3/_history").status_code == 403
    assert ngoai.get("Observation/o3/_history/1").status_code == 403
    assert "Observation/o3" not in _ids(ngoai.get("Observation/_history?_count=100").json())
    assert "Observation/o3" not in _ids(ngoai.get("_history?_count=200").json())
    with secure.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.username == "bs.noi", audit_log.c.outcome == 200)
                            .order_by(audit_log.c.seq)).mappings().all()
    by_entity = {r["entity"].split("?")[0]: r["patients"] for r in rows if r["action"] in ("history", "vread")}
    for entity in ("Observation/o3", "Observation/o3/_history/1", "Observation/_history", "_history"):
        assert {"p1", "p3"} <= set(by_entity[entity].strip(",").split(",")), entity
    # the earlier patient's access list shows it (AuditEvent?patient=p3, as an auditor)
    auditor = secure.as_user("kt.an", ["auditor"])
    events = auditor.get("AuditEvent?patient=p3&_count=100").json()
    who = {a["who"]["identifier"]["value"] for e in events["entry"] for a in e["resource"]["agent"]}
    assert "bs.noi" in who
