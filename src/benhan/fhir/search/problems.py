"""Bilingual errors and warnings of the search engine.

Unknown or unsupported parameters are ignored and reported (OperationOutcome entry in the Bundle),
or rejected with 400 under ``Prefer: handling=strict``; invalid values of known parameters are
always 400 (https://hl7.org/fhir/R4/search.html#errors).
"""

from __future__ import annotations

from ..errors import FhirError, Issue, invalid
from .sql import Context


def bad_value(param: str, value: str, vi_reason: str, en_reason: str) -> FhirError:
    """A 400 for an invalid value of a known parameter, naming the parameter."""
    return invalid(f"Giá trị '{value}' của tham số '{param}' không hợp lệ: {vi_reason}",
                   f"Invalid value '{value}' for search parameter '{param}': {en_reason}", param)


def bad_modifier(param: str, modifier: str) -> FhirError:
    """Unsupported modifiers are always rejected: ignoring one would silently widen the result."""
    return FhirError.one(400, "not-supported",
                         f"Tham số '{param}' không hỗ trợ bộ chỉnh ':{modifier}'",
                         f"The modifier ':{modifier}' is not supported for search parameter '{param}'", param)


def ignored(warnings: list[Issue], strict: bool, param: str, vi: str, en: str,
            code: str = "not-supported") -> None:
    """Report an ignored parameter: a warning, or a 400 when the client asked for strict handling.

    ``vi``/``en`` say what is wrong; only the warning adds that the parameter was ignored (under
    ``handling=strict`` it was not: the whole search was refused).
    """
    if strict:
        raise FhirError.one(400, code, vi, en, param)
    issue = Issue(code, f"{vi}, đã bỏ qua", f"{en}; it was ignored", param, severity="warning")
    if issue not in warnings:
        warnings.append(issue)


def unknown_param(ctx: Context, param: str, rtype: str | None) -> None:
    where = rtype or "system"
    ignored(ctx.warnings, ctx.strict, param,
            f"Tham số tìm kiếm '{param}' không được hỗ trợ cho {where}",
            f"Unknown search parameter '{param}' for {where}")


def unsupported_param(ctx: Context, param: str) -> None:
    ignored(ctx.warnings, ctx.strict, param,
            f"Tham số '{param}' chưa được hỗ trợ",
            f"Search parameter '{param}' is not supported")
