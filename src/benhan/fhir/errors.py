"""Errors as values: a code, a location (FHIRPath expression) and a bilingual message.

Raised as :class:`FhirError` anywhere in the FHIR core; the REST layer turns it into an
OperationOutcome with the HTTP status it carries. Messages are Vietnamese first, English second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome.issue."""

    code: str  # IssueType code: invalid, structure, required, value, not-found, conflict, ...
    vi: str
    en: str
    expression: str | None = None
    severity: str = "error"
    # R4's deprecated XPath location, still read by clients: for an HTTP parameter "http." + its name
    location: str | None = None

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "details": {"text": f"{self.vi} / {self.en}"},
            "diagnostics": self.en,
        }
        if self.location:
            issue["location"] = [self.location]
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


@dataclass(slots=True)
class FhirError(Exception):
    """An error that ends one FHIR interaction with ``status`` and an OperationOutcome."""

    status: int
    issues: list[Issue] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{i.code}: {i.en}" + (f" @ {i.expression}" if i.expression else "") for i in self.issues)

    @classmethod
    def one(cls, status: int, code: str, vi: str, en: str, expression: str | None = None) -> FhirError:
        return cls(status, [Issue(code, vi, en, expression)])

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """An OperationOutcome resource for ``issues`` (an 'informational' one if empty)."""
    if not issues:
        issues = [Issue("informational", "Thành công", "All OK", severity="information")]
    return {"resourceType": "OperationOutcome", "issue": [i.to_fhir() for i in issues]}


def not_found(resource_type: str, rid: str) -> FhirError:
    return FhirError.one(
        404, "not-found",
        f"Không tìm thấy {resource_type}/{rid}", f"Resource {resource_type}/{rid} not found",
    )


def invalid(vi: str, en: str, expression: str | None = None, status: int = 400) -> FhirError:
    return FhirError.one(status, "invalid", vi, en, expression)
