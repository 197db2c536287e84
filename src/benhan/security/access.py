"""Access decisions: role permissions x token scopes x relationship to the patient x security labels.

:meth:`Access.effective` says whether an interaction on a type is allowed at all and under which
row rule; :meth:`Access.conditions` turns that rule into SQL conditions on the ``resource`` table,
so searches exclude what may not be seen *inside the query* (counts and paging then never leak);
:meth:`Access.visible` and :meth:`Access.may_write_for` answer the same question for one record.

Patient relationship ("relationship" roles) is computed from the FHIR data itself: a current or
past Encounter whose serviceProvider is one of the user's departments, or at a Location managed by
one; a CareTeam or Encounter naming the user's Practitioner; and active break-glass grants.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, false, or_, select

from benhan.db import schema as s
from benhan.db.values import among
from benhan.fhir import definitions
from benhan.fhir.searchparams import compartment_params

from .policy import Policy, TypeRule, load_policy
from .principal import Principal


@dataclass(frozen=True, slots=True)
class Effective:
    """The row rule under which an allowed interaction runs."""

    patients: str  # facility | relationship | own | none
    relationship: frozenset[str]
    sensitive: str  # all | care-team | none
    only_patient: str | None = None  # patient/ scopes: this patient's compartment only


UNRESTRICTED = Effective("facility", frozenset(), "all")


@cache
def in_patient_compartment(rtype: str) -> bool:
    return rtype == "Patient" or bool(compartment_params(rtype))


class Access:
    """The decisions for one principal (one request)."""

    def __init__(self, principal: Principal, policy: Policy | None = None, dialect: str = "") -> None:
        self.principal = principal
        self.policy = policy or load_policy()
        self.dialect = dialect  # the connection's dialect name: lists become one array parameter on PostgreSQL
        self.rules: dict[str, TypeRule] = self.policy.rules_for(principal.roles) if principal.kind == "user" else {}
        # Row conditions by (table, type class, rule): one request runs many searches with the same rule,
        # and building the SQL expressions costs more than running them.
        self._conditions: dict[tuple[Any, str, Effective], list[ColumnElement[bool]]] = {}

    # -------------------------------------------------------------- type level

    def effective(self, rtype: str, interaction: str) -> Effective | None:
        """None when the roles or the scopes do not allow ``interaction`` on ``rtype``."""
        p = self.principal
        contexts = p.scopes.contexts_for(rtype, interaction)
        if p.kind == "system":
            return UNRESTRICTED if "system" in contexts else None
        rule = self.rules.get(rtype)
        if rule is None or interaction not in rule.interactions:
            return None
        if "user" in contexts:
            return Effective(rule.patients, rule.relationship, rule.sensitive)
        if "patient" in contexts:
            patient = p.launch_patient or (p.patient_id if rule.patients == "own" else None)
            if patient is None:
                return None
            return Effective(rule.patients, rule.relationship, rule.sensitive, only_patient=patient)
        return None

    def allowed_types(self, interaction: str) -> list[str]:
        candidates = definitions.resource_types() if self.principal.kind == "system" else self.rules.keys()
        return sorted(t for t in candidates if self.effective(t, interaction) is not None)

    def unrestricted(self, rtype: str, interaction: str) -> bool:
        eff = self.effective(rtype, interaction)
        return eff is not None and (not self._row_conditions_needed(rtype, eff))

    # -------------------------------------------------------------- rows

    def conditions(self, r: Any, rtype: str | None, interaction: str = "s") -> list[ColumnElement[bool]]:
        """SQL conditions on ``r`` (the resource table) keeping only the rows this principal may see.

        ``rtype`` None means any type (system-level search): rows of types not allowed are dropped.
        """
        if rtype is not None:
            eff = self.effective(rtype, interaction)
            return [false()] if eff is None else self._row_conditions(r, rtype, eff)
        types = self.allowed_types(interaction)
        if not types:
            return [false()]
        groups: dict[tuple[str, Effective], list[str]] = {}
        for t in types:
            eff = self.effective(t, interaction)
            assert eff is not None
            key = ("Patient" if t == "Patient" else str(in_patient_compartment(t)), eff)
            groups.setdefault(key, []).append(t)
        parts = []
        for (_, eff), group in groups.items():
            conds = self._row_conditions(r, group[0], eff)
            if len(group) == len(definitions.resource_types()) and not conds:
                return []
            parts.append(and_(among(r.c.type, group, self.dialect), *conds))
        return [or_(*parts)]

    def visible(self, conn: Connection, rtype: str, pk: int, interaction: str = "r") -> bool:
        eff = self.effective(rtype, interaction)
        if eff is None:
            return False
        conds = self._row_conditions(s.resource, rtype, eff)
        if not conds:
            return True
        r = s.resource
        return conn.execute(select(r.c.pk).where(r.c.pk == pk, *conds)).first() is not None

    def may_write_for(self, conn: Connection, rtype: str, interaction: str, patients: list[str]) -> bool:
        """May ``interaction`` write a ``rtype`` resource belonging to ``patients``' compartments?"""
        eff = self.effective(rtype, interaction)
        if eff is None:
            return False
        if not in_patient_compartment(rtype):
            return True
        if eff.only_patient is not None and set(patients) != {eff.only_patient}:
            return False
        if eff.patients == "facility":
            return True
        if not patients or eff.patients == "none":
            return False
        if eff.patients == "own":
            return set(patients) == {self.principal.patient_id}
        r = _WRITES_FOR
        found = {row[0] for row in conn.execute(select(r.c.id).where(
            r.c.type == "Patient", r.c.id.in_(set(patients)), self._related_shared(r, eff.relationship)))}
        return found >= set(patients)

    # -------------------------------------------------------------- internals

    def _row_conditions_needed(self, rtype: str, eff: Effective) -> bool:
        return bool(self._row_conditions(s.resource, rtype, eff))

    def _row_conditions(self, r: Any, rtype: str, eff: Effective) -> list[ColumnElement[bool]]:
        kind = "Patient" if rtype == "Patient" else "compartment" if in_patient_compartment(rtype) else "other"
        key = (r, kind, eff)
        found = self._conditions.get(key)
        if found is None:
            found = self._shared(key, lambda: self._build_row_conditions(r, rtype, eff))
            self._conditions[key] = found
        return found

    def _related_shared(self, r: Any, relationship: frozenset[str]) -> ColumnElement[bool]:
        """:meth:`_related` on ``r.c.id`` (a Patient row), built once for these inputs."""
        return self._shared((r, "related", relationship), lambda: [self._related(r.c.id, relationship)])[0]

    def _shared(self, key: tuple[Any, ...], build: Any) -> list[ColumnElement[bool]]:
        """From the cache shared between requests, keyed by ``key`` plus every principal fact the SQL uses."""
        p = self.principal
        full = (*key, p.departments, p.practitioner_id, p.grants, p.patient_id, self.policy.sensitive_labels,
                self.dialect)
        found = _SHARED_CONDITIONS.get(full)
        if found is None:
            found = build()
            _SHARED_CONDITIONS.put(full, found)
        return found

    def _build_row_conditions(self, r: Any, rtype: str, eff: Effective) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if in_patient_compartment(rtype):
            if eff.patients == "none":
                return [false()]
            if eff.only_patient is not None:
                conds.append(_in_patients(r, rtype, [eff.only_patient]))
            if eff.patients == "own":
                conds.append(_in_patients(r, rtype, [self.principal.patient_id or ""]))
            elif eff.patients == "relationship":
                conds.append(_of_patient_where(r, rtype, lambda pid: self._related(pid, eff.relationship)))
        if eff.sensitive != "all" and self.policy.sensitive_labels:
            plain = ~self._labelled(r)
            if eff.sensitive == "care-team" and in_patient_compartment(rtype):
                conds.append(or_(plain, _of_patient_where(r, rtype, self._in_care_team)))
            else:
                conds.append(plain)
        return conds

    def _labelled(self, r: Any) -> ColumnElement[bool]:
        t = s.idx_token.alias("sec_label")
        # system|code as one value: one parameter for all the labels on PostgreSQL (see benhan.db.values)
        labels = among(t.c.system + "|" + t.c.code,
                       sorted(f"{system}|{code}" for system, code in self.policy.sensitive_labels), self.dialect)
        return exists(select(t.c.res_pk).where(t.c.res_pk == r.c.pk, t.c.param == "_security", labels))

    def _related(self, pid: Any, relationship: frozenset[str]) -> ColumnElement[bool]:
        """Is the Patient whose id is the SQL expression ``pid`` related to this user?

        Tested per patient rather than by building the set of every related patient, so a page about
        one patient costs the same in a department with 100 patients or 100,000: ONE correlated EXISTS
        over the patient's own Encounters/CareTeams with the department and care-team tests as
        alternatives inside it. (Two EXISTS joined by OR cannot become semi-joins in PostgreSQL, which
        then hashes each subquery whole — every patient of the department — for a one-row read.)
        """
        p = self.principal
        c = s.compartment.alias("rel_comp")
        x = s.idx_reference.alias("rel_ref")
        alternatives: list[ColumnElement[bool]] = []
        types: set[str] = set()
        if "department" in relationship and p.departments:
            types.add("Encounter")
            alternatives.append(and_(c.c.res_type == "Encounter", _department_encounter(x, p.departments)))
        if "care-team" in relationship and p.practitioner_id:
            types.update(TEAM_TYPES)
            alternatives.append(_names_practitioner(x, p.practitioner_id))
        related: ColumnElement[bool] = false()
        if alternatives:
            related = exists(select(c.c.res_pk).join(x, x.c.res_pk == c.c.res_pk).where(
                c.c.comp_type == "Patient", c.c.comp_id == pid, c.c.res_type.in_(sorted(types)),
                x.c.res_type == c.c.res_type, or_(*alternatives)).offset(0))  # per row: see _PER_ROW
        return or_(pid.in_(p.grants), related) if p.grants else related

    def _in_care_team(self, pid: Any) -> ColumnElement[bool]:
        """``pid`` is under break-glass, or a CareTeam/Encounter of the patient names the user's Practitioner."""
        p = self.principal
        parts: list[ColumnElement[bool]] = [pid.in_(p.grants)] if p.grants else []
        if p.practitioner_id:
            c = s.compartment.alias("team_comp")
            x = s.idx_reference.alias("team_ref")
            parts.append(exists(select(c.c.res_pk).join(x, x.c.res_pk == c.c.res_pk).where(
                c.c.comp_type == "Patient", c.c.comp_id == pid, c.c.res_type.in_(TEAM_TYPES),
                x.c.res_type == c.c.res_type, _names_practitioner(x, p.practitioner_id))))
        return or_(*parts) if parts else false()


