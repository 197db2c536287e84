"""Reference tables of the demo generator, read once from ``data/`` (each file's source: data/SOURCE.md)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

_DATA = files("benhan.demo") / "data"


def _rows(name: str) -> list[dict[str, str]]:
    """CSV rows of ``data/<name>``; lines starting with ``#`` are provenance notes."""
    text = (_DATA / name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(lines)]


@dataclass(frozen=True, slots=True)
class OldProvince:
    """A pre-2025 province: the unit of birth registration in CCCD numbers and of older BHYT cards."""

    code: str  # 2 digits (TT 07/2016/TT-BCA Annex I without the leading 0)
    name: str
    population: int  # thousands, 2023
    new_code: str  # the post-2025 province it belongs to


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit (phường, xã, đặc khu) after 01/07/2025."""

    code: str  # 5-digit GSO code
    name: str  # with its kind, e.g. "Phường Hoàn Kiếm"
    province: str

    @property
    def is_urban(self) -> bool:
        return self.name.startswith("Phường")


@dataclass(frozen=True, slots=True)
class Province:
    """A province-level unit after 01/07/2025 (Nghị quyết 202/2025/QH15)."""

    code: str
    kind: str  # "Tỉnh" or "Thành phố"
    name: str
    region: str  # N, C or S
    old: tuple[OldProvince, ...]
    communes: tuple[Commune, ...]

    @property
    def full_name(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def population(self) -> int:
        return sum(o.population for o in self.old)


@dataclass(frozen=True, slots=True)
class EthnicGroup:
    code: str  # vn-core-race code, e.g. "01"
    display: str
    population: int  # 2019 census
    home: tuple[str, ...]  # post-2025 province codes where the group mainly lives
    names: str  # name pool in names.json


@dataclass(frozen=True, slots=True)
class Department:
    code: str  # mã khoa, e.g. "K01"
    name: str
    kind: str  # clinic, emergency, inpatient, support
    beds: int
    verified: bool


@cache
def provinces() -> dict[str, Province]:
    """The 34 provinces by code, each with its pre-2025 provinces and a few communes."""
    communes: dict[str, list[Commune]] = {}
    for row in _rows("communes.csv"):
        communes.setdefault(row["province"], []).append(Commune(row["code"], row["name"], row["province"]))
    out: dict[str, Province] = {}
    for row in _rows("provinces.csv"):
        old = []
        for part in row["old"].split("|"):
            code, name, population = part.split(":")
            old.append(OldProvince(code, name, int(population), row["code"]))
        out[row["code"]] = Province(row["code"], row["kind"], row["name"], row["region"], tuple(old),
                                    tuple(communes.get(row["code"], ())))
    return out


@cache
def old_provinces() -> dict[str, OldProvince]:
    """The 63 pre-2025 provinces by 2-digit code."""
    return {o.code: o for p in provinces().values() for o in p.old}


@cache
def ethnic_groups() -> tuple[EthnicGroup, ...]:
    return tuple(EthnicGroup(r["code"], r["display"], int(r["population"]), tuple(r["home"].split()), r["names"])
                 for r in _rows("ethnic_groups.csv"))


@cache
def icd10() -> dict[str, str]:
    """ICD-10 code -> Vietnamese name (QĐ 4469/QĐ-BYT)."""
    return {r["code"]: r["display"] for r in _rows("icd10_vi.csv")}


@cache
def names() -> dict[str, Any]:
    return json.loads((_DATA / "names.json").read_text(encoding="utf-8"))


@cache
def age_bands() -> tuple[tuple[int, int, int, int], ...]:
    """``(age_from, age_to, male, female)`` weights of the population pyramid."""
    return tuple((int(r["age_from"]), int(r["age_to"]), int(r["male"]), int(r["female"]))
                 for r in _rows("age_sex.csv"))


@cache
def departments() -> tuple[Department, ...]:
    return tuple(Department(r["code"], r["name"], r["kind"], int(r["beds"]), r["verified"] == "yes")
                 for r in _rows("departments.csv"))
