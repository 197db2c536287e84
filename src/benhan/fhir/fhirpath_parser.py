"""A parser for FHIRPath expressions, producing a small tuple-based syntax tree.

Only the compiler in :mod:`benhan.fhir.fhirpath` reads the tree. The parser accepts the whole
operator grammar (so that precedence is right) and leaves it to the compiler to refuse what it does
not implement; unknown tokens raise :class:`FhirPathSyntaxError`.

Nodes::

    ("ident", name)            member or type name          ("func", name, (args...))
    ("lit", value)             string/number/boolean        ("empty",)  the literal {}
    ("var", name)              %resource, $this ...          ("dot", left, right)
    ("index", expr, index)     expr[index]                  ("op", symbol, left, right)
    ("type", op, expr, name)   expr is T / expr as T        ("neg", expr)
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

Node = tuple[Any, ...]


class FhirPathSyntaxError(ValueError):
    """The expression is not valid FHIRPath (or uses syntax this parser does not know)."""


_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<date>@[0-9T][0-9T:.\-+Z]*)
    |(?P<number>[0-9]+(?:\.[0-9]+)?)
    |(?P<var>%(?:[A-Za-z_][A-Za-z0-9_\-]*|`[^`]*`|'[^']*')|\$(?:this|index|total))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)
    |(?P<op><=|>=|!=|!~|[=~<>|+\-*/&(),.\[\]{}])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

# Binary operators by precedence, lowest first (FHIRPath N1 §"Operator precedence").
_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"implies"}),
    frozenset({"or", "xor"}),
    frozenset({"and"}),
    frozenset({"in", "contains"}),
    frozenset({"=", "~", "!=", "!~"}),
    frozenset({"<", ">", "<=", ">="}),
    frozenset({"|"}),
    frozenset({"is", "as"}),  # type operators: the right-hand side is a type name
    frozenset({"+", "-", "&"}),
    frozenset({"*", "/", "div", "mod"}),
)
_WORD_OPERATORS = frozenset({"implies", "or", "xor", "and", "in", "contains", "is", "as", "div", "mod"})


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped.startswith("u"):
            return chr(int(escaped[1:], 16))
        return _ESCAPES.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, text)


def tokenize(expression: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kinds are string, date, number, var, ident, op."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise FhirPathSyntaxError(f"unexpected character at {position} in {expression!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = tokenize(expression)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FhirPathSyntaxError(f"unexpected end of {self.expression!r}")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text or kind not in ("op", "ident"):
            raise FhirPathSyntaxError(f"expected {text!r}, got {value!r} in {self.expression!r}")

    def at(self, text: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == text and token[0] in ("op", "ident")

    def binary_operator(self, level: int) -> str | None:
        token = self.peek()
        if token is None:
            return None
        kind, text = token
        if kind == "op" or (kind == "ident" and text in _WORD_OPERATORS):
            return text if text in _LEVELS[level] else None
        return None

    def parse_expression(self, level: int = 0) -> Node:
        if level == len(_LEVELS):
            return self.parse_unary()
        left = self.parse_expression(level + 1)
        while (operator := self.binary_operator(level)) is not None:
            self.take()
            if operator in ("is", "as"):
                left = ("type", operator, left, self.parse_type_name())
            else:
                left = ("op", operator, left, self.parse_expression(level + 1))
        return left

    def parse_type_name(self) -> str:
        parts = [self.identifier()]
        while self.at(".") and self.position + 1 < len(self.tokens):
            self.take()
            parts.append(self.identifier())
        return ".".join(parts)

    def identifier(self) -> str:
        kind, text = self.take()
        if kind != "ident":
            raise FhirPathSyntaxError(f"expected a name, got {text!r} in {self.expression!r}")
        return text.strip("`")

    def parse_unary(self) -> Node:
        if self.at("-") or self.at("+"):
            sign = self.take()[1]
            operand = self.parse_unary()
            return ("neg", operand) if sign == "-" else operand
        return self.parse_postfix()

    def parse_postfix(self) -> Node:
        node = self.parse_term()
        while True:
            if self.at("."):
                self.take()
                node = ("dot", node, self.parse_invocation())
            elif self.at("["):
                self.take()
                index = self.parse_expression()
                self.expect("]")
                node = ("index", node, index)
            else:
                return node

    def parse_invocation(self) -> Node:
        name = self.identifier()
        if not self.at("("):
            return ("ident", name)
        self.take()
        args: list[Node] = []
        if not self.at(")"):
            args.append(self.parse_expression())
            while self.at(","):
                self.take()
                args.append(self.parse_expression())
        self.expect(")")
        return ("func", name, tuple(args))

    def parse_term(self) -> Node:
        kind, text = self.peek() or ("", "")
        if kind == "string":
            self.take()
            return ("lit", _unescape(text[1:-1]))
        if kind == "number":
            self.take()
            return ("lit", Decimal(text) if "." in text else int(text))
        if kind == "date":
            self.take()
            return ("date", text[1:])
        if kind == "var":
            self.take()
            return ("var", text[0] + text[1:].strip("`'"))
        if kind == "ident" and text in ("true", "false"):
            self.take()
            return ("lit", text == "true")
        if self.at("("):
            self.take()
            inner = self.parse_expression()
            self.expect(")")
            return inner
        if self.at("{"):
            self.take()
            self.expect("}")
            return ("empty",)
        if kind == "ident":
            return self.parse_invocation()
        raise FhirPathSyntaxError(f"unexpected {text or 'end'!r} in {self.expression!r}")


def parse(expression: str) -> Node:
    """The syntax tree of ``expression``; raises :class:`FhirPathSyntaxError`."""
    parser = _Parser(expression)
    node = parser.parse_expression()
    if parser.peek() is not None:
        raise FhirPathSyntaxError(f"unexpected {parser.peek()[1]!r} in {expression!r}")  # type: ignore[index]
    return node


def split_union(expression: str) -> list[str]:
    """The top-level ``|`` operands of ``expression``, as text (parentheses and strings respected).

    Used to give each base type of a multi-type SearchParameter only its own branches.
    """
    parts: list[str] = []
    depth, start, quote = 0, 0, ""
    for position, char in enumerate(expression):
        if quote:
            if char == quote and expression[position - 1] != "\\":
                quote = ""
        elif char in "'`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(expression[start:position].strip())
            start = position + 1
    parts.append(expression[start:].strip())
    return [part for part in parts if part]
