"""Vietnamese personal names, written family name first, as a FHIR HumanName.

Family-name shares follow the published national figures (Nguyễn 38.4%, Trần 11%, Lê 9.5%, ...;
data/names.json, source in data/SOURCE.md); Hoàng/Huỳnh and Vũ/Võ are one name written differently in
the north and the south. Middle names depend on sex and generation (Văn/Thị dominate among people born
before 1980, much less among the young). Several ethnic minorities have their own family names; Ê-đê
names are written given name first ("Y Biêr Niê"), which is why ``text`` is always the name as written
and ``family``/``given`` are the parts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import data
from .rand import Weighted

OLD_GENERATION = 1980  # born before: mostly Văn / Thị
YOUNG_GENERATION = 1995  # born after: varied middle names


@dataclass(frozen=True, slots=True)
class VietnameseName:
    family: str
    given: tuple[str, ...]  # middle name(s) then the given name, in order of use
    text: str  # as written

    def to_fhir(self, prefix: str | None = None) -> dict[str, Any]:
        name: dict[str, Any] = {"use": "official", "text": self.text, "family": self.family, "given": list(self.given)}
        if prefix:
            name["prefix"] = [prefix]
        return name


@cache
def _family(region: str) -> Weighted[str]:
    table = data.names()
    south = table["southern_variant_share"][region]
    pairs: list[tuple[str, float]] = []
    for name, share in table["family"]:
        if "|" in name:
            north_form, south_form = name.split("|")
            pairs.append((north_form, share * (1 - south)))
            pairs.append((south_form, share * south))
        else:
            pairs.append((name, share))
    other = table["family_other"]
    weight_sum = sum(w for _, w in other)
    pairs.extend((name, table["family_other_share"] * w / weight_sum) for name, w in other)
    return Weighted(pairs)


@cache
def _table(*path: str) -> Weighted[str]:
    node: Any = data.names()
    for key in path:
        node = node[key]
    return Weighted((name, weight) for name, weight in node)


def family_share(name: str, region: str = "N") -> float:
    """Probability of family name ``name`` among Kinh people of ``region`` (for tests and docs)."""
    weighted = _family(region)
    return weighted.share(name) if name in weighted.items else 0.0


def _middle(rng: random.Random, sex: str, birth_year: int) -> str:
    if birth_year < OLD_GENERATION:
        generation = "old"
    elif birth_year >= YOUNG_GENERATION:
        generation = "young"
    else:
        generation = "old" if rng.random() < 0.5 else "young"
    return _table("middle", sex, generation).pick(rng)


def vietnamese_name(rng: random.Random, sex: str, birth_year: int, region: str = "N",
                    pool: str = "kinh") -> VietnameseName:
    """A name for a person of ``sex`` born in ``birth_year`` in ``region`` (N, C, S)."""
    pools = data.names()["pools"]
    spec = pools.get(pool) if pool != "kinh" else None
    family = _table("pools", pool, "family").pick(rng) if spec else _family(region).pick(rng)
    if spec and spec.get("order") == "given-family":
        prefix = spec["prefix_male"] if sex == "male" else spec["prefix_female"]
        given = _table("pools", pool, f"given_{sex}").pick(rng)
        first = f"{prefix}{given}" if prefix.endswith("'") else prefix
        parts = (first,) if prefix.endswith("'") else (first, given)
        return VietnameseName(family, parts, " ".join((*parts, family)))
    if spec and f"given_{sex}" in spec:
        middles = spec.get(f"middle_{sex}") or []
        given = _table("pools", pool, f"given_{sex}").pick(rng)
        parts = (_table("pools", pool, f"middle_{sex}").pick(rng), given) if middles else (given,)
    else:
        parts = (_middle(rng, sex, birth_year), _table("given", sex).pick(rng))
    return VietnameseName(family, parts, " ".join((family, *parts)))