TEAM_TYPES = ("CareTeam", "Encounter")


class _ConditionCache:
    """Row conditions shared between requests, keyed by everything they are built from.

    Building the SQLAlchemy expressions cost ~2 ms of CPU per request (a fifth of a simple read), and the
    same staff ask the same question all day. The key holds every input of ``_build_row_conditions``
    (table, type class, rule, the principal's departments / practitioner / break-glass grants / own
    patient, the policy's labels), so a change to any of them (a new grant, a department move, which are
    read from the database on every request) simply misses. Bounded LRU; expressions are immutable once
    built, so threads may share them.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], list[ColumnElement[bool]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> list[ColumnElement[bool]] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[Any, ...], value: list[ColumnElement[bool]]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_SHARED_CONDITIONS = _ConditionCache()
_WRITES_FOR = s.resource.alias("writes_for")  # one alias object, so the cached conditions on it are reused

# _PER_ROW: the relationship EXISTS subqueries end in ``OFFSET 0`` so that PostgreSQL keeps them as
# per-row subplans (index lookups on the row's own patient) instead of flattening them into a hash
# semi-join over every Encounter of the department. It misestimates that set (the department id
# is correlated with ``param``/``target_type``: 13 rows estimated, 14,514 found at 100k resources)
# and then hashes it whole for a one-patient search: 160 ms instead of a few. SQLite evaluates
# correlated subqueries per row anyway; ``OFFSET 0`` changes nothing there.


def _names_practitioner(x: Any, practitioner_id: str) -> ColumnElement[bool]:
    """Index row ``x`` is a CareTeam participant or an Encounter participant naming the Practitioner."""
    return and_(x.c.res_type.in_(TEAM_TYPES), x.c.param.in_(("participant", "practitioner")),
                x.c.target_type == "Practitioner", x.c.target_id == practitioner_id)


def _department_encounter(x: Any, departments: tuple[str, ...]) -> ColumnElement[bool]:
    """Index row ``x`` makes its Encounter one of ``departments``': serviceProvider is the department, or
    the location is a Location the department manages."""
    loc = s.idx_reference.alias("dept_loc")
    loc_res = s.resource.alias("dept_loc_res")
    department_locations = select(loc_res.c.id).join(loc, loc.c.res_pk == loc_res.c.pk).where(
        loc.c.res_type == "Location", loc.c.param == "organization", loc.c.target_type == "Organization",
        loc.c.target_id.in_(departments))
    return and_(x.c.res_type == "Encounter", or_(
        and_(x.c.param == "service-provider", x.c.target_type == "Organization", x.c.target_id.in_(departments)),
        and_(x.c.param == "location", x.c.target_type == "Location", x.c.target_id.in_(department_locations))))


def _in_patients(r: Any, rtype: str, ids: Any) -> ColumnElement[bool]:
    """``r`` is Patient ``ids`` itself, or belongs to the compartment of one of them."""
    if rtype == "Patient":
        return r.c.id.in_(ids)
    c = s.compartment.alias("acl_comp")
    return r.c.pk.in_(select(c.c.res_pk).where(c.c.comp_type == "Patient", c.c.comp_id.in_(ids)))


def _of_patient_where(r: Any, rtype: str, test: Any) -> ColumnElement[bool]:
    """``r`` is a Patient passing ``test(id)``, or belongs to the compartment of one (correlated on ``r``)."""
    if rtype == "Patient":
        return test(r.c.id)
    c = s.compartment.alias("acl_comp")
    return exists(select(c.c.res_pk).where(c.c.res_pk == r.c.pk, c.c.comp_type == "Patient",
                                           test(c.c.comp_id)).offset(0))  # per row: see _PER_ROW


__all__ = ["UNRESTRICTED", "Access", "Effective", "in_patient_compartment"]
