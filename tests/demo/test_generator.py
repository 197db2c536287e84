"""The generator: deterministic, valid FHIR R4, internally consistent references."""

from __future__ import annotations

from collections import Counter
from datetime import date

import orjson
import pytest

from benhan.demo import DemoSpec, Generator
from benhan.fhir.validation import validate_resource
from benhan.vn.rules import check_resource

TODAY = date(2026, 11, 22)


def _dump(spec: DemoSpec, patients: range) -> bytes:
    generator = Generator(spec)
    return orjson.dumps([generator.shared(), *[generator.patient(i) for i in patients]])


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    """Hospital + 60 patients with 3 years of history and today's activity (queue, bookings, wards)."""
    generator = Generator(DemoSpec(seed=11, patients=60, years=3, today=TODAY))
    return [*generator.shared(), *(r for i in range(60) for r in generator.patient(i))]


def test_same_seed_same_output_different_seed_different():
    spec = DemoSpec(seed=3, patients=12, years=2, today=TODAY)
    assert _dump(spec, range(12)) == _dump(spec, range(12))
    assert _dump(spec, range(12)) != _dump(DemoSpec(seed=4, patients=12, years=2, today=TODAY), range(12))


def test_patients_do_not_depend_on_order_or_on_each_other():
    spec = DemoSpec(seed=3, patients=12, years=2, today=TODAY)
    forward = Generator(spec)
    first = [forward.patient(i) for i in range(12)]
    backward = Generator(spec)
    assert [backward.patient(i) for i in reversed(range(12))] == list(reversed(first))
    assert Generator(spec).registration(5) == first[5][:len(Generator(spec).registration(5))]


def test_every_resource_is_valid_r4_and_passes_the_vietnamese_identifier_rules(sample):
    for resource in sample:
        validate_resource(resource, resource_type=resource["resourceType"])
        errors = [i for i in check_resource(resource, today=TODAY, warnings=True) if i.severity == "error"]
        assert not errors, (resource["resourceType"], errors)


def test_references_resolve_within_the_data_set(sample):
    ids = {f"{r['resourceType']}/{r['id']}" for r in sample}
    assert len(ids) == len(sample), "ids must be unique"

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("reference")
            if isinstance(ref, str):
                yield ref
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    missing = {ref for r in sample for ref in walk(r) if ref not in ids}
    assert not missing


def test_all_expected_resource_types_occur(sample):
    types = Counter(r["resourceType"] for r in sample)
    for rtype in ("Organization", "Location", "Practitioner", "PractitionerRole", "Patient", "Coverage", "Encounter",
                  "Condition", "Observation", "DiagnosticReport", "ServiceRequest", "MedicationRequest",
                  "Appointment"):
        assert types[rtype] > 0, rtype
    assert types["Observation"] > types["Encounter"] > types["Patient"]


def test_todays_activity(sample):
    encounters = [r for r in sample if r["resourceType"] == "Encounter"]
    today = TODAY.isoformat()
    statuses = Counter(e["status"] for e in encounters if e["period"]["start"].startswith(today))
    assert statuses["arrived"] > 0 and statuses["in-progress"] > 0
    inpatients = [e for e in encounters if e["class"]["code"] == "IMP" and e["status"] == "in-progress"]
    assert len(inpatients) == DemoSpec(patients=60).today_counts()[2]
    beds = [loc["location"]["reference"] for e in inpatients for loc in e["location"][1:]]
    assert len(beds) == len(set(beds)), "two current inpatients in one bed"
    assert all("end" not in e["period"] for e in inpatients)
    appointments = [r for r in sample if r["resourceType"] == "Appointment"]
    assert appointments and all(a["status"] == "booked" and a["start"].startswith(today) for a in appointments)
    finished = [e for e in encounters if e["status"] == "finished"]
    assert all(e["period"]["end"] < f"{today}T10:00:00+07:00" for e in finished)


def test_clinical_content_is_coded(sample):
    conditions = [r for r in sample if r["resourceType"] == "Condition"]
    assert all(c["code"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/icd-10" for c in conditions)
    categories = Counter(c["category"][0]["coding"][0]["code"] for c in conditions)
    assert categories["problem-list-item"] > 0 and categories["encounter-diagnosis"] > 0
    vitals = [o for o in sample if o["resourceType"] == "Observation"
              and o["category"][0]["coding"][0]["code"] == "vital-signs"]
    loinc = {o["code"]["coding"][0]["code"] for o in vitals}
    assert {"85354-9", "8867-4", "8310-5", "29463-7"} <= loinc
    bp = next(o for o in vitals if o["code"]["coding"][0]["code"] == "85354-9")
    assert [c["code"]["coding"][0]["code"] for c in bp["component"]] == ["8480-6", "8462-4"]
    assert bp["component"][0]["valueQuantity"]["code"] == "mm[Hg]"
    labs = [o for o in sample if o["resourceType"] == "Observation"
            and o["category"][0]["coding"][0]["code"] == "laboratory"]
    assert labs and all(o["interpretation"][0]["coding"][0]["code"] in ("H", "L", "N") for o in labs)
    reports = [r for r in sample if r["resourceType"] == "DiagnosticReport"]
    assert any(r.get("conclusion") for r in reports) and any(r.get("result") for r in reports)
    prescriptions = [r for r in sample if r["resourceType"] == "MedicationRequest"]
    assert any(p["dosageInstruction"][0]["text"].startswith("Uống 1 viên x 2 lần/ngày") for p in prescriptions)
    codes = {p["groupIdentifier"]["value"] for p in prescriptions if "groupIdentifier" in p}
    assert codes and all(len(c) == 14 and c[12] == "-" for c in codes)


def test_memory_does_not_grow_with_the_number_of_patients():
    import gc
    import tracemalloc

    generator = Generator(DemoSpec(seed=12, patients=400, years=1, today=TODAY))
    for i in range(80):  # warm the caches (case mixes by age, sex and month)
        generator.patient(i)
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(80, 110):
            generator.patient(i)
        gc.collect()
        after_some = tracemalloc.get_traced_memory()[0]
        for i in range(110, 230):
            generator.patient(i)
        gc.collect()
        after_many = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after_many - after_some < 1_000_000
