"""The error every Vietnamese value rule raises: a stable rule id, where in the value, a bilingual message.

Parsers do not know where the value sits in a resource, so the FHIRPath location is added later by
:meth:`InvalidValue.to_issue`. Messages name the part that is wrong (e.g. "characters 4–5 (province
code)") but never echo the whole identifier, which is personal data.
"""

from __future__ import annotations

from benhan.fhir.errors import Issue


class InvalidValue(ValueError):
    """A value that breaks a Vietnamese identifier or code rule."""

    def __init__(self, rule: str, vi: str, en: str, *, span: tuple[int, int] | None = None,
                 code: str = "value") -> None:
        super().__init__(f"{vi} / {en}")
        self.rule = rule  # stable id for programs and tests, e.g. "bhyt.province"
        self.vi = vi
        self.en = en
        self.span = span  # 1-based inclusive character positions the message names, if any
        self.code = code  # OperationOutcome IssueType: value, business-rule, required

    def __repr__(self) -> str:
        return f"InvalidValue({self.rule!r}, span={self.span!r}, en={self.en!r})"

    def to_issue(self, expression: str | None, *, severity: str = "error") -> Issue:
        """This error as one OperationOutcome issue located at ``expression`` (a FHIRPath)."""
        return Issue(self.code, self.vi, self.en, expression, severity)


def positions(start: int, end: int) -> tuple[str, str]:
    """'ký tự 4–5' / 'characters 4–5' (1-based, inclusive)."""
    if start == end:
        return f"ký tự {start}", f"character {start}"
    return f"ký tự {start}–{end}", f"characters {start}–{end}"
