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
    # Valid only in an age range (QĐ 4469 Phụ lục A3.x; the ranges ship in data/icd10-*-rules.json).
    AGE_A3_1 = 32  # bệnh trẻ sơ sinh, 0 - 365 ngày
    AGE_A3_2 = 64  # bệnh trẻ nhỏ, 0 ngày - 2 tuổi
    AGE_A3_3 = 128  # bệnh ở trẻ lớn, 0 ngày - 10 tuổi
    AGE_A3_4 = 256  # bệnh ở thanh thiếu niên, 0 ngày - 19 tuổi
    AGE_A3_5 = 512  # "bệnh ở trẻ mới đẻ", trên 27 ngày tuổi
    AGE_A3_6 = 1024  # bệnh trẻ em, 1 tuổi trở lên
    AGE_A3_7 = 2048  # bệnh của tuổi dậy thì, 8 - 19 tuổi
    AGE_A3_8 = 4096  # bệnh sản phụ khoa, 9 - 60 tuổi
    AGE_A3_9 = 8192  # bệnh của người trưởng thành, trên 15 tuổi
    AGE_A3_10 = 16384  # bệnh người lớn, trên 30 tuổi


FLAG_PROPERTIES: dict[Flag, str] = {
    Flag.NOT_MAIN: "not-main-diagnosis",
    Flag.FEMALE_ONLY: "female-only",
    Flag.MALE_ONLY: "male-only",
    Flag.DAGGER: "dagger",
    Flag.ASTERISK: "asterisk",
    Flag.AGE_A3_1: "age-0-365-days",
    Flag.AGE_A3_2: "age-0-days-2-years",
    Flag.AGE_A3_3: "age-0-days-10-years",
    Flag.AGE_A3_4: "age-0-days-19-years",
    Flag.AGE_A3_5: "age-over-27-days",
    Flag.AGE_A3_6: "age-1-year-and-over",
    Flag.AGE_A3_7: "age-8-19-years",
    Flag.AGE_A3_8: "age-9-60-years",
    Flag.AGE_A3_9: "age-over-15-years",
    Flag.AGE_A3_10: "age-over-30-years",
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
    hierarchy_meaning: str = "is-a"  # CodeSystem.hierarchyMeaning: ICD-10 is-a, administrative units part-of
    parent_text: str = "Mã cha (loại 3 ký tự) / parent code"  # description of the ``parent`` property

    @property
    def codesystem_id(self) -> str:
        return f"{self.key}-{self.version}".replace(" ", "-").replace("/", "-").replace("_", "-")[:64]

    @property
    def valueset_id(self) -> str:
        return self.key
