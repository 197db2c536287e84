"""Vietnamese personal names (họ và tên) as FHIR HumanName.

Order is family name (họ), middle names (tên đệm), given name (tên): "Nguyễn Văn An" → family
"Nguyễn", given ["Văn", "An"]. FHIR has no middle-name element; middle names go first in ``given``,
which keeps ``family + given`` in the order people write and read the name. ``text`` carries the
name as written (whitespace collapsed, Unicode NFC) and stays the authority for display: splitting
is a heuristic.

Compound family names recognised (each is a surname, not surname + middle name):
- royal lineages of the Nguyễn dynasty: Tôn Thất (male line), Tôn Nữ, Công Tằng Tôn Nữ,
  Công Huyền Tôn Nữ (female lines) — "Thất" and "Nữ" here are never middle names;
- Sino-Vietnamese two-syllable surnames Âu Dương, Tư Mã, Gia Cát, Thượng Quan, Lệnh Hồ, Tư Đồ —
  only when at least one word follows, since "Âu Dương" alone is surname Âu + given name Dương.
Deliberately not recognised: "Nguyễn Phúc"/"Nguyễn Phước" (royal, but Phúc/Phước is a very common
middle name, so "Nguyễn Phúc An" would be mis-split far more often than not), and double surnames
built from both parents' ("Trương Nguyễn ...") which cannot be told from a middle name.
Not handled: names of peoples that put the clan name last (e.g. Ê Đê "Y Ngông Niê Kdăm"); callers
pass ``family_words`` when a form has separate fields.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from benhan.vn.errors import InvalidValue

_COMPOUND_FAMILY: tuple[tuple[str, ...], ...] = tuple(sorted((
    ("công", "tằng", "tôn", "nữ"),
    ("công", "huyền", "tôn", "nữ"),
    ("tôn", "thất"),
    ("tôn", "nữ"),
    ("âu", "dương"),
    ("tư", "mã"),
    ("gia", "cát"),
    ("thượng", "quan"),
    ("lệnh", "hồ"),
    ("tư", "đồ"),
), key=len, reverse=True))


def clean(text: str) -> str:
    """``text`` in Unicode NFC (keyboards may send decomposed diacritics) with whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _family_word_count(words: list[str]) -> int:
    folded = [w.casefold() for w in words]
    for compound in _COMPOUND_FAMILY:
        n = len(compound)
        if len(words) > n and tuple(folded[:n]) == compound:
            return n
    return 1


def split_name(text: str, *, family_words: int | None = None, use: str = "official") -> dict[str, Any]:
    """A HumanName for a name written family-first; a single word is a given name (tên) only.

    ``family_words`` forces how many leading words are the family name (0 = none).
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidValue("name.empty", "Họ và tên không được để trống", "Name: must not be empty",
                           code="required")
    written = clean(text)
    words = written.split(" ")
    if family_words is None:
        family_words = _family_word_count(words) if len(words) > 1 else 0
    if not 0 <= family_words <= len(words):
        raise ValueError(f"family_words must be 0–{len(words)}, got {family_words}")
    name: dict[str, Any] = {"use": use, "text": written}
    if family_words:
        name["family"] = " ".join(words[:family_words])
    if family_words < len(words):
        name["given"] = words[family_words:]
    return name


def format_name(name: dict[str, Any], *, upper: bool = False) -> str:
    """A HumanName as Vietnamese write it: prefix, family, given, suffix; else its ``text``.

    ``upper=True`` gives the capitals that Ministry forms print (IN HOA).
    """
    core: list[str] = [name["family"]] if name.get("family") else []
    core.extend(name.get("given", []))
    if core:
        result = clean(" ".join([*name.get("prefix", []), *core, *name.get("suffix", [])]))
    else:
        result = clean(name.get("text") or "")
    return result.upper() if upper else result
