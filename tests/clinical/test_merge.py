"""Merge and unmerge on both backends: references re-pointed and restored, twins refused, search follows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from benhan.clinical.mpi import find_patients, merge_patients, unmerge_patients
from benhan.fhir.errors import FhirError

from .conftest import BASE, form, make_cccd, registration, transaction


def _seed(engine: Engine) -> dict[str, Any]:
    """Two records of one person (source has an encounter, an observation and a coverage)."""
    with transaction(engine) as repo:
        reg = registration(repo)
        target = reg.register(form("Nguyễn Văn An", "1985-03-12", cccd=make_cccd("079", "male", 1985, 7))).patient
        source = reg.register(form("Nguyen Van An", "1985-12-03", card="DN4791234567890"),
                              confirmed_new=True)
        src = source.patient["id"]
        enc = repo.create({"resourceType": "Encounter", "status": "finished",
                           "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                           "subject": {"reference": f"Patient/{src}"}}).stored
        obs = repo.create({"resourceType": "Observation", "status": "final", "code": {"text": "Mạch"},
                           "subject": {"reference": f"{BASE}/Patient/{src}"},
                           "encounter": {"reference": f"Encounter/{enc.id}"},
                           "valueQuantity": {"value": 80, "unit": "/min"}}).stored
        return {"target": target["id"], "source": src, "encounter": enc.id, "observation": obs.id,
                "coverage": source.coverage["id"]}


def _subject(engine: Engine, rtype: str, rid: str, path: str = "subject") -> str:
    with transaction(engine) as repo:
        return repo.read(rtype, rid).resource()[path]["reference"]


def test_merge_and_unmerge_round_trip(engine: Engine) -> None:
    ids = _seed(engine)
    src, tgt = ids["source"], ids["target"]
    with transaction(engine) as repo:
        result = merge_patients(repo, src, tgt, author="Lê Thị Tiếp Đón", reason="Trùng hồ sơ")
    assert result.source["active"] is False
    assert result.source["link"] == [{"other": {"reference": f"Patient/{tgt}"}, "type": "replaced-by"}]
    assert result.target["link"] == [{"other": {"reference": f"Patient/{src}"}, "type": "replaces"}]
    assert sorted(result.changed) == sorted([f"Encounter/{ids['encounter']}", f"Observation/{ids['observation']}",
                                             f"Coverage/{ids['coverage']}"])
    assert result.record["activity"]["coding"][0]["code"] == "merge"
    assert result.event("mpi.merge")["entities"][0] == f"Patient/{src}"
    assert _subject(engine, "Encounter", ids["encounter"]) == f"Patient/{tgt}"
    assert _subject(engine, "Observation", ids["observation"]) == f"{BASE}/Patient/{tgt}"
    assert _subject(engine, "Coverage", ids["coverage"], "beneficiary") == f"Patient/{tgt}"

    with transaction(engine) as repo:  # a search that finds the merged-away record returns the survivor
        hits = find_patients(repo, [("identifier", "http://fhir.ehealth.gov.vn/core/sid/insurance_number|1234567890")])
        assert [(h.patient["id"], h.via) for h in hits] == [(tgt, (src,))]
        everything = repo.find("Encounter", f"subject=Patient/{tgt}")
        assert everything == [ids["encounter"]]
    again = registration_of(engine, form("Nguyễn Văn An", card="1234567890"))
    assert again.outcome == "existing" and again.patient["id"] == tgt  # hard duplicate follows the link

    with transaction(engine) as repo:
        undone = unmerge_patients(repo, src, author="Lê Thị Tiếp Đón")
    assert undone.source.get("active") is True and "link" not in undone.source
    assert "link" not in undone.target and not undone.not_restored
    assert _subject(engine, "Encounter", ids["encounter"]) == f"Patient/{src}"
    assert _subject(engine, "Observation", ids["observation"]) == f"{BASE}/Patient/{src}"
    assert _subject(engine, "Coverage", ids["coverage"], "beneficiary") == f"Patient/{src}"
    with transaction(engine) as repo:
        history = repo.vread("Encounter", ids["encounter"], "2").resource()
        assert history["subject"]["reference"] == f"Patient/{tgt}"  # the merged version stays in history
        hits = find_patients(repo, [("identifier", "http://fhir.ehealth.gov.vn/core/sid/insurance_number|1234567890")])
        assert [h.patient["id"] for h in hits] == [src]
        with pytest.raises(FhirError) as err:
            unmerge_patients(repo, src)
        assert err.value.status == 409


def registration_of(engine: Engine, f):  # type: ignore[no-untyped-def]
    with transaction(engine) as repo:
        return registration(repo).register(f)


def test_unmerge_after_later_change_points_back(engine: Engine) -> None:
    ids = _seed(engine)
    src, tgt = ids["source"], ids["target"]
    with transaction(engine) as repo:
        merge_patients(repo, src, tgt)
    with transaction(engine) as repo:
        enc = repo.read("Encounter", ids["encounter"]).resource()
        enc["status"] = "cancelled"
        repo.update("Encounter", ids["encounter"], enc)
    with transaction(engine) as repo:
        undone = unmerge_patients(repo, src)
    assert undone.not_restored == [f"Encounter/{ids['encounter']}"]
    with transaction(engine) as repo:
        enc = repo.read("Encounter", ids["encounter"]).resource()
    assert enc["subject"]["reference"] == f"Patient/{src}" and enc["status"] == "cancelled"


def test_twins_with_different_cccd_are_never_merged(engine: Engine) -> None:
    with transaction(engine) as repo:
        reg = registration(repo)
        a = reg.register(form("Lê Văn Anh", "2000-04-05", cccd=make_cccd("079", "male", 2000, 1))).patient
        b = reg.register(form("Lê Văn Anh", "2000-04-05", cccd=make_cccd("079", "male", 2000, 2))).patient
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        merge_patients(repo, a["id"], b["id"])
    assert err.value.status == 409 and "sinh đôi" in err.value.issues[0].vi
    with transaction(engine) as repo:
        assert repo.read("Patient", a["id"]).resource()["active"] is True


def test_merge_refusals(engine: Engine) -> None:
    ids = _seed(engine)
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        merge_patients(repo, ids["source"], ids["source"])
    assert err.value.status == 422
    with transaction(engine) as repo:
        merge_patients(repo, ids["source"], ids["target"])
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        merge_patients(repo, ids["source"], ids["target"])
    assert err.value.status == 409
    with pytest.raises(FhirError) as err, transaction(engine) as repo:
        reg = registration(repo)
        other = reg.register(form("Phạm Thị Cúc", "1970-01-01", "female")).patient
        merge_patients(repo, other["id"], ids["source"])
    assert err.value.status == 409 and ids["target"] in err.value.issues[0].en


def test_signed_records_stay_on_the_merged_away_patient(engine: Engine) -> None:
    """A signed record is final: the merge leaves it on the source (reached through replaced-by), the rest moves."""
    ids = _seed(engine)
    src, tgt = ids["source"], ids["target"]
    with transaction(engine) as repo:
        encounter = repo.read("Encounter", ids["encounter"]).resource()
        encounter["meta"] = {"tag": [{"system": "urn:benhan:fhir:record-state", "code": "signed"}]}
        with repo.as_signer():  # only signing may add the signed tag
            repo.update("Encounter", ids["encounter"], encounter)
    with transaction(engine) as repo:
        result = merge_patients(repo, src, tgt, reason="Trùng hồ sơ")
    assert result.kept_signed == [f"Encounter/{ids['encounter']}"]
    assert f"Encounter/{ids['encounter']}" not in result.changed
    assert _subject(engine, "Encounter", ids["encounter"]) == f"Patient/{src}"
    assert _subject(engine, "Observation", ids["observation"]) == f"{BASE}/Patient/{tgt}"
