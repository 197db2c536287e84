"""Who the patients are: age and sex, birth province, residence and ethnic group.

Distributions and their sources:

* age and sex: the 2019 census pyramid (data/age_sex.csv);
* provinces: 2023 average population of the 63 pre-2025 provinces (data/provinces.csv). A hospital
  mostly sees people of its own province: ``local_share`` of patients live in the facility's
  province (our assumption, default 85%), the rest anywhere in proportion to population; 75% were
  born in a pre-2025 province of the province they live in, the others anywhere (internal migration;
  our assumption);
* ethnic group: the 2019 census national counts (data/ethnic_groups.csv), each minority spread
  evenly over its home provinces, capped at 90% of a province's population; Kinh is the rest. This
  keeps the national Kinh share near the census 85.3% and puts Khmer in the Mekong delta, H'Mông in
  the northern mountains, Ê-đê in Đắk Lắk, and so on.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from . import data
from .rand import Weighted
from .timefmt import add_years

MAX_MINORITY_SHARE = 0.9
BORN_IN_RESIDENCE_PROVINCE = 0.75


@dataclass(frozen=True, slots=True)
class Person:
    sex: str  # FHIR gender: male | female
    birth_date: date
    birth_province: data.OldProvince  # where the birth was registered (CCCD digits 1-3)
    province: data.Province  # where the person lives now
    commune: data.Commune
    ethnic: data.EthnicGroup


@cache
def _age_sex() -> Weighted[tuple[int, int, str]]:
    pairs: list[tuple[tuple[int, int, str], float]] = []
    for low, high, male, female in data.age_bands():
        pairs.append(((low, high, "male"), male))
        pairs.append(((low, high, "female"), female))
    return Weighted(pairs)


@cache
def _national_provinces() -> Weighted[data.Province]:
    return Weighted((p, p.population) for p in data.provinces().values())


@cache
def _national_old() -> Weighted[data.OldProvince]:
    return Weighted((o, o.population) for o in data.old_provinces().values())


@cache
def _old_within(code: str) -> Weighted[data.OldProvince]:
    return Weighted((o, o.population) for o in data.provinces()[code].old)


@cache
def _communes(code: str) -> Weighted[data.Commune]:
    # Wards (phường) are denser than rural communes: weight them twice (our assumption).
    return Weighted((c, 2.0 if c.is_urban else 1.0) for c in data.provinces()[code].communes)


@cache
def ethnic_shares(province_code: str) -> Weighted[data.EthnicGroup]:
    """Ethnic groups of people born in ``province_code`` (post-2025 code), per the module docstring."""
    groups = data.ethnic_groups()
    population = data.provinces()[province_code].population * 1000
    minority = [(g, g.population / len(g.home) / population) for g in groups if province_code in g.home]
    total = sum(share for _, share in minority)
    scale = MAX_MINORITY_SHARE / total if total > MAX_MINORITY_SHARE else 1.0
    pairs = [(g, share * scale) for g, share in minority]
    kinh = next(g for g in groups if g.code == "01")
    pairs.append((kinh, 1.0 - sum(share for _, share in pairs)))
    return Weighted(pairs)


class PopulationModel:
    """Draws :class:`Person` records for a hospital in ``facility_province``."""

    def __init__(self, facility_province: str, local_share: float = 0.85) -> None:
        if facility_province not in data.provinces():
            raise ValueError(f"unknown province code {facility_province!r}")
        self.facility_province = data.provinces()[facility_province]
        self.local_share = local_share

    def person(self, rng: random.Random, today: date, *, min_age: int = 0, max_age: int = 99) -> Person:
        low, high, sex = _age_sex().pick(rng)
        while high < min_age or low > max_age:
            low, high, sex = _age_sex().pick(rng)
        age = rng.randint(max(low, min_age), min(high, max_age))
        birthday = add_years(today, -age - 1) + timedelta(days=rng.randint(1, 365))
        if birthday > today:
            birthday = today
        local = rng.random() < self.local_share
        province = self.facility_province if local else _national_provinces().pick(rng)
        if rng.random() < BORN_IN_RESIDENCE_PROVINCE:
            birth = _old_within(province.code).pick(rng)
        else:
            birth = _national_old().pick(rng)
        ethnic = ethnic_shares(birth.new_code).pick(rng)
        return Person(sex, birthday, birth, province, _communes(province.code).pick(rng), ethnic)
