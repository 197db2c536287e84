"""Framework-independent request and response of one FHIR interaction.

The router takes a :class:`FhirRequest` and returns a :class:`FhirResponse`; the ASGI adapter and
the bundle processor both build requests, so a transaction entry goes through exactly the same
code as a plain HTTP call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass(slots=True)
class FhirRequest:
    """One interaction: ``path`` is relative to the FHIR base, without leading slash."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    body: Any = None
    base_url: str = ""

    @classmethod
    def from_url(cls, method: str, url: str, *, body: Any = None, headers: Mapping[str, str] | None = None,
                 base_url: str = "") -> FhirRequest:
        """Build from a relative URL such as ``Patient?identifier=x`` (bundle entries use this)."""
        path, _, query = url.partition("?")
        return cls(method.upper(), path.strip("/"), parse_qsl(query, keep_blank_values=True),
                   headers or {}, body, base_url)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode(self.query)


@dataclass(slots=True)
class FhirResponse:
    """Status, headers and either a resource (dict) or ready JSON text (fast path for reads)."""

    status: int
    resource: dict[str, Any] | None = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    warnings: list[Any] = field(default_factory=list)  # errors.Issue of a successful write (entry.response.outcome)

    def body_resource(self) -> dict[str, Any] | None:
        if self.resource is not None:
            return self.resource
        if self.text is not None:
            import orjson

            return orjson.loads(self.text)
        return None
