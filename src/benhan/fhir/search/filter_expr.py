"""``_filter`` (R4 search_filter.html): a small expression language over the search parameters.

``_filter=name co "anh" and (birthdate ge 1990-01-01 or not (gender eq male))``

The text is tokenized and parsed by recursive descent into a tree of :class:`Compare`,
:class:`Logical` (``and``/``or``) and :class:`Not` nodes. Each comparison is then compiled by the
ordinary criterion compiler (:func:`benhan.fhir.search.filters.criterion`) as the parameter path
with the operator attached (``Name.op``), so ``name co "anh"`` is the same SQL as
``name:contains=anh`` and ``birthdate ge 1990`` the same as ``birthdate=ge1990``; the tree becomes
SQL ``AND``/``OR``/``NOT`` around those conditions.

Grammar (the R4 one, minus the parts answered 400 ``not-supported``)::

    filter     = or
    or         = and *("or" and)
    and        = unary *("and" unary)          ; "and" binds tighter than "or"
    unary      = "(" filter ")" / "not" "(" filter ")" / comparison
    comparison = path SP operator SP value
    path       = name *("." name)              ; a chain: subject.name
    name       = ("_" / ALPHA) *("_" / "-" / DIGIT / ALPHA)
    value      = DQUOTE json-string-chars DQUOTE / token
    token      = 1*(any character except whitespace, ")" and "]")

Keywords and operators are case-insensitive. ``path[filter].rest`` (filters on the parts of a
parameter) is not supported; nor are operators a parameter type has no meaning for (see
``filters._operator``). Every problem is a 400 whose expression is ``_filter``: parse errors say at
which character the parse failed, errors of a comparison name the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import ColumnElement, and_, not_, or_

from ..errors import FhirError, Issue
from .query import Name
from .sql import Context

PARAM = "_filter"
OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "ap", "sa", "eb", "pr", "po",
                       "ss", "sb", "in", "ni", "re"})
#: Parameters that cannot appear inside a filter (they are not comparisons on the resource).
NOT_IN_FILTER = frozenset({"_filter", "_list", "_has", "_text", "_content", "_query", "_type"})
MAX_LENGTH = 4000
MAX_COMPARISONS = 64
MAX_NESTING = 32
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

Criterion = Callable[[Context, Name, list[str], str], ColumnElement[bool] | None]


@dataclass(frozen=True, slots=True)
class Compare:
    """``path op value``; ``pos`` is the 1-based character where the comparison starts."""

    path: tuple[str, ...]
    op: str
    value: str
    pos: int
    text: str


@dataclass(frozen=True, slots=True)
class Logical:
    op: str  # "and" | "or"
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Compare | Logical | Not


def parse_error(pos: int, text: str, vi: str, en: str) -> FhirError:
    """A 400 saying where (1-based character) and near what the parse of ``text`` failed."""
    near = text[pos - 1:pos + 19] if pos <= len(text) else ""
    where_vi = f"ở ký tự {pos}" + (f" (gần '{near}')" if near else " (cuối biểu thức)")
    where_en = f"at character {pos}" + (f" (near '{near}')" if near else " (end of the expression)")
    return FhirError.one(400, "invalid", f"_filter không hợp lệ {where_vi}: {vi}",
                         f"Invalid _filter {where_en}: {en}", PARAM)


def not_supported(vi: str, en: str) -> FhirError:
    return FhirError.one(400, "not-supported", f"_filter: {vi}", f"_filter: {en}", PARAM)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.nesting = 0
        self.comparisons = 0

    def fail(self, vi: str, en: str, at: int | None = None) -> FhirError:
        return parse_error((self.i if at is None else at) + 1, self.text, vi, en)

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def skip_ws(self) -> bool:
        start = self.i
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1
        return self.i > start

    def keyword(self, word: str, *, before_paren: bool = False) -> bool:
        """Consume ``word`` (case-insensitive) if it is a whole word here; ``before_paren``: only if
        an opening parenthesis follows (``not (...)``)."""
        save = self.i
        self.skip_ws()
        end = self.i + len(word)
        if self.text[self.i:end].lower() == word and (end == len(self.text) or self.text[end].isspace()
                                                       or self.text[end] == "("):
            self.i = end
            if not before_paren:
                return True
            self.skip_ws()
            if self.peek() == "(":
                return True
        self.i = save
        return False

    def parse(self) -> Node:
        if len(self.text) > MAX_LENGTH:
            raise not_supported(f"biểu thức dài quá {MAX_LENGTH} ký tự",
                                f"the expression is longer than {MAX_LENGTH} characters")
        self.skip_ws()
        if not self.peek():
            raise self.fail("biểu thức rỗng", "the expression is empty")
        node = self.disjunction()
        self.skip_ws()
        if self.i < len(self.text):
            raise self.fail("thừa ký tự, cần 'and', 'or' hoặc kết thúc",
                            "unexpected text, expected 'and', 'or' or the end")
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.keyword("or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Logical("or", tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.keyword("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else Logical("and", tuple(items))

    def unary(self) -> Node:
        self.skip_ws()
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise not_supported(f"lồng quá {MAX_NESTING} cấp", f"more than {MAX_NESTING} levels of nesting")
        try:
            negate = self.keyword("not", before_paren=True)
            if self.peek() == "(":
                opened = self.i
                self.i += 1
                node = self.disjunction()
                self.skip_ws()
                if self.peek() != ")":
                    raise self.fail(f"thiếu ')' đóng '(' ở ký tự {opened + 1}",
                                    f"missing ')' closing the '(' at character {opened + 1}")
                self.i += 1
                return Not(node) if negate else node
            return self.comparison()
        finally:
            self.nesting -= 1

    def comparison(self) -> Compare:
        start = self.i
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise not_supported(f"quá {MAX_COMPARISONS} phép so sánh", f"more than {MAX_COMPARISONS} comparisons")
        path = self.path()
        if not self.skip_ws():
            raise self.fail("cần khoảng trắng rồi toán tử sau tên tham số",
                            "expected a space and an operator after the parameter")
        op_at = self.i
        while self.peek().isalpha():
            self.i += 1
        op = self.text[op_at:self.i].lower()
        if not op:
            raise self.fail("cần toán tử (eq, ne, co, sw, ew, gt, lt, ge, le, ...)",
                            "expected an operator (eq, ne, co, sw, ew, gt, lt, ge, le, ...)")
        if op not in OPERATORS:
            raise self.fail(f"toán tử '{op}' không có trong _filter", f"'{op}' is not a _filter operator", op_at)
        if not self.skip_ws():
            raise self.fail("cần khoảng trắng rồi giá trị sau toán tử",
                            "expected a space and a value after the operator")
        value = self.value()
        return Compare(tuple(path), op, value, start + 1, self.text[start:self.i])

    def path(self) -> list[str]:
        links = []
        while True:
            at = self.i
            ch = self.peek()
            if not (ch == "_" or (ch.isascii() and ch.isalpha())):
                raise self.fail("cần tên tham số tìm kiếm", "expected a search parameter name")
            while self.peek() and (self.peek() in "_-" or (self.peek().isascii() and self.peek().isalnum())):
                self.i += 1
            links.append(self.text[at:self.i])
            if self.peek() == "[":
                raise not_supported(f"lọc trên thành phần của tham số ('{self.text[at:self.i]}[...]') chưa được hỗ trợ",
                                    f"filters on the parts of a parameter ('{self.text[at:self.i]}[...]') "
                                    "are not supported")
            if self.peek() == ":":
                raise self.fail("tên tham số trong _filter không có bộ chỉnh ':' (dùng toán tử)",
                                "parameter names in _filter take no ':' modifier (use an operator)")
            if self.peek() != ".":
                return links
            self.i += 1

    def value(self) -> str:
        if self.peek() == '"':
            return self.string()
        start = self.i
        while self.i < len(self.text) and not self.text[self.i].isspace() and self.text[self.i] not in ")]":
            self.i += 1
        if self.i == start:
            raise self.fail("cần giá trị", "expected a value")
        token = self.text[start:self.i]
        if '"' in token:
            raise self.fail("dấu '\"' giữa giá trị (đặt cả giá trị trong ngoặc kép)",
                            "a '\"' inside a value (quote the whole value)", start + token.index('"'))
        return token

    def string(self) -> str:
        opened = self.i
        self.i += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail(f"chuỗi mở ở ký tự {opened + 1} không được đóng",
                                f"the string opened at character {opened + 1} is not closed", opened)
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch == "\\":
                esc = self.text[self.i + 1:self.i + 2]
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    self.i += 2
                    continue
                digits = self.text[self.i + 2:self.i + 6]
                if esc == "u" and len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                    out.append(chr(int(digits, 16)))
                    self.i += 6
                    continue
                raise self.fail("chuỗi có ký tự thoát không hợp lệ (dùng \\\" \\\\ \\n \\t \\uXXXX)",
                                "invalid escape in a string (use \\\" \\\\ \\n \\t \\uXXXX)")
            out.append(ch)
            self.i += 1


def parse(text: str) -> Node:
    """The expression tree of a ``_filter`` value; a 400 (expression ``_filter``) when malformed."""
    return _Parser(text).parse()


def condition(ctx: Context, text: str, criterion: Criterion) -> ColumnElement[bool]:
    """The SQL condition of one ``_filter`` value on ``ctx.res``.

    Compiled strictly: inside an expression an ignored parameter would change the meaning of its
    ``and``/``or``/``not`` (dropping ``not (x)`` widens, dropping one side of ``or`` narrows), so an
    unknown parameter is a 400 here even without ``Prefer: handling=strict``. Filter conditions never
    drive a page (engine._driven_page): they get their own driver table, discarded.
    """
    tree = parse(text)
    inner = replace(ctx, strict=True, warnings=[], drivers={})
    return _compile(inner, tree, criterion)


def _compile(ctx: Context, node: Node, criterion: Criterion) -> ColumnElement[bool]:
    if isinstance(node, Logical):
        parts = [_compile(ctx, item, criterion) for item in node.items]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(_compile(ctx, node.item, criterion))
    return _comparison(ctx, node, criterion)


def _comparison(ctx: Context, node: Compare, criterion: Criterion) -> ColumnElement[bool]:
    for link in node.path:
        if link in NOT_IN_FILTER:
            raise _located(not_supported(f"tham số '{link}' không dùng được bên trong _filter",
                                         f"the parameter '{link}' cannot be used inside _filter"), node)
    name = Name(node.path[-1], op=node.op)
    for link in reversed(node.path[:-1]):
        name = Name(link, chain=name)
    raw = ".".join(node.path)
    try:
        found = criterion(ctx, name, [node.value], raw)
    except FhirError as exc:
        raise _located(exc, node) from exc
    if found is None:  # an empty value: nothing to compare with
        raise _located(FhirError.one(400, "invalid", "giá trị rỗng", "the value is empty", PARAM), node)
    return found


def _located(exc: FhirError, node: Compare) -> FhirError:
    """The error of one comparison, re-addressed to ``_filter`` and naming the comparison."""
    where_vi = f"phép so sánh '{node.text}' (ký tự {node.pos})"
    where_en = f"comparison '{node.text}' (character {node.pos})"
    issues = []
    for issue in exc.issues:
        vi, en = issue.vi, issue.en
        if vi.startswith("_filter: "):  # this module's own not-supported errors
            vi, en = vi[len("_filter: "):], en[len("_filter: "):]
        issues.append(Issue(issue.code, f"_filter, {where_vi}: {vi}", f"_filter, {where_en}: {en}", PARAM,
                            issue.severity))
    return FhirError(exc.status, issues)
