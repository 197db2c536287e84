"""The access policy: roles -> permissions, read from ``policy.toml`` (the one readable place).

:func:`load_policy` parses and checks the file once; :meth:`Policy.rules_for` combines several
roles into one :class:`TypeRule` per resource type (the most permissive role wins for each type).
Inside one role's grants, a type reached through several groups gets the union of their letters and a
type named directly gets exactly its own letters (so a role can narrow one type of a group).

``[screens]`` says which screens of the web app a user sees, in the same terms (what the screen needs
to do), so role names choose nothing outside this file (``web/permissions.py``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from benhan.fhir import definitions

INTERACTIONS = frozenset("cruds")
PATIENT_MODES = ("none", "own", "relationship", "facility")  # least to most permissive
SENSITIVE_MODES = ("none", "care-team", "all")
RELATIONSHIPS = frozenset({"department", "care-team"})


@dataclass(frozen=True, slots=True)
class Role:
    code: str
    name: str  # Vietnamese
    name_en: str
    aliases: tuple[str, ...]
    grants: dict[str, frozenset[str]]  # resource type -> interactions
    patients: str
    relationship: frozenset[str]
    sensitive: str
    break_glass: bool = False
    review_break_glass: bool = False
    manage_users: bool = False


@dataclass(frozen=True, slots=True)
class TypeRule:
    """What a set of roles allows on one resource type."""

    interactions: frozenset[str]
    patients: str
    relationship: frozenset[str]
    sensitive: str


@dataclass(frozen=True, slots=True)
class Screen:
    """A screen of the web app: shown to users whose roles allow every interaction of ``needs``."""

    name: str
    needs: dict[str, frozenset[str]]  # resource type -> interactions
    patients: frozenset[str] | None = None  # the patient rules the needed types must have (None: any)


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: one policy object per process
class Policy:
    roles: dict[str, Role]
    sensitive_labels: tuple[tuple[str, str], ...]  # (system, code)
    screens: dict[str, Screen] = field(default_factory=dict)

    def role(self, name: str) -> Role | None:
        """A role by code or alias (``doctor`` or ``bac-si``)."""
        if name in self.roles:
            return self.roles[name]
        return next((r for r in self.roles.values() if name in r.aliases), None)

    def canonical(self, names: list[str] | tuple[str, ...]) -> list[str]:
        out = []
        for n in names:
            role = self.role(n)
            if role is None:
                raise ValueError(f"unknown role {n!r}; known: {', '.join(sorted(self.roles))}")
            out.append(role.code)
        return sorted(set(out))

    def rules_for(self, role_codes: tuple[str, ...] | list[str]) -> dict[str, TypeRule]:
        """One combined rule per resource type granted by any of ``role_codes``."""
        return _combine(self, tuple(sorted(role_codes)))

    def any_role(self, role_codes: tuple[str, ...] | list[str], flag: str) -> bool:
        return any(getattr(self.roles[c], flag) for c in role_codes if c in self.roles)


@cache
def _combine(policy: Policy, role_codes: tuple[str, ...]) -> dict[str, TypeRule]:
    out: dict[str, TypeRule] = {}
    for code in role_codes:
        role = policy.roles.get(code)
        if role is None:
            continue
        for rtype, inter in role.grants.items():
            rule = TypeRule(inter, role.patients, role.relationship if role.patients == "relationship" else frozenset(),
                            role.sensitive)
            prev = out.get(rtype)
            out[rtype] = rule if prev is None else TypeRule(
                prev.interactions | rule.interactions,
                max(prev.patients, rule.patients, key=PATIENT_MODES.index),
                prev.relationship | rule.relationship,
                max(prev.sensitive, rule.sensitive, key=SENSITIVE_MODES.index))
    return out


def _expand(groups: dict[str, list[str]], key: str) -> list[str]:
    if key in groups:
        return groups[key]
    if key == "*":
        return sorted(definitions.resource_types())
    if not definitions.is_resource_type(key):
        raise ValueError(f"policy: {key!r} is neither a group nor a resource type")
    return [key]


def _grants(role: str, groups: dict[str, list[str]], spec: dict[str, str]) -> dict[str, frozenset[str]]:
    """One role's grants per type: groups add up; a type named directly overrides its groups."""
    grants: dict[str, frozenset[str]] = {}
    direct: dict[str, frozenset[str]] = {}
    for key, letters in spec.items():
        if not set(letters) <= INTERACTIONS:
            raise ValueError(f"policy: role {role!r} grants unknown interactions {letters!r}")
        if key in groups or key == "*":
            for t in _expand(groups, key):
                grants[t] = grants.get(t, frozenset()) | frozenset(letters)
        else:
            (t,) = _expand(groups, key)
            direct[t] = frozenset(letters)
    grants.update(direct)
    return grants


def parse_policy(text: str) -> Policy:
    """Parse and check a policy document (raises ``ValueError`` on any mistake)."""
    data = tomllib.loads(text)
    groups: dict[str, list[str]] = data.get("groups", {})
    for name, types in groups.items():
        for t in types:
            if not definitions.is_resource_type(t):
                raise ValueError(f"policy: group {name!r} names unknown resource type {t!r}")
    roles: dict[str, Role] = {}
    for code, spec in data.get("roles", {}).items():
        grants = _grants(code, groups, spec.get("grants", {}))
        patients = spec.get("patients", "none")
        sensitive = spec.get("sensitive", "none")
        relationship = frozenset(spec.get("relationship", []))
        if patients not in PATIENT_MODES or sensitive not in SENSITIVE_MODES or not relationship <= RELATIONSHIPS:
            raise ValueError(f"policy: role {code!r} has an invalid patients/sensitive/relationship value")
        roles[code] = Role(code, spec["name"], spec.get("name_en", code), tuple(spec.get("aliases", [])), grants,
                           patients, relationship, sensitive, bool(spec.get("break_glass")),
                           bool(spec.get("review_break_glass")), bool(spec.get("manage_users")))
    labels = tuple((item["system"], item["code"]) for item in data.get("sensitive", {}).get("labels", []))
    screens = {name: _screen(name, spec) for name, spec in data.get("screens", {}).items()}
    return Policy(roles, labels, screens)


def _screen(name: str, spec: dict[str, object]) -> Screen:
    needs: dict[str, frozenset[str]] = {}
    for rtype, letters in dict(spec.get("needs", {})).items():  # type: ignore[call-overload]
        if not definitions.is_resource_type(rtype) or not letters or not set(letters) <= INTERACTIONS:
            raise ValueError(f"policy: screen {name!r} needs {rtype} = {letters!r}: not a type and interactions")
        needs[rtype] = frozenset(letters)
    if not needs:
        raise ValueError(f"policy: screen {name!r} needs nothing")
    patients = spec.get("patients")
    if patients is not None and (not isinstance(patients, list) or not set(patients) <= set(PATIENT_MODES)):
        raise ValueError(f"policy: screen {name!r} has invalid patients {patients!r}")
    return Screen(name, needs, frozenset(patients) if patients is not None else None)


@cache
def load_policy() -> Policy:
    """The shipped policy (``security/policy.toml``), parsed once per process (read-only)."""
    return parse_policy(resources.files("benhan.security").joinpath("policy.toml").read_text("utf-8"))
