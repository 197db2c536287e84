"""Search keys for concepts and queries: the same normalisation on both sides (no diacritics, lower case)."""

from __future__ import annotations

import re

from benhan.fhir.text import normalize

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """``"Bệnh đái tháo đường (Có hôn mê)"`` -> ``["benh", "dai", "thao", "duong", "co", "hon", "me"]``."""
    return _WORD.findall(normalize(text))


def word_field(text: str) -> str:
    """Words between single spaces, with a leading and trailing space: a word prefix is ``'% tok%'``."""
    return f" {' '.join(words(text))} "


def code_key(code: str) -> str:
    """``"E11.2"`` -> ``"e112"``: codes compare without case, dot or spaces."""
    return "".join(_WORD.findall(code.lower()))
