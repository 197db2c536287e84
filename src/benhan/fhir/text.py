"""Text normalisation for string search: case- and diacritics-insensitive.

``Nguyễn Văn Ánh`` -> ``nguyen van anh``; ``Đỗ`` -> ``do``. Vietnamese đ/Đ is a distinct letter
(not a combining mark), so it is mapped explicitly before NFD decomposition strips the marks.
"""

from __future__ import annotations

import unicodedata

_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "ß": "ss", "æ": "ae",
                          "Æ": "ae", "ł": "l", "Ł": "l", "ı": "i"})


def normalize(text: str) -> str:
    """Lower-case, strip combining marks, collapse whitespace."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
