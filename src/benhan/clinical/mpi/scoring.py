"""The duplicate-patient scorer: how alike two people are, with the reasons a clerk can read.

A hand-tuned additive score in the spirit of Fellegi–Sunter: each field that agrees adds points, each
field that disagrees in a way a typing error cannot explain takes points away, and the total is
clamped to 0–100. Weights and thresholds are documented in ``docs/registration.md`` (keep them in
step). Names and birth dates carry most of the weight; phone and commune only support a match
(families share both, so they never prove one); different CCCD numbers rule a match out (twins).

Pure functions, no I/O: candidate retrieval lives in :mod:`benhan.clinical.mpi.candidates`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from benhan.fhir.text import normalize
from benhan.vn import bhyt, systems

# --- Weights (points) -----------------------------------------------------------------------------
W_NAME_SAME = 40  # same words after removing diacritics and case
W_NAME_ORDER = 30  # same words in another order
W_NAME_TYPO = 30  # family, middle and given names each equal or one typing error away
W_NAME_MIDDLE_MISSING = 25  # family and given alike, one record has no middle name
W_NAME_GIVEN_ONLY = 10  # given + middle names equal, family name different
W_NAME_DIFFERS = -20
W_BIRTH_SAME = 30
W_BIRTH_SWAPPED = 25  # day and month swapped (12/03 vs 03/12)
W_BIRTH_PARTIAL = 18  # one record has the year (or year-month) only, and it agrees
W_BIRTH_YEAR_TYPO = 12  # same day and month, year one digit off
W_BIRTH_NEAR = 10  # same year, day or month differs (one typing error)
W_BIRTH_DIFFERS = -25
W_GENDER_SAME = 5
W_GENDER_DIFFERS = -15
W_PHONE_SAME = 15
W_COMMUNE_SAME = 8
W_BHXH_DIFFERS = -40  # the 10-digit social-insurance number is for life, but cards get mistyped
NATIONAL_ID_DIFFERS = -100  # different CCCD: never the same person, whatever else agrees

# --- Thresholds -----------------------------------------------------------------------------------
LIKELY = 70  # "rất có thể trùng": registration asks the clerk to pick the existing record or confirm
POSSIBLE = 45  # "có thể trùng": shown to the clerk; below this a candidate is not shown
TYPO_SIMILARITY = 0.9  # a token one edit away (OSA) counts as 0.9; otherwise Jaro–Winkler
MIDDLE_SIMILARITY = 0.85

_NOT_WORD = re.compile(r"[^\w\s]+")


@dataclass(frozen=True, slots=True)
class Reason:
    """One line of the explanation shown to the clerk."""

    code: str  # stable id, e.g. "birth_swapped"
    points: int
    vi: str
    en: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points": self.points, "vi": self.vi, "en": self.en}


@dataclass(frozen=True, slots=True)
class PersonKey:
    """What the scorer compares, taken from a Patient (or a registration form turned into one)."""

    name: str  # as written
    birth_date: str | None = None  # FHIR date: YYYY, YYYY-MM or YYYY-MM-DD
    gender: str | None = None
    phones: frozenset[str] = field(default_factory=frozenset)  # normalised, see normalize_phone
    commune: str | None = None  # administrative code of the commune/ward, else its normalised name
    national_id: str | None = None  # CCCD, 12 digits
    bhxh_number: str | None = None  # mã số BHXH, 10 digits

    @property
    def words(self) -> list[str]:
        return normalize(_NOT_WORD.sub(" ", self.name)).split()

    @classmethod
    def from_patient(cls, patient: dict[str, Any]) -> PersonKey:
        names = patient.get("name") or [{}]
        official = next((n for n in names if n.get("use") == "official"), names[0])
        written = official.get("text") or " ".join([official.get("family") or "", *official.get("given", [])])
        phones = frozenset(normalize_phone(t["value"]) for t in patient.get("telecom", [])
                           if t.get("system") == "phone" and isinstance(t.get("value"), str))
        national_id = bhxh = None
        for ident in patient.get("identifier", []):
            system, value = ident.get("system"), ident.get("value")
            if not isinstance(value, str):
                continue
            if system == systems.NATIONAL_ID:
                national_id = value
            elif system == systems.INSURANCE_NUMBER:
                bhxh = bhxh_number_of(value) or bhxh
        return cls(written.strip(), patient.get("birthDate"), patient.get("gender"), phones,
                   commune_of(patient), national_id, bhxh)


@dataclass(frozen=True, slots=True)
class Match:
    """The score of one candidate against the person being registered."""

    score: int  # 0–100
    reasons: tuple[Reason, ...]

    @property
    def level(self) -> str:
        """``likely``, ``possible`` or ``unlikely`` (see :data:`LIKELY`, :data:`POSSIBLE`)."""
        if self.score >= LIKELY:
            return "likely"
        return "possible" if self.score >= POSSIBLE else "unlikely"

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "reasons": [r.to_dict() for r in self.reasons]}


def normalize_phone(value: str) -> str:
    """Digits only, Vietnamese country code folded into the trunk 0: ``+84 912 345 678`` → ``0912345678``."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith("84") and len(digits) == 11:
        return "0" + digits[2:]
    return digits


