"""What a loaded catalog is: a versioned code system with validity dates and its concepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag


class Flag(IntFlag):
    """Rule flags of a concept (stored as one integer in the concept index)."""

    NOT_MAIN = 1  # không dùng làm bệnh chính (QĐ 4469 Phụ lục A2)
    FEMALE_ONLY = 2  # bệnh chỉ có ở giới nữ (A4.1)
    MALE_ONLY = 4  # bệnh chỉ có ở giới nam (A4.2)
    DAGGER = 8  # mã dấu † (etiology)
    ASTERISK = 16  # mã dấu * (manifestation; never the main diagnosis)


FLAG_PROPERTIES: dict[Flag, str] = {
    Flag.NOT_MAIN: "not-main-diagnosis",
    Flag.FEMALE_ONLY: "female-only",
    Flag.MALE_ONLY: "male-only",
    Flag.DAGGER: "dagger",
    Flag.ASTERISK: "asterisk",
}


@dataclass(frozen=True, slots=True)
class Concept:
    """One code: Vietnamese display first, English when the source has one."""

    code: str
    display: str
    display_en: str = ""
    parent: str | None = None
    flags: int = 0
    properties: tuple[tuple[str, str], ...] = ()  # extra string properties, e.g. ("chapter", "A00-B99")


@dataclass(frozen=True, slots=True)
class Catalog:
    """A code-system version as shipped: ``valid_to`` is exclusive (ISO dates; None = open)."""

    key: str  # resource id stem, e.g. "icd10-vn"
    url: str
    version: str
    name: str
    title: str
    valueset_url: str
    source: str
    concepts: tuple[Concept, ...]
    valid_from: str | None = None
    valid_to: str | None = None
    publisher: str = ""
    hierarchical: bool = False
    properties: tuple[tuple[str, str, str], ...] = field(default=())  # (code, type, description)

    @property
    def codesystem_id(self) -> str:
        return f"{self.key}-{self.version}".replace(" ", "-").replace("/", "-").replace("_", "-")[:64]

    @property
    def valueset_id(self) -> str:
        return self.key
