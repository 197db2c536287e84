"""The catalogs shipped with the product (``data/``, provenance in ``data/SOURCE.md``) as :class:`Catalog` values.

Nothing here touches the database; :mod:`benhan.terminology.loader` writes what these functions return.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from importlib import resources

from benhan.vn import provinces as vn_provinces
from benhan.vn import systems as vn

from . import systems
from .model import Catalog, Concept

ICD10_4469_VALID_FROM = "2020-10-28"  # date of QĐ 4469/QĐ-BYT (effective date not read: unverified)
ICD10_4469_VALID_TO = "2026-07-01"  # TT 06/2026/TT-BYT applies to encounters ending on or after 01/07/2026
PROVINCES_2025_FROM = "2025-07-01"  # Nghị quyết 202/2025/QH15 takes effect


def _data(name: str) -> bytes:
    return resources.files("benhan.terminology").joinpath(f"data/{name}").read_bytes()


def _csv(name: str) -> list[dict[str, str]]:
    text = _data(name).decode("utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def _parent(code: str, known: set[str]) -> str | None:
    if "." not in code:
        return None
    if len(code) == 6 and code[:5] in known:  # M01.00 -> M01.0
        return code[:5]
    return code[:3]


def icd10_4469() -> Catalog:
    """ICD-10, Vietnamese edition of QĐ 4469/QĐ-BYT (2020): 12,137 codes with rule flags."""
    data = json.loads(gzip.decompress(_data("icd10-4469-2020.json.gz")))
    rows = data["concepts"]
    known = {r[0] for r in rows}
    concepts = tuple(
        Concept(code, vi, en, _parent(code, known), flags, (("chapter", chapter), ("block", block)))
        for code, vi, en, chapter, block, flags in rows
    )
    return Catalog(
        key="icd10-vn", url=systems.ICD10, version="4469-2020", name="ICD10_VN_QD4469",
        title="Bảng phân loại quốc tế bệnh tật ICD-10 (QĐ 4469/QĐ-BYT, 2020)", valueset_url=systems.VS_ICD10,
        source=data["source"], concepts=concepts, valid_from=ICD10_4469_VALID_FROM, valid_to=ICD10_4469_VALID_TO,
        publisher="Bộ Y tế", hierarchical=True,
        properties=(("chapter", "string", "Chương (khoảng mã) / chapter (code range)"),
                    ("block", "string", "Nhóm chính (khoảng mã) / block (code range)")),
    )


def _simple(key: str, url: str, version: str, name: str, title: str, valueset_url: str, source: str,
            rows: list[dict[str, str]], **kw: object) -> Catalog:
    concepts = tuple(Concept(r["code"], r.get("display") or r.get("display_en", ""), r.get("display_en", ""),
                             properties=tuple((k, v) for k, v in r.items()
                                              if k not in ("code", "display", "display_en") and v))
                     for r in rows)
    return Catalog(key=key, url=url, version=version, name=name, title=title, valueset_url=valueset_url,
                   source=source, concepts=concepts, **kw)  # type: ignore[arg-type]


def ethnicity() -> Catalog:
    return _simple("dan-toc", vn.RACE, "1.0", "VNCoreRace", "Danh mục dân tộc (54 dân tộc, TCTK)",
                   systems.VS_ETHNICITY, "VN Core IG CodeSystem vn-core-race v1.0", _csv("ethnicity.csv"),
                   publisher="Tổng cục Thống kê")


def occupation() -> Catalog:
    return _simple("nghe-nghiep-4069", vn.OCCUPATION_4069, "1.0", "VNCoreOccupation4069",
                   "Nghề nghiệp theo thành phần xã hội (QĐ 4069/2011/QĐ-BYT)", systems.VS_OCCUPATION,
                   "VN Core IG CodeSystem vn-core-occupation-4069 v1.0", _csv("occupation-4069.csv"),
                   publisher="Bộ Y tế")


def countries() -> Catalog:
    return _simple("quoc-gia", vn.ISO_3166, "ISO-3166-1-2", "ISO3166Part1Alpha2", "Quốc gia (ISO 3166-1 alpha-2)",
                   systems.VS_COUNTRY, "FHIR R4 ValueSet iso3166-1-2", _csv("countries.csv"), publisher="ISO")


def gender() -> Catalog:
    return _simple("gioi-tinh", systems.ADMINISTRATIVE_GENDER, "4.0.1", "AdministrativeGender", "Giới tính",
                   systems.VS_GENDER, "FHIR R4 CodeSystem administrative-gender", _csv("gender.csv"),
                   publisher="HL7")


def relationship() -> Catalog:
    return _simple("quan-he", systems.V3_ROLE_CODE, "subset-1", "RoleCodePersonalRelationship",
                   "Quan hệ với người bệnh (HL7 v3 RoleCode, tập con)", systems.VS_RELATIONSHIP,
                   "HL7 v3 RoleCode (subset)", _csv("relationship.csv"), publisher="HL7")


def departments() -> Catalog:
    rows = [{"code": f"K{n:02d}", "display": f"Khoa mã K{n:02d} (chưa có tên chính thức)", "verified": "no"}
            for n in range(1, 61)]
    rows.append({"code": "K99", "display": "K99", "verified": "no"})
    named = {r["code"]: r for r in _csv("departments.csv")}
    rows = [named.get(r["code"], r) for r in rows]
    return _simple("ma-khoa", systems.DEPARTMENT_BHYT, "QD1804-2026", "MaKhoaBHYT",
                   "Mã khoa BHYT (QĐ 1804/QĐ-BYT, Phụ lục 02)", systems.VS_DEPARTMENT,
                   "QĐ 1804/QĐ-BYT (2026) PL02 codes; names partly unverified", rows, publisher="Bộ Y tế")


def provinces_2025() -> Catalog:
    """The 34 provinces and 3,321 communes from 01/07/2025: one code system, a commune's parent is its province.

    Province codes have 2 digits and commune codes 5 (GSO), so they never collide in one system.
    """
    provinces = _csv("provinces-2025.csv")
    known = {r["code"] for r in provinces}
    concepts = [Concept(r["code"], r["display"], properties=(("kind", r["kind"]),)) for r in provinces]
    for r in _csv("communes-2025.csv"):
        if r["province"] not in known:
            raise ValueError(f"commune {r['code']}: unknown province {r['province']}")
        concepts.append(Concept(r["code"], r["display"], parent=r["province"], properties=(("kind", r["kind"]),)))
    return Catalog(
        key="dia-danh", url=vn.ADMINISTRATIVE_ADDRESS, version="NQ202-2025", name="VNAdministrativeUnits2025",
        title="Đơn vị hành chính từ 01/07/2025 (34 tỉnh, thành phố; 3.321 xã, phường, đặc khu)",
        valueset_url=systems.VS_ADMINISTRATIVE_ADDRESS,
        source="Nghị quyết 202/2025/QH15 (provinces); communes and GSO codes: draft Decision on administrative-unit "
               "codes, chinhphu.vn draft 7546 (Cap-tinh.csv, Cap-xa.csv)",
        concepts=tuple(concepts), valid_from=PROVINCES_2025_FROM, publisher="Tổng cục Thống kê", hierarchical=True,
        hierarchy_meaning="part-of", parent_text="Tỉnh, thành phố chứa đơn vị / province the unit belongs to",
        properties=(("kind", "string", "Loại đơn vị (Tỉnh, Thành phố, Phường, Xã, Đặc khu) / kind of unit"),),
    )


def provinces_2016() -> Catalog:
    """The 63 pre-2025 provinces (TT 07/2016/TT-BCA), beside the 2025 list for old addresses."""
    rows = [{"code": code, "display": name} for code, name in vn_provinces.PROVINCES.items()]
    return _simple("dia-danh", vn.ADMINISTRATIVE_ADDRESS, "TT07-2016", "VNAdministrativeUnits2016",
                   "Tỉnh, thành phố trước 01/07/2025 (TT 07/2016/TT-BCA)", systems.VS_ADMINISTRATIVE_ADDRESS,
                   "TT 07/2016/TT-BCA Phụ lục I (benhan.vn.provinces)", rows, valid_to=PROVINCES_2025_FROM,
                   publisher="Bộ Công an")


SERVICES_URL = vn.SERVICE_CATALOG  # danh mục dịch vụ kỹ thuật (hospital-local codes)
DRUGS_URL = vn.DRUG_CATALOG  # danh mục thuốc (hospital-local codes)


def _clinical_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("benhan.clinical").joinpath(f"data/{name}").read_text("utf-8")
    return list(csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#")))))


def services() -> Catalog:
    """Lab tests, imaging studies and ECG that the orders page offers (benhan/clinical/data/SOURCE.md)."""
    return _simple("dich-vu", SERVICES_URL, "demo-1", "DanhMucDichVu", "Danh mục dịch vụ kỹ thuật (demo)",
                   SERVICES_URL.replace("CodeSystem", "ValueSet"), "benhan/clinical/data/services.csv",
                   _clinical_csv("services.csv"))


def drugs() -> Catalog:
    """Drugs the prescription page offers, with ATC, ingredients and class C/H/N (benhan/clinical/data)."""
    return _simple("thuoc", DRUGS_URL, "demo-1", "DanhMucThuoc", "Danh mục thuốc (demo)",
                   DRUGS_URL.replace("CodeSystem", "ValueSet"), "benhan/clinical/data/drugs.csv",
                   _clinical_csv("drugs.csv"))


# name -> builder; `benhan terminology load --only NAME` uses these names.
SHIPPED: dict[str, Callable[[], Catalog]] = {
    "icd10": icd10_4469,
    "ethnicity": ethnicity,
    "occupation": occupation,
    "country": countries,
    "gender": gender,
    "relationship": relationship,
    "department": departments,
    "province": provinces_2025,
    "province-2016": provinces_2016,
    "services": services,
    "drugs": drugs,
}


def shipped(names: list[str] | None = None) -> list[Catalog]:
    """The shipped catalogs (all, or those named)."""
    return [SHIPPED[n]() for n in (names or list(SHIPPED))]
