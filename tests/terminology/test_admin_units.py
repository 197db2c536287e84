"""Administrative units from 01/07/2025: 34 provinces + 3,321 communes, commune-in-province checks, type-ahead."""

from __future__ import annotations

import csv
import io
from datetime import date
from importlib import resources

import pytest

from benhan.clinical.patient_form import AddressForm, Coded, PatientForm
from benhan.clinical.registration import Registration
from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.terminology import admin_units, concepts, expand
from benhan.terminology.catalogs import provinces_2025
from benhan.vn import systems

DAY = date(2026, 1, 15)


def _rows(package: str, name: str) -> list[dict[str, str]]:
    text = resources.files(package).joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))))


def test_catalog_has_every_province_and_commune_with_its_parent() -> None:
    cat = provinces_2025()
    provinces = [c for c in cat.concepts if c.parent is None]
    communes = [c for c in cat.concepts if c.parent is not None]
    assert len(provinces) == 34 and len(communes) == 3321
    assert len({c.code for c in cat.concepts}) == len(cat.concepts)
    codes = {p.code for p in provinces}
    assert all(len(c.code) == 5 and c.code.isdigit() and c.parent in codes for c in communes)
    assert all(dict(c.properties)["kind"] in ("Phường", "Xã", "Đặc khu") for c in communes)
    assert all(c.display.split()[0] in ("Phường", "Xã", "Đặc") and "  " not in c.display for c in communes)
    assert {p.code for p in provinces} == {c.parent for c in communes}  # every province has communes
    bến_thành = next(c for c in communes if c.code == "26743")
    assert (bến_thành.display, bến_thành.parent) == ("Phường Bến Thành", "79")
    assert cat.valid_from == "2025-07-01" and cat.hierarchy_meaning == "part-of"


def test_demo_communes_agree_with_the_shipped_list() -> None:
    shipped = {r["code"]: r for r in _rows("benhan.terminology", "communes-2025.csv")}
    demo = _rows("benhan.demo", "communes.csv")
    assert len(demo) > 200
    wrong = [d for d in demo if d["code"] not in shipped
             or (shipped[d["code"]]["display"], shipped[d["code"]]["province"]) != (d["name"], d["province"])]
    assert wrong == []


def test_codesystem_declares_parent_as_part_of(term_engine) -> None:  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        version = admin_units.version_on(conn, DAY)
        assert version is not None and version.version == "NQ202-2025"
        row = concepts.concept(conn, version, "00004")
        assert row is not None and row.display == "Phường Ba Đình" and row.parent == "01"
        assert len(concepts.children(conn, version, "79")) == 168
        stored = Repository(conn).read("CodeSystem", version.resource_id).resource()
    assert stored["hierarchyMeaning"] == "part-of" and stored["count"] == 3355
    ba_dinh = next(c for c in stored["concept"] if c["code"] == "00004")
    assert {"code": "parent", "valueCode": "01"} in ba_dinh["property"]


@pytest.mark.parametrize(("province", "commune", "expected"), [
    ("79", "26743", []),
    ("01", "00004", []),
    (None, "26743", []),
    ("79", None, []),
    ("01", "26743", [("business-rule", "address.commune")]),  # Bến Thành is in Hồ Chí Minh, not Hà Nội
    ("99", "26743", [("code-invalid", "address.province")]),
    ("79", "26734", [("code-invalid", "address.commune")]),  # a pre-2025 code
    ("26743", None, [("code-invalid", "address.province")]),  # a commune is not a province
    ("79", "79", [("code-invalid", "address.commune")]),  # nor a province a commune
])
def test_check_address(term_engine, province, commune, expected) -> None:  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        issues = admin_units.check_address(conn, province=province, commune=commune, on=DAY)
    assert [(i.code, i.expression) for i in issues] == expected
    for issue in issues:
        assert issue.vi and issue.en and issue.vi != issue.en


def test_check_address_message_names_both_units(term_engine) -> None:  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        [issue] = admin_units.check_address(conn, province="01", commune="26743", on=DAY)
    assert issue.vi == "Phường Bến Thành (26743) không thuộc Hà Nội (01)"
    assert issue.en == "Phường Bến Thành (26743) is not in province Hà Nội (01)"


def test_type_ahead_lists_the_communes_of_one_province(term_engine) -> None:  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        version = admin_units.version_on(conn, DAY)
        assert version is not None
        anywhere = expand.search(conn, version, "ben thanh", count=50)
        assert "26743" in [c.code for c in anywhere.concepts]
        in_hcm = expand.search(conn, version, "ben thanh", parent="79").concepts
        assert [c.code for c in in_hcm][:1] == ["26743"] and all(c.parent == "79" for c in in_hcm)
        assert expand.search(conn, version, "ben thanh", parent="01").concepts == []
        hanoi = expand.search(conn, version, "", parent="01", count=500)
        assert hanoi.total == 126 and all(c.parent == "01" for c in hanoi.concepts)


def _form(province: str, commune: str) -> PatientForm:
    return PatientForm(name="Lê Thị Hoa", gender="female", birth_date="1990-02-03",
                       address=AddressForm(line="12 Lê Lợi", commune=Coded(commune, "Phường Bến Thành"),
                                           province=Coded(province, "Hồ Chí Minh")))


def test_registration_refuses_a_commune_of_another_province(term_engine) -> None:  # type: ignore[no-untyped-def]
    with term_engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            reg = Registration(Repository(conn), facility_code="79001")
            with pytest.raises(FhirError) as refused:
                reg.register(_form("01", "26743"))
            assert refused.value.status == 422
            assert [i.expression for i in refused.value.issues] == ["address.commune"]
            result = reg.register(_form("79", "26743"))
            assert result.outcome == "created"
            ext = result.patient["address"][0]["extension"][0]
            assert ext["url"] == systems.EXT_ADMINISTRATIVE_ADDRESS
            with pytest.raises(FhirError):
                reg.update(result.patient["id"], _form("01", "26743"))
