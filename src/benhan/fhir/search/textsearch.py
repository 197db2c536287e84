"""``_text`` (the narrative) and ``_content`` (the whole resource): full-text search, R4 search.html
"Text Search Parameters", over the documents of :mod:`benhan.fhir.textindex` (``idx_text``).

The value is a text query, as R4 describes it ("multiple words ... and logical operations such as AND,
OR": ``Condition?_text=(bone OR liver) and metastases``) in the syntax of OData's ``$search``, which R4
recommends::

    query  = or
    or     = and *("OR" and)
    and    = unary *(["AND"] unary)     ; words side by side are ANDed; AND binds tighter than OR
    unary  = "NOT" unary / "(" query ")" / term
    term   = word / DQUOTE phrase DQUOTE  ; \\" and \\\\ escape inside a phrase

Keywords in any case (R4's own example writes ``and``); to search for the word "and", quote it. A term
is made into words as documents are (:func:`benhan.fhir.textindex.words`: case and diacritics do not
matter, ``Nguyễn`` = ``nguyen``, ``Đỗ`` = ``do``); a word matches a whole word of the document (no
prefixes, no stemming, no thesaurus), a phrase — or a term that is several words, such as ``8480-6`` —
the same words side by side within one value (one string, one paragraph of the narrative). ``NOT x``
matches resources without ``x``, also those without any narrative or text. Commas OR whole queries,
repeated parameters AND them; ``:missing`` is supported, every other modifier is a 400.

SQL: a *prefilter* — the positive part of the query, as whole words — goes to the full-text index
(PostgreSQL: ``string_to_array(document, ' ') @> / && ARRAY[...]`` on GIN; SQLite: an FTS5 ``MATCH``),
and where that is not already the exact answer (phrases, NOT) the query is checked on the document text
itself (does ``' ' || document || ' '`` contain ``' word word '``?), which is exact because documents are
words separated by single spaces and values by `` | ``. A query with no positive word (``NOT x``) has no
prefilter and reads every document of the searched resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, bindparam, func, literal, literal_column, not_, or_, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Text

from ..errors import FhirError, Issue
from ..special_tables import idx_text
from ..textindex import words
from .problems import bad_modifier
from .query import unescape
from .sql import Context, correlate

PARAMS = {"_text": "narrative", "_content": "content"}
"""The parameters and the document each one searches."""
MAX_TERMS = 32
MAX_NESTING = 16
MAX_LENGTH = 1000
_KEYWORDS = frozenset({"AND", "OR", "NOT"})


@dataclass(frozen=True, slots=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Term | Logical | Not


def invalid_query(param: str, value: str, vi: str, en: str) -> FhirError:
    """A 400 naming the parameter (``expression``, and ``location`` as ``http.<param>``, R4 OperationOutcome)."""
    return FhirError(400, [Issue("invalid", f"Giá trị '{value}' của tham số '{param}' không hợp lệ: {vi}",
                                 f"Invalid value '{value}' for search parameter '{param}': {en}", param,
                                 location=f"http.{param}")])


# ---- parsing -----------------------------------------------------------------------------------

def _tokens(text: str, fail: Any) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs: ``(``, ``)``, ``op`` (AND/OR/NOT), ``word``, ``phrase``."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append((ch, ch))
            i += 1
        elif ch == '"':
            i += 1
            chars: list[str] = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\':
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise fail("dấu ngoặc kép chưa được đóng", "a quoted phrase is not closed")
            out.append(("phrase", "".join(chars)))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            word = text[start:i]
            out.append(("op", word.upper()) if word.upper() in _KEYWORDS else ("word", word))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], fail: Any) -> None:
        self.tokens, self.i, self.fail, self.terms = tokens, 0, fail, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def query(self, depth: int = 0) -> Node:
        if depth > MAX_NESTING:
            raise self.fail(f"lồng quá {MAX_NESTING} cấp", f"more than {MAX_NESTING} levels of nesting")
        items = [self.conjunction(depth)]
        while self.peek() == ("op", "OR"):
            self.i += 1
            items.append(self.conjunction(depth))
        return items[0] if len(items) == 1 else Logical("or", tuple(items))

    def conjunction(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while (token := self.peek()) is not None and token[0] != ")" and token != ("op", "OR"):
            if token == ("op", "AND"):
                self.i += 1
            items.append(self.unary(depth))
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("thiếu từ cần tìm ở cuối", "a search term is missing at the end")
        self.i += 1
        kind, text = token
        if token == ("op", "NOT"):
            return Not(self.unary(depth + 1))
        if kind == "(":
            inner = self.query(depth + 1)
            if self.peek() != (")", ")"):
                raise self.fail("thiếu dấu ')'", "a ')' is missing")
            self.i += 1
            return inner
        if kind in ("word", "phrase"):
            found = tuple(words(text))
            if not found:
                raise self.fail(f"'{text}' không có chữ hay số nào để tìm",
                                f"'{text}' has no letter or digit to search")
            self.terms += 1
            if self.terms > MAX_TERMS:
                raise self.fail(f"quá {MAX_TERMS} từ", f"more than {MAX_TERMS} terms")
            return Term(found)
        raise self.fail(f"'{text}' đứng sai chỗ", f"unexpected '{text}'")


def parse(param: str, value: str) -> Node:
    """The query tree of one value (already unescaped); 400 naming the parameter when malformed."""

    def fail(vi: str, en: str) -> FhirError:
        return invalid_query(param, value, vi, en)

    if len(value) > MAX_LENGTH:
        raise fail(f"dài quá {MAX_LENGTH} ký tự", f"longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(value, fail), fail)
    if parser.peek() is None:
        raise fail("không có từ nào để tìm", "nothing to search for")
    node = parser.query()
    if parser.peek() is not None:
        raise fail(f"'{parser.peek()[1]}' đứng sai chỗ", f"unexpected '{parser.peek()[1]}'")  # type: ignore[index]
    return node


# ---- evaluation --------------------------------------------------------------------------------

def matches_empty(node: Node) -> bool:
    """Does ``node`` match a resource with no text at all (only through NOT)?"""
    if isinstance(node, Term):
        return False
    if isinstance(node, Not):
        return not matches_empty(node.item)
    results = [matches_empty(item) for item in node.items]
    return all(results) if node.op == "and" else any(results)


def matches(node: Node, document: str) -> bool:
    """``node`` against a document, in Python: what the SQL computes (used by the tests' brute force)."""
    padded = f" {document} "
    if isinstance(node, Term):
        return f" {' '.join(node.words)} " in padded
    if isinstance(node, Not):
        return not matches(node.item, document)
    results = [matches(item, document) for item in node.items]
    return all(results) if node.op == "and" else any(results)


def _exact_needed(node: Node) -> bool:
    if isinstance(node, Term):
        return len(node.words) > 1
    if isinstance(node, Not):
        return True
    return any(_exact_needed(item) for item in node.items)


@dataclass(frozen=True, slots=True)
class _Pre:
    """A positive condition on whole words, that the full-text index answers: ``op`` of words and parts."""

    op: str  # "and" | "or"
    words: tuple[str, ...]
    parts: tuple[_Pre, ...] = ()


def _prefilter(node: Node) -> _Pre | None:
    """Implied by ``node`` (a superset of its matches) and answerable by the index; None if there is none."""
    if isinstance(node, Term):
        return _Pre("and", node.words)
    if isinstance(node, Not):
        return None
    found = [_prefilter(item) for item in node.items]
    if node.op == "or" and any(p is None for p in found):
        return None
    kept = [p for p in found if p is not None]
    if not kept:
        return None
    same = [p for p in kept if p.op == node.op or (len(p.words) == 1 and not p.parts)]
    others = tuple(p for p in kept if p not in same)
    flat = tuple(dict.fromkeys(w for p in same for w in p.words))
    nested = tuple(part for p in same for part in p.parts) + others
    return _Pre(node.op, flat, nested)


def _document_has(dialect: str, col: Any, node: Node) -> ColumnElement[bool]:
    """``node`` checked on the document text (exact): ``' ' || document || ' '`` contains ``' w1 w2 '``.

    ``strpos``/``instr`` rather than ``LIKE '% w1 w2 %'``, which means the same: PostgreSQL estimates a
    ``LIKE`` with a leading ``%`` at 0.5 % of the rows and multiplies that into the index condition's
    estimate, so a common phrase (``"huyet ap"``) looked like a handful of rows and was planned as a scan
    of every match followed by a sort (1 s at 200 k resources) instead of a walk in key order that stops
    at the page's end; a comparison of ``strpos`` keeps the index condition's estimate in charge.
    """
    if isinstance(node, Term):
        padded = literal(" ", String) + func.coalesce(col, "") + literal(" ", String)
        position = func.strpos if dialect == "postgresql" else func.instr
        return position(padded, f" {' '.join(node.words)} ") > 0
    if isinstance(node, Not):
        return not_(_document_has(dialect, col, node.item))
    parts = [_document_has(dialect, col, item) for item in node.items]
    return and_(*parts) if node.op == "and" else or_(*parts)


def _postgres_words(col: Any, pre: _Pre) -> ColumnElement[bool]:
    """The prefilter on the GIN index of ``string_to_array(col, ' ')`` (the index's own expression)."""
    array = func.string_to_array(col, literal_column("' '"))
    conds: list[ColumnElement[bool]] = []
    if pre.words:
        operator = "@>" if pre.op == "and" else "&&"
        conds.append(array.op(operator)(bindparam(None, list(pre.words), type_=ARRAY(Text))))
    conds += [_postgres_words(col, part) for part in pre.parts]
    return and_(*conds) if pre.op == "and" else or_(*conds)


def _fts_query(column: str, pre: _Pre) -> str:
    """The prefilter as an FTS5 query on one column: ``{content} : ("a" AND ("b" OR "c"))``."""

    def build(p: _Pre) -> str:
        items = [f'"{w}"' for w in p.words] + [build(part) for part in p.parts]
        return items[0] if len(items) == 1 else "(" + f" {p.op.upper()} ".join(items) + ")"

    return f"{{{column}}} : ({build(pre)})"


_FTS = "idx_text_fts"


def _sqlite_matches(column: str, pre: _Pre) -> Any:
    """The keys of the documents matching the prefilter (FTS5; ``rowid`` is ``idx_text.res_pk``)."""
    fts = sql_table(_FTS, sql_column("rowid"))
    return select(fts.c.rowid).where(literal_column(_FTS).op("MATCH")(bindparam(None, _fts_query(column, pre),
                                                                                type_=String)))


def node_condition(ctx: Context, param: str, node: Node) -> ColumnElement[bool]:
    """The resources (``ctx.res``) whose ``param`` document matches ``node``."""
    column = PARAMS[param]
    pre = _prefilter(node)
    exact = pre is None or _exact_needed(node)
    if pre is not None and not exact and ctx.dialect == "sqlite":
        found: ColumnElement[bool] = ctx.res.c.pk.in_(_sqlite_matches(column, pre))
    else:
        t = idx_text.alias(ctx.alias_name("txt"))
        col = t.c[column]
        conds: list[ColumnElement[bool]] = []
        if pre is not None:
            if ctx.dialect == "postgresql":
                conds += [col.isnot(None), _postgres_words(col, pre)]
            else:
                conds.append(t.c.res_pk.in_(_sqlite_matches(column, pre)))
        if exact:
            conds.append(_document_has(ctx.dialect, col, node))
        found = correlate(ctx.dialect, t, t.c.res_pk, ctx.res.c.pk, *conds)
    if matches_empty(node):  # "NOT x" also matches the resources that have no text at all
        t = idx_text.alias(ctx.alias_name("txt"))
        found = or_(found, not_(correlate(ctx.dialect, t, t.c.res_pk, ctx.res.c.pk)))
    return found


def condition(ctx: Context, param: str, modifier: str | None, values: list[str], raw: str) -> ColumnElement[bool]:
    """``_text``/``_content`` with its OR-ed values (``:missing`` is answered by :func:`present`)."""
    if modifier is not None:
        raise bad_modifier(raw, modifier)
    nodes = [parse(raw, unescape(v)) for v in values]
    return node_condition(ctx, param, nodes[0] if len(nodes) == 1 else Logical("or", tuple(nodes)))


def present(ctx: Context, param: str) -> ColumnElement[bool]:
    """The resource has a document for ``param`` (for ``:missing``)."""
    t = idx_text.alias(ctx.alias_name("txt"))
    conds = [t.c.narrative.isnot(None)] if PARAMS[param] == "narrative" else []
    return correlate(ctx.dialect, t, t.c.res_pk, ctx.res.c.pk, *conds)


__all__ = ["PARAMS", "Logical", "Node", "Not", "Term", "condition", "matches", "parse", "present"]
