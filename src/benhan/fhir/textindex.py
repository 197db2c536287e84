"""The documents behind ``_text`` (the narrative) and ``_content`` (the whole resource), made on write.

A resource's text is kept as one row of ``idx_text`` (:mod:`benhan.fhir.special_tables`) with two
*documents*: ``narrative`` (``text.div`` stripped of its XHTML) and ``content`` (every string of the
resource, narrative included). A document is a list of words, each folded like string search does
(:func:`benhan.fhir.text.fold`: lower case, no diacritics, so "Nguyễn" is ``nguyen`` and "Đỗ" is ``do``)
and made only of letters and digits: ``8480-6`` is the two words ``8480 6``, ``Hà Nội,`` is ``ha noi``.
Words are separated by one space; values (two strings, two narrative paragraphs) by `` | ``, so that a
quoted phrase never runs from one value into the next. The search side (:mod:`benhan.fhir.search.textsearch`)
turns a query into words with the same :func:`words`, so both sides always agree.

What ``content`` holds: every JSON string of the resource and of its contained resources, except what is
the record's machinery rather than its content — ``resourceType``, ``id`` (of the resource and of its
elements), ``meta``, ``Reference.reference`` and the ``url``, ``system``, ``fullUrl``, ``data`` (base64)
and ``hash`` values — and the narrative's ``status``. Nested narratives (``Composition.section.text.div``)
are content too. Numbers, booleans and strings that are as a whole a date (from year-month on) or a time
are left out: number, quantity and date parameters search them, and as words "2016-01-07T22:28:27+00:00"
is six meaningless ones, a third of the distinct words of a Synthea resource (a date inside a text, "tái
khám 2016-01-07", stays). A value repeated word for word is kept once. A word is cut to :data:`MAX_WORD`
characters and a document to :data:`MAX_DOCUMENT`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from .text import fold

MAX_WORD = 100
"""Longer words are cut (queries too, so they still match); also keeps PostgreSQL's GIN keys small."""
MAX_DOCUMENT = 100_000
"""Characters of one document; the words after that are not searchable."""
SEPARATOR = " | "
"""Between two values of a document: a phrase may not match across it."""

_SKIP = frozenset({"resourceType", "id", "meta", "reference", "url", "system", "fullUrl", "data", "hash"})
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script (str.isalnum)
# FHIR date, dateTime, instant (R4 datatypes.html regexes) and time: searched by date parameters, not as
# words. A year alone ("2016") is not taken for a date: four digits are as often a code.
_DATE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:"
                   r"([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?)?)?"
                   r"|([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?")
# Values are joined with a control character that validated FHIR strings never contain (R4 allows none but
# tab, CR and LF); if one slipped in, it would only split that value in two.
_JOIN = "\x1e"
# ASCII text, the usual case, is made into words by one bytes.translate: letters to lower case, digits kept,
# everything else a space (but the join character). Far faster than folding and a regex.
_ASCII_WORDS = bytes(
    ord(chr(code).lower()) if code < 128 and chr(code).isalnum() else code if chr(code) == _JOIN else 0x20
    for code in range(256)
)
_TAG = re.compile(r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*>", re.S)
# XHTML elements that start a new block (FHIR narratives use these, see R4 narrative.html): they separate
# values; inline ones (b, i, span, a...) do not even separate words ("Ng<b>u</b>yễn" reads "Nguyễn").
_BLOCK = frozenset({"address", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4",
                    "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "table", "tbody", "td", "tfoot", "th",
                    "thead", "tr", "ul", "col", "colgroup"})


def _cut(word: str) -> str:
    return word if len(word) <= MAX_WORD else word[:MAX_WORD]


def words(text: str) -> list[str]:
    """The words of ``text`` as documents hold them (used for queries too)."""
    return [_cut(word) for word in _WORD.findall(fold(text))]


def _is_date(value: str) -> bool:
    return (value[4:5] == "-" or value[2:3] == ":") and _DATE.fullmatch(value) is not None


def document(values: Iterable[str]) -> str:
    """The document of ``values``: each value's :func:`words`, values separated by :data:`SEPARATOR`.

    A value that is a date, date-time, instant or time as a whole is left out, and a value whose words
    another value already gave is kept once (``coding.display`` and ``CodeableConcept.text`` are often the
    same): neither changes what a query can find, both make the index smaller.
    """
    joined = _JOIN.join([value for value in values
                         if not ((value[4:5] == "-" or value[2:3] == ":") and _DATE.fullmatch(value))])
    if not joined.isascii():
        joined = fold(joined)  # "Nguyễn" -> "nguyen": most Vietnamese text is ASCII after this
    lines: list[str] = []
    if joined.isascii():
        for line in joined.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split(_JOIN):
            found = line.split()
            if found:
                if len(line) > MAX_WORD:
                    found = [_cut(word) for word in found]
                lines.append(" ".join(found))
    else:  # other scripts, or punctuation such as "—" or "’"
        for line in joined.split(_JOIN):
            found = _WORD.findall(line)
            if found:
                lines.append(" ".join([_cut(word) for word in found]))
    doc = SEPARATOR.join(dict.fromkeys(lines))
    if len(doc) > MAX_DOCUMENT:
        doc = doc[:doc.rfind(" ", 0, MAX_DOCUMENT + 1)].removesuffix(" |")
    return doc


def narrative_blocks(div: str) -> list[str]:
    """The text of an XHTML narrative, one string per block (paragraph, cell, list item...)."""
    # line breaks of the XHTML source are spaces (as a browser shows them); \x00 marks a block's edge
    text = _TAG.sub(lambda m: "\x00" if m.group(2) and m.group(2).lower() in _BLOCK else "", div.replace("\n", " "))
    return [block for block in html.unescape(text).replace("\n", " ").split("\x00") if block.strip()]


def _strings(node: dict[str, Any] | list[Any], out: list[str]) -> None:
    """Append the strings under ``node`` to ``out``. Recursive: validation has refused anything nested
    deeper than Python's stack allows before extraction runs."""
    if node.__class__ is dict:
        for key, value in node.items():  # type: ignore[union-attr]
            if key in _SKIP:
                continue
            kind = value.__class__
            if kind is str:
                if key == "div":  # a nested narrative (Composition.section.text): content too
                    out.extend(narrative_blocks(value))
                else:
                    out.append(value)
            elif kind is dict or kind is list:
                _strings(value, out)
    else:
        for value in node:
            kind = value.__class__
            if kind is str:
                out.append(value)
            elif kind is dict or kind is list:
                _strings(value, out)


def text_row(resource: dict[str, Any]) -> tuple[str | None, str] | None:
    """``(narrative, content)`` documents of ``resource``; None when it has no text at all.

    ``narrative`` is None without a narrative (or with an empty one).
    """
    values: list[str] = []
    narrative: str | None = None
    text = resource.get("text")
    if text.__class__ is dict and text.get("div").__class__ is str:
        values = narrative_blocks(text["div"])
        narrative = document(values) or None
        resource = {key: value for key, value in resource.items() if key != "text"}  # its status is not content
    _strings(resource, values)
    content = document(values)
    return (narrative, content) if content else None