def bhxh_number_of(value: str) -> str | None:
    """The 10-digit mã số BHXH inside a card code or number, or None if it is not one."""
    try:
        return bhyt.parse_number(bhyt.normalize(value)).social_insurance_number
    except ValueError:
        return None


def commune_of(patient: dict[str, Any]) -> str | None:
    """The commune code of the first address (VN Core administrative-address ``ward``), else its name."""
    for address in patient.get("address", []):
        for ext in address.get("extension", []):
            if ext.get("url") != systems.EXT_ADMINISTRATIVE_ADDRESS:
                continue
            for part in ext.get("extension", []):
                if part.get("url") == "ward":
                    for coding in (part.get("valueCodeableConcept") or {}).get("coding", []):
                        if coding.get("code"):
                            return str(coding["code"])
        if address.get("city"):
            return normalize(address["city"])
    return None


def score(new: PersonKey, old: PersonKey) -> Match:
    """How alike ``new`` and ``old`` are; identical identifiers are handled before scoring."""
    reasons: list[Reason] = []
    if new.national_id and old.national_id and new.national_id != old.national_id:
        reasons.append(Reason("national_id_differs", NATIONAL_ID_DIFFERS,
                              "Khác số CCCD: không phải cùng một người",
                              "Different CCCD numbers: not the same person"))
        return Match(0, tuple(reasons))
    for reason in (_name(new, old), _birth(new.birth_date, old.birth_date), _gender(new.gender, old.gender)):
        if reason is not None:
            reasons.append(reason)
    if new.phones & old.phones:
        reasons.append(Reason("phone_same", W_PHONE_SAME, "Trùng số điện thoại", "Same phone number"))
    if new.commune and new.commune == old.commune:
        reasons.append(Reason("commune_same", W_COMMUNE_SAME, "Cùng xã/phường cư trú", "Same commune/ward"))
    if new.bhxh_number and old.bhxh_number and new.bhxh_number != old.bhxh_number:
        reasons.append(Reason("bhxh_differs", W_BHXH_DIFFERS, "Khác mã số BHXH", "Different BHXH number"))
    total = max(0, min(100, sum(r.points for r in reasons)))
    return Match(total, tuple(reasons))


def _similarity(a: str, b: str, *, same_initial: bool = False) -> float:
    """1.0 equal; 0.9 one edit apart (for a given name only if the first letter agrees); else Jaro–Winkler."""
    if a == b:
        return 1.0
    typo = min(len(a), len(b)) >= 2 and OSA.distance(a, b) <= 1
    if typo and (not same_initial or a[0] == b[0]):
        return TYPO_SIMILARITY
    return JaroWinkler.normalized_similarity(a, b)


