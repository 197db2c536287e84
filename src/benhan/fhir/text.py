"""Text normalisation for string search: case- and diacritics-insensitive.

``Nguyễn Văn Ánh`` -> ``nguyen van anh``; ``Đỗ`` -> ``do``. Vietnamese đ/Đ is a distinct letter
(not a combining mark), so it is mapped explicitly before NFD decomposition strips the marks.
"""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "ß": "ss", "æ": "ae",
                          "Æ": "ae", "ł": "l", "Ł": "l", "ı": "i"})


def normalize(text: str) -> str:
    """Lower-case, strip combining marks, collapse whitespace (:func:`fold`, then the collapse)."""
    return " ".join(fold(text).split())


# The Combining Diacritical Marks block (U+0300-U+036F) except U+034F, the one character in it whose
# combining class is 0: every mark of Vietnamese is here, and one regex pass is much faster than testing
# each character (fold() is run over whole resources for _content).
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")


def fold(text: str) -> str:
    """Lower case, no diacritics, separators kept (:func:`normalize` without the whitespace collapse).

    Line breaks survive, so a caller can fold many values joined by newlines at once and split them again.
    """
    folded = text.translate(_SPECIAL)
    if not folded.isascii():
        folded = _COMMON_MARKS.sub("", unicodedata.normalize("NFD", folded))
        if not folded.isascii():  # other combining marks (rare scripts): the exact, slower test
            folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return folded.casefold()
