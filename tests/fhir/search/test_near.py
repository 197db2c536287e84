"""``Location?near=latitude|longitude|distance|units`` on both engines: real Vietnamese places, units,
the default distance, errors, and a brute-force comparison with the haversine distance over random points."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from benhan.fhir.errors import FhirError
from benhan.fhir.geo import EARTH_RADIUS_KM, haversine_km
from benhan.fhir.reindex import reindex
from benhan.fhir.repository import Repository
from benhan.fhir.search.near import DEFAULT_DISTANCE_KM
from benhan.fhir.special_tables import idx_position

from .conftest import BASE, find, ids, run, store

HOAN_KIEM = (21.0285, 105.8542)  # Hà Nội, the lake
BEN_THANH = (10.7769, 106.7009)  # Hồ Chí Minh City, District 1

PLACES = {  # approximate positions of real hospitals (WGS84)
    "bach-mai": ("Bệnh viện Bạch Mai", 21.0003, 105.8412),
    "viet-duc": ("Bệnh viện Hữu nghị Việt Đức", 21.0286, 105.8467),
    "benh-vien-e": ("Bệnh viện E", 21.0512, 105.7889),
    "cho-ray": ("Bệnh viện Chợ Rẫy", 10.7578, 106.6593),
    "tu-du": ("Bệnh viện Từ Dũ", 10.7686, 106.6856),
    "hue": ("Bệnh viện Trung ương Huế", 16.4626, 107.5881),
}


def location(lid: str, name: str, latitude: Any = None, longitude: Any = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Location", "id": lid, "name": name}
    if latitude is not None:
        res["position"] = {"latitude": latitude, "longitude": longitude}
    return res


@pytest.fixture
def hospitals(engine):
    store(engine, *(location(lid, name, lat, lon) for lid, (name, lat, lon) in PLACES.items()),
          location("kho", "Kho thuốc (chưa có toạ độ)"))
    return engine


def _distance(point: tuple[float, float], lid: str) -> float:
    _, lat, lon = PLACES[lid]
    return haversine_km(point[0], point[1], lat, lon)


def test_hanoi_and_ho_chi_minh_city(hospitals):
    assert find(hospitals, "Location", "near=21.0285|105.8542|5|km") == {"bach-mai", "viet-duc"}
    assert find(hospitals, "Location", "near=21.0285|105.8542|10|km") == {"bach-mai", "viet-duc", "benh-vien-e"}
    assert find(hospitals, "Location", "near=10.7769|106.7009|6|km") == {"cho-ray", "tu-du"}
    assert find(hospitals, "Location", "near=10.7769|106.7009|5|km") == {"tu-du"}  # Chợ Rẫy is 5.016 km away
    assert find(hospitals, "Location", "near=10.7769|106.7009|5.02|km") == {"cho-ray", "tu-du"}
    assert find(hospitals, "Location", "near=10.7769|106.7009|3") == {"tu-du"}  # units default to km
    # Hà Nội to Chợ Rẫy is about 1,140 km: a circle one kilometre either side of it decides
    far = _distance(HOAN_KIEM, "cho-ray")
    assert 1100 < far < 1200
    assert "cho-ray" not in find(hospitals, "Location", f"near=21.0285|105.8542|{far - 1:.3f}")
    assert "cho-ray" in find(hospitals, "Location", f"near=21.0285|105.8542|{far + 1:.3f}")
    assert find(hospitals, "Location", "near=21.0285|105.8542|20000") == set(PLACES)  # never the one without
    # commas OR two circles, repeated parameters AND them
    assert find(hospitals, "Location", "near=21.0285|105.8542|5,10.7769|106.7009|3") == {"bach-mai", "viet-duc",
                                                                                          "tu-du"}
    assert find(hospitals, "Location", "near=21.0285|105.8542|5&near=21.0003|105.8412|1") == {"bach-mai"}
    assert find(hospitals, "Location", "near=21.0285|105.8542|5&name:contains=bạch") == {"bach-mai"}


def test_units_are_converted(hospitals):
    exact = _distance(HOAN_KIEM, "bach-mai")  # ~3.4 km
    for below, above in [(f"{exact - 0.01:.4f}|km", f"{exact + 0.01:.4f}|km"),
                         (f"{(exact - 0.01) * 1000:.1f}|m", f"{(exact + 0.01) * 1000:.1f}|m"),
                         (f"{(exact - 0.01) / 1.609344:.5f}|[mi_i]", f"{(exact + 0.01) / 1.609344:.5f}|[mi_i]"),
                         (f"{(exact - 0.01) / 1.852:.5f}|[nmi_i]", f"{(exact + 0.01) / 1.852:.5f}|[nmi_i]"),
                         (f"{(exact - 0.01) * 100000:.0f}|cm", f"{(exact + 0.01) * 100000:.0f}|cm")]:
        assert "bach-mai" not in find(hospitals, "Location", f"near=21.0285|105.8542|{below}"), below
        assert "bach-mai" in find(hospitals, "Location", f"near=21.0285|105.8542|{above}"), above


def test_default_distance(hospitals):
    assert DEFAULT_DISTANCE_KM == 10.0
    inside = {lid for lid in PLACES if _distance(HOAN_KIEM, lid) <= DEFAULT_DISTANCE_KM}
    assert inside == {"bach-mai", "viet-duc", "benh-vien-e"}
    assert find(hospitals, "Location", "near=21.0285|105.8542") == inside
    assert find(hospitals, "Location", "near=21.0285|105.8542||km") == inside
    assert find(hospitals, "Location", "near=21.0285|105.8542||[mi_i]") == inside  # without a distance: irrelevant


def test_missing_update_delete_paging_and_total(hospitals):
    assert find(hospitals, "Location", "near:missing=true") == {"kho"}
    assert find(hospitals, "Location", "near:missing=false") == set(PLACES)
    store(hospitals, location("kho", "Kho thuốc", 21.03, 105.85))  # gets a position in Hà Nội
    store(hospitals, location("tu-du", "Bệnh viện Từ Dũ (cơ sở Hà Nội)", 21.02, 105.85))  # moves north
    assert find(hospitals, "Location", "near=21.0285|105.8542|5") == {"bach-mai", "viet-duc", "kho", "tu-du"}
    assert find(hospitals, "Location", "near=10.7769|106.7009|6") == {"cho-ray"}
    with hospitals.begin() as conn:
        Repository(conn, base_url=BASE).delete("Location", "viet-duc")
    page = run(hospitals, "Location", "near=21.0285|105.8542|5&_count=2&_total=accurate")
    assert page["total"] == 3 and len(ids(page)) == 2
    assert any(link["relation"] == "next" for link in page["link"])
    assert run(hospitals, "Location", "near=21.0285|105.8542|5&_summary=count")["total"] == 3


def test_reindex_indexes_locations_stored_before_migration_0012(hospitals):
    with hospitals.begin() as conn:  # as if written before idx_position existed
        conn.execute(delete(idx_position))
    assert find(hospitals, "Location", "near=21.0285|105.8542|5") == set()
    assert reindex(hospitals, types=["Location"]) == {"Location": len(PLACES) + 1}
    assert find(hospitals, "Location", "near=21.0285|105.8542|5") == {"bach-mai", "viet-duc"}
    assert find(hospitals, "Location", "near:missing=true") == {"kho"}


def test_contained_locations(engine):
    encounter = {"resourceType": "Encounter", "id": "kham-1", "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                 "contained": [location("noi", "Phòng khám tại nhà", 21.0290, 105.8500)],
                 "location": [{"location": {"reference": "#noi"}}]}
    store(engine, encounter)
    assert find(engine, "Location", "near=21.0285|105.8542|1") == set()
    assert find(engine, "Location", "near=21.0285|105.8542|1&_contained=true") == {"kham-1"}
    assert find(engine, "Location", "near=10.7769|106.7009|1&_contained=true") == set()


@pytest.mark.parametrize("value", [
    "abc|105.85", "21.03|abc", "91|105.85", "-90.5|105.85", "21.03|180.5", "21.03|-181", "21.03", "21.03|105.85|5|km|x",
    "21.03|105.85|-1", "21.03|105.85|five", "21.03|105.85|5|furlong", "21.03|105.85|5|kg", "21.03|105.85|5|KM",
    "|105.85", "21.03||5", "1e999|105", "NaN|105", "21.03|105.85|1e400|km", "%2B21.03|105.85",
])
def test_bad_values_answer_400_at_http_near(hospitals, value):
    with pytest.raises(FhirError) as err:
        run(hospitals, "Location", f"near={value}")
    issue = err.value.issues[0]
    assert err.value.status == 400 and issue.location == "http.near" and issue.expression == "near", value


def test_modifiers_other_than_missing_answer_400(hospitals):
    for modifier in ("exact", "not", "above"):
        with pytest.raises(FhirError) as err:
            run(hospitals, "Location", f"near:{modifier}=21.0285|105.8542|5")
        assert err.value.status == 400 and err.value.issues[0].code == "not-supported"
    with pytest.raises(FhirError):
        run(hospitals, "Location", "_sort=near")
    assert find(hospitals, "Location", "_filter=near pr true") == set(PLACES)  # in _filter: pr only
    assert find(hospitals, "Location", "_filter=near pr false") == {"kho"}
    with pytest.raises(FhirError):
        run(hospitals, "Location", "_filter=near eq 21.0285|105.8542|5")


def test_http_error_and_capability_statement(client):
    resp = client.get("Location?near=91|105.85|5|km")
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["location"] == ["http.near"] and issue["code"] == "invalid"
    assert "latitude" in issue["diagnostics"] and " / " in issue["details"]["text"]
    statement = client.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    near = {p["name"]: p for p in resources["Location"]["searchParam"]}["near"]
    assert near == {"name": "near", "definition": "http://hl7.org/fhir/SearchParameter/Location-near",
                    "type": "special"}
    assert client.post("Location", location("x", "Bạch Mai", 21.0003, 105.8412)).status_code == 201
    found = client.get("Location?near=21.0285|105.8542|5|km").json()
    assert [e["resource"]["name"] for e in found["entry"]] == ["Bạch Mai"]


# ---- brute force -------------------------------------------------------------------------------

CENTERS = [HOAN_KIEM, BEN_THANH, (0.0, 179.95), (0.0, -179.95), (89.99, 10.0), (-89.5, -120.0), (45.0, 0.0)]


def random_locations(seed: int = 5) -> list[dict[str, Any]]:
    """Points scattered around each center at up to ~300 km (many near any circle's edge), and some anywhere."""
    rnd = random.Random(seed)
    out = []
    for i in range(160):
        lat0, lon0 = CENTERS[i % len(CENTERS)]
        if i % 8 == 7:
            lat, lon = rnd.uniform(-90, 90), rnd.uniform(-180, 180)
        else:
            lat = max(-90.0, min(90.0, lat0 + rnd.uniform(-3, 3)))
            lon = lon0 + rnd.uniform(-3, 3) / max(0.05, math.cos(math.radians(lat0)))
            lon = (lon + 180) % 360 - 180
        out.append(location(f"r{i}", f"Điểm {i}", round(lat, 6), round(lon, 6)))
    out.append(location("pole", "Cực Bắc", 90, 0))
    out.append(location("meridian", "Kinh tuyến 180", 0.0, 180))  # stored as -180: the same place
    return out


RANDOM = random_locations()


def test_random_points_equal_filtering_by_haversine(engine):
    store(engine, *RANDOM)

    @settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(center=st.sampled_from(CENTERS), dlat=st.floats(-2, 2), dlon=st.floats(-2, 2),
           distance=st.one_of(st.floats(0, 400), st.sampled_from([0.0, 50.0, 15000.0, 20015.1, 25000.0])),
           units=st.sampled_from(["", "km", "m", "[mi_i]"]))
    def check(center, dlat, dlon, distance, units):
        lat = max(-90.0, min(90.0, center[0] + dlat))
        lon = (center[1] + dlon + 180) % 360 - 180
        scale = {"": 1.0, "km": 1.0, "m": 0.001, "[mi_i]": 1.609344}[units]
        value = f"{lat:.6f}|{lon:.6f}|{distance / scale:.6f}" + (f"|{units}" if units else "")
        qlat, qlon, qdist = float(f"{lat:.6f}"), float(f"{lon:.6f}"), float(f"{distance / scale:.6f}") * scale
        expected, unsure = set(), set()
        for res in RANDOM:
            d = haversine_km(qlat, qlon, res["position"]["latitude"], res["position"]["longitude"])
            if abs(d - qdist) < 1e-6:  # within a millimetre of the edge: floating point may go either way
                unsure.add(res["id"])
            elif d <= qdist:
                expected.add(res["id"])
        found = find(engine, "Location", f"near={value}")
        assert found - unsure == expected, value

    check()
    assert math.isclose(haversine_km(0, 0, 0, 180), math.pi * EARTH_RADIUS_KM)