def _name(new: PersonKey, old: PersonKey) -> Reason | None:
    a, b = new.words, old.words
    if not a or not b:
        return None
    if a == b:
        if normalize(new.name) == normalize(old.name) and new.name.casefold() != old.name.casefold():
            return Reason("name_same", W_NAME_SAME, "Trùng họ tên khi bỏ dấu", "Same name ignoring diacritics")
        return Reason("name_same", W_NAME_SAME, "Trùng họ tên", "Same full name")
    if sorted(a) == sorted(b):
        return Reason("name_order", W_NAME_ORDER, "Cùng các chữ trong họ tên, khác thứ tự",
                      "Same words in the name, different order")
    given = _similarity(a[-1], b[-1], same_initial=True)  # Hùng/Dũng are two people
    family = _similarity(a[0], b[0]) if len(a) > 1 and len(b) > 1 else 0.0
    mid_a, mid_b = " ".join(a[1:-1]), " ".join(b[1:-1])
    middle = 1.0 if mid_a == mid_b else (_similarity(mid_a, mid_b) if mid_a and mid_b else 0.0)
    if family >= TYPO_SIMILARITY and given >= TYPO_SIMILARITY:
        if middle >= MIDDLE_SIMILARITY:
            return Reason("name_typo", W_NAME_TYPO, "Họ tên gần giống (có thể gõ sai)",
                          "Name nearly the same (possible typing error)")
        if not mid_a or not mid_b:
            return Reason("name_middle_missing", W_NAME_MIDDLE_MISSING, "Cùng họ và tên, một bên thiếu tên đệm",
                          "Same family and given name, one record lacks the middle name")
    if given == 1.0 and len(a) > 1 and len(b) > 1 and middle >= MIDDLE_SIMILARITY:
        return Reason("name_given_only", W_NAME_GIVEN_ONLY, "Cùng tên đệm và tên, khác họ",
                      "Same middle and given names, different family name")
    return Reason("name_differs", W_NAME_DIFFERS, "Khác họ tên", "Different name")


def _date_parts(value: str | None) -> tuple[int, int | None, int | None] | None:
    if not value or len(value) < 4 or not value[:4].isdigit():
        return None
    parts = value[:10].split("-")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return None
    numbers += [None] * (3 - len(numbers))  # type: ignore[list-item]
    return numbers[0], numbers[1], numbers[2]


def _birth(new: str | None, old: str | None) -> Reason | None:
    a, b = _date_parts(new), _date_parts(old)
    if a is None or b is None:
        return None
    (y1, m1, d1), (y2, m2, d2) = a, b
    if a == b and d1 is not None:
        return Reason("birth_same", W_BIRTH_SAME, "Trùng ngày sinh", "Same date of birth")
    if None in (m1, d1, m2, d2):
        compatible = y1 == y2 and (m1 is None or m2 is None or m1 == m2) and (d1 is None or d2 is None or d1 == d2)
        if compatible:
            return Reason("birth_partial", W_BIRTH_PARTIAL, "Cùng năm sinh (một hồ sơ chỉ ghi năm hoặc tháng năm)",
                          "Same birth year (one record has the year or month only)")
        return Reason("birth_differs", W_BIRTH_DIFFERS, "Khác năm sinh", "Different birth year")
    if y1 == y2 and (d1, m1) == (m2, d2):
        return Reason("birth_swapped", W_BIRTH_SWAPPED, "Ngày sinh bị đảo ngày và tháng",
                      "Date of birth with day and month swapped")
    if (m1, d1) == (m2, d2) and OSA.distance(f"{y1:04d}", f"{y2:04d}") <= 1:
        return Reason("birth_year_typo", W_BIRTH_YEAR_TYPO, "Cùng ngày tháng sinh, năm sinh lệch một chữ số",
                      "Same day and month of birth, year one digit off")
    if y1 == y2 and (m1 == m2 or d1 == d2):
        return Reason("birth_near", W_BIRTH_NEAR, "Cùng năm sinh, lệch ngày hoặc tháng",
                      "Same birth year, day or month differs")
    return Reason("birth_differs", W_BIRTH_DIFFERS, "Khác ngày sinh", "Different date of birth")


def _gender(new: str | None, old: str | None) -> Reason | None:
    known = ("male", "female")
    if new not in known or old not in known:
        return None
    if new == old:
        return Reason("gender_same", W_GENDER_SAME, "Cùng giới tính", "Same sex")
    return Reason("gender_differs", W_GENDER_DIFFERS, "Khác giới tính", "Different sex")
