"""SMART on FHIR scopes (v2 ``patient/Observation.rs``, ``user/*.cruds``, ``system/*.rs``; v1
``.read``/``.write``/``.*`` accepted) and the non-resource scopes (``openid``, ``fhirUser``,
``launch/patient``, ``offline_access``).

Granular v2 scopes with a query (``patient/Observation.rs?category=laboratory``) are not honoured
yet; they are dropped rather than widened, so a token never grants more than it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXTS = ("patient", "user", "system")
_RESOURCE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.([a-z*]+)$")
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
OTHER_SCOPES = frozenset({"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
                          "offline_access", "online_access"})


@dataclass(frozen=True, slots=True)
class ResourceScope:
    context: str  # patient | user | system
    rtype: str  # a resource type or "*"
    interactions: frozenset[str]

    def covers(self, rtype: str, interaction: str) -> bool:
        return (self.rtype == "*" or self.rtype == rtype) and interaction in self.interactions

    def text(self) -> str:
        return f"{self.context}/{self.rtype}.{''.join(c for c in 'cruds' if c in self.interactions)}"


@dataclass(frozen=True, slots=True)
class ScopeSet:
    resources: tuple[ResourceScope, ...]
    other: frozenset[str]

    def contexts_for(self, rtype: str, interaction: str) -> set[str]:
        """Which contexts (patient/user/system) grant ``interaction`` on ``rtype``."""
        return {s.context for s in self.resources if s.covers(rtype, interaction)}

    def has_context(self, context: str) -> bool:
        return any(s.context == context for s in self.resources)

    def text(self) -> str:
        return " ".join([s.text() for s in self.resources] + sorted(self.other))


def parse_one(token: str) -> ResourceScope | None:
    m = _RESOURCE.match(token)
    if m is None:
        return None
    context, rtype, letters = m.groups()
    if letters in _V1:
        letters = _V1[letters]
    elif not set(letters) <= set("cruds") or list(letters) != sorted(letters, key="cruds".index):
        return None
    return ResourceScope(context, rtype, frozenset(letters))


def parse_scopes(text: str) -> ScopeSet:
    """Parse a space-separated scope string; unknown and granular scopes are dropped."""
    resources: list[ResourceScope] = []
    other: set[str] = set()
    for token in text.split():
        scope = parse_one(token)
        if scope is not None:
            resources.append(scope)
        elif token in OTHER_SCOPES:
            other.add(token)
    return ScopeSet(tuple(resources), frozenset(other))


def narrow(requested: ScopeSet, allowed: ScopeSet) -> ScopeSet:
    """The part of ``requested`` that ``allowed`` covers (what a client may receive): the intersection,
    type by type — ``system/*.rs`` asked of a client registered for ``system/Patient.rs`` is
    ``system/Patient.rs``, never more and not nothing."""
    found: dict[tuple[str, str], frozenset[str]] = {}
    for req in requested.resources:
        for a in allowed.resources:
            if a.context != req.context:
                continue
            if a.rtype == "*" or a.rtype == req.rtype:
                rtype = req.rtype
            elif req.rtype == "*":
                rtype = a.rtype
            else:
                continue
            letters = req.interactions & a.interactions
            if letters:
                found[(req.context, rtype)] = found.get((req.context, rtype), frozenset()) | letters
    kept = [ResourceScope(context, rtype, letters) for (context, rtype), letters in found.items()]
    return ScopeSet(tuple(kept), requested.other & (allowed.other | {"openid", "fhirUser", "profile", "offline_access",
                                                                     "online_access"}))
