"""The per-request security context of the FHIR layer: access decisions at every hook, and the
audit entries of the request.

The router calls :meth:`FhirGuard.before` for every interaction (bundle entries included); the
repository calls :meth:`on_read` / :meth:`on_write`; the search engine asks for
:meth:`search_conditions` and reports results to :meth:`after_search`. Denials raise a 403
OperationOutcome and are kept in :attr:`denials`, which are recorded even when the request's
transaction rolls back.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Connection, and_, or_, select

from benhan.db import schema as s
from benhan.db.values import among
from benhan.fhir import definitions
from benhan.fhir.errors import FhirError
from benhan.fhir.searchparams import compartment_params

from . import audit
from .access import Access, in_patient_compartment
from .audit import AuditEntry
from .interactions import Interaction, classify

# A relative reference to a Patient inside stored JSON (compact, ids are [A-Za-z0-9-.]{1,64}): how an
# earlier version names its patient. Relative only, like the compartment index (fhir/indexing.py).
_PATIENT_REF = re.compile(r'"reference"\s*:\s*"Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^"]*)?"')


def version_patients(content: str | bytes | None) -> set[str]:
    """The Patients a stored version refers to (its subject when the record was written)."""
    if not content:
        return set()
    text = content.decode() if isinstance(content, bytes) else content
    return set(_PATIENT_REF.findall(text))


def forbidden(vi: str, en: str) -> FhirError:
    return FhirError.one(403, "forbidden", vi, en)


class FhirGuard:
    """Security context of one FHIR request (one connection, one transaction)."""

    def __init__(self, conn: Connection, access: Access) -> None:
        self.conn = conn
        self.access = access
        self.entries: list[AuditEntry] = []
        self.denials: list[AuditEntry] = []

    # ------------------------------------------------------------------ audit

    def entry(self, action: str, entity: str | None, patients: list[str] | None = None, outcome: int = 200,
              detail: str | None = None) -> AuditEntry:
        p = self.access.principal
        patients = sorted(set(patients or []))
        purpose = audit.TREATMENT
        if p.grants and set(patients) & set(p.grants):
            purpose = audit.BREAK_GLASS
        elif "patient" in p.roles:
            purpose = audit.PATIENT_REQUEST
        return AuditEntry(action, outcome, p.username, ",".join(p.roles) or None, p.client_id, entity, patients,
                          p.ip, purpose, detail)

    def record(self, action: str, entity: str | None, patients: list[str] | None = None) -> None:
        self.entries.append(self.entry(action, entity, patients))

    def deny(self, action: str, entity: str | None, vi: str, en: str, patients: list[str] | None = None) -> FhirError:
        self.denials.append(self.entry(action, entity, patients, outcome=403, detail=en))
        return forbidden(vi, en)

    def flush(self, conn: Connection) -> None:
        """Append this request's entries (same transaction as the data access)."""
        entries, self.entries = self.entries + self.denials, []
        self.denials = []
        audit.append(conn, entries)

    # ------------------------------------------------------------------ router

    def before(self, req: Any, parts: list[str]) -> None:
        """Type-level decision for one interaction (also called for each bundle entry)."""
        it = classify(req.method, req.path, req.body)
        query = urlencode([(k, v) for k, v in req.query if k != "_format"])
        entity = it.entity(query)
        if it.rtype == "AuditEvent" and req.method != "GET":
            raise self.read_only(it.action, entity)
        if len(parts) == 3 and parts[2] == "AuditEvent":
            raise FhirError.one(400, "not-supported", "Tra cứu AuditEvent theo người bệnh bằng AuditEvent?patient=",
                                "Search AuditEvent by patient with AuditEvent?patient=")
        if it.rtype == "AuditEvent":
            return  # served from the audit trail by audit_events(), which decides and records
        if it.action in ("transaction", "batch", "bundle"):
            self.record(it.action, "/")
            return
        if it.letter is None and it.action == "capabilities":
            return
        if it.rtype is not None and not definitions.is_resource_type(it.rtype):
            return  # the router answers 404
        if it.action.startswith("operation"):
            self._operation(it, entity)
            return
        if it.action == "history":
            self._history(it, entity)
            return
        if it.level == "system" and it.action == "search":
            if not self.access.allowed_types("s"):
                raise self.deny("search", entity, "Không có quyền tìm kiếm", "Not allowed to search")
            # _type naming a type the caller may not search is a denial, as GET /fhir/[type] would be
            named = {t for k, v in req.query if k == "_type" for t in v.split(",") if definitions.is_resource_type(t)}
            refused = sorted(t for t in named if self.access.effective(t, "s") is None)
            if refused:
                raise self.deny("search", entity, f"Không có quyền tìm kiếm {', '.join(refused)}",
                                f"Not allowed to search {', '.join(refused)}")
            return
        assert it.rtype is not None and it.letter is not None
        if self.access.effective(it.rtype, it.letter) is None:
            raise self.deny(it.action, entity, f"Không có quyền {it.action} trên {it.rtype}",
                            f"Not allowed to {it.action} {it.rtype}", self._patients_of_id(it.rtype, it.rid))

    def read_only(self, action: str, entity: str | None) -> FhirError:
        """AuditEvent is written by the server alone (the hash-chained trail): any write is refused, and kept."""
        self.denials.append(self.entry(action, entity, outcome=405, detail="AuditEvent is read-only"))
        return FhirError.one(405, "not-supported", "Nhật ký truy cập (AuditEvent) chỉ đọc, do máy chủ ghi",
                             "AuditEvent is read-only: the server alone writes the audit trail")

    def audit_events(self, req: Any, default_count: int, max_count: int) -> Any:
        """An AuditEvent read or search that reached the router (a batch or transaction entry)."""
        from .auditevent import serve_auditevent

        return serve_auditevent(req, self.conn, self, default_count, max_count)

    def _operation(self, it: Interaction, entity: str) -> None:
        name = it.action.removeprefix("operation")
        if name == "$meta" and it.rid is None:
            # Filtered in SQL like a search (history_conditions), so restricted users get their own rows' tags.
            if (self.access.effective(it.rtype, "s") is None if it.rtype else not self.access.allowed_types("s")):
                raise self.deny(it.action, entity, "Không có quyền đọc loại tài nguyên này",
                                "Not allowed to read this resource type")
        elif name == "$validate":
            rtype = it.rtype or ""
            if self.access.effective(rtype, "c") is None and self.access.effective(rtype, "u") is None:
                raise self.deny(it.action, entity, f"Không có quyền ghi {rtype}", f"Not allowed to write {rtype}")
        elif it.rid is None and name != "$everything":
            types = [it.rtype] if it.rtype else sorted(definitions.resource_types())
            # A type-level operation reads around the row filters. That is harmless for types that hold no
            # patient data (terminology: $expand, $lookup, $validate-code), which then need only read access;
            # for patient data it needs unrestricted read access.
            if all(not compartment_params(t) for t in types):
                if any(self.access.effective(t, "s") is None for t in types):
                    raise self.deny(it.action, entity, "Không có quyền đọc loại tài nguyên này",
                                    "Not allowed to read this resource type")
            elif not all(self.access.unrestricted(t, "s") for t in types):
                raise self.deny(it.action, entity, "Thao tác này cần quyền đọc toàn bộ",
                                "This operation needs unrestricted read access")
        elif name == "$everything" and self.access.effective("Patient", "r") is None:
            raise self.deny(it.action, entity, "Không có quyền đọc hồ sơ người bệnh", "Not allowed to read patients")
        self.record("operation", entity)

    def _history(self, it: Interaction, entity: str) -> None:
        if it.rid is None:
            # Type and system history: the versions are filtered in SQL (history_conditions) and the access
            # recorded with the patients shown (after_history). SMART: type/system history is "s".
            if it.rtype is not None and self.access.effective(it.rtype, "s") is None:
                raise self.deny("history", entity, f"Không có quyền xem lịch sử {it.rtype}",
                                f"Not allowed to read the history of {it.rtype}")
            if it.rtype is None and not self.access.allowed_types("s"):
                raise self.deny("history", entity, "Không có quyền xem lịch sử", "Not allowed to read history")
            return
        r = s.resource
        row = self.conn.execute(select(r.c.pk, r.c.deleted).where(r.c.type == it.rtype, r.c.id == it.rid)).first()
        patients = self._patients(it.rtype or "", it.rid or "", row[0]) if row else []
        if row is not None and not self._visible(it.rtype or "", row[0], "r", deleted=row[1]):
            raise self.deny("history", entity, "Không có quyền xem hồ sơ này", "Not allowed to see this record",
                            patients)
        if row is None and self.access.effective(it.rtype or "", "r") is None:
            raise self.deny("history", entity, "Không có quyền", "Not allowed")
        if row is not None and in_patient_compartment(it.rtype or ""):
            # versions from before a move (patient merge, corrected subject) name the earlier patient too
            v = s.resource_version
            for content in self.conn.execute(select(v.c.content).where(v.c.res_pk == row[0])).scalars():
                patients = sorted(set(patients) | version_patients(content))
        self.record("history", entity, patients)

    # ------------------------------------------------------------------ repository

    def on_read(self, stored: Any, action: str = "read") -> None:
        entity = f"{stored.type}/{stored.id}" + (f"/_history/{stored.version}" if action == "vread" else "")
        patients = self._patients(stored.type, stored.id, stored.pk)
        if action == "vread" and in_patient_compartment(stored.type):
            patients = sorted(set(patients) | version_patients(stored.content))
        if not self._visible(stored.type, stored.pk, "r", deleted=None if action == "vread" else False):
            raise self.deny(action, entity, "Không có quyền xem hồ sơ này", "Not allowed to see this record",
                            patients)
        self.record(action, entity, patients)

    def on_write(self, method: str, rtype: str, rid: str, previous: Any, compartments: list[tuple[str, str]] | None
                 ) -> None:
        exists = previous is not None and not previous.deleted
        letter = "d" if method == "DELETE" else ("u" if exists else "c")
        action = {"POST": "create", "PUT": "update" if exists else "create", "PATCH": "patch",
                  "DELETE": "delete"}.get(method, method.lower())
        entity = f"{rtype}/{rid}"
        if rtype == "AuditEvent":
            raise self.read_only(action, entity)
        old_patients = self._patients(rtype, rid, previous.pk) if exists else []
        if exists and not self.access.visible(self.conn, rtype, previous.pk, letter):
            raise self.deny(action, entity, f"Không có quyền {action} hồ sơ này",
                            f"Not allowed to {action} this record", old_patients)
        new_patients = [cid for ct, cid in (compartments or []) if ct == "Patient"]
        if method != "DELETE" and not self.access.may_write_for(self.conn, rtype, letter, new_patients):
            raise self.deny(action, entity, f"Không có quyền {action} {rtype} cho người bệnh này",
                            f"Not allowed to {action} {rtype} for this patient", new_patients)
        self.record(action, entity, sorted(set(old_patients) | set(new_patients)))

    # ------------------------------------------------------------------ search engine

    def search_conditions(self, r: Any, rtype: str | None) -> list[Any]:
        return self.access.conditions(r, rtype, "s")

    def after_search(self, conn: Connection, rtype: str | None, params: list[tuple[str, str]], rows: list[Any],
                     included: list[Any], compartment: tuple[str, str] | None = None) -> list[Any]:
        """Drop included rows that may not be seen; record the search and the patients it showed."""
        if included:
            r = s.resource
            conds = self.access.conditions(r, None, "r")
            if conds:
                pks = [row.pk for row in included]
                keep = {row[0] for row in conn.execute(select(r.c.pk).where(among(r.c.pk, pks, conn.dialect.name),
                                                                            *conds))}
                included = [row for row in included if row.pk in keep]
        shown = rows + included
        patients = self._patients_of(shown)
        path = "/".join([*(compartment or ()), rtype or ""]).strip("/") or "/"
        query = urlencode([(k, v) for k, v in params if k != "_format"])
        self.record("search", f"{path}?{query}" if query else path, patients)
        return included

    # ------------------------------------------------------------------ history

    def history_conditions(self, r: Any, rtype: str | None) -> list[Any]:
        """SQL conditions on ``r`` (the *current* row of each version's resource) for type/system history.

        Compartments and security labels are indexed for the current version only, so the current row
        decides for all its versions, as for vread and instance history. A deleted resource has neither
        (a tombstone is not indexed): nothing can say whose it was, so users whose access to the type is
        restricted see none of its versions.
        """
        conds = self.access.conditions(r, rtype, "s")
        if not conds:
            return []
        restricted = and_(r.c.deleted.is_(False), *conds)
        if rtype is not None:
            return [restricted]
        open_types = [t for t in self.access.allowed_types("s") if self.access.unrestricted(t, "s")]
        return [or_(r.c.type.in_(open_types), restricted)] if open_types else [restricted]

    def after_history(self, rtype: str | None, params: list[tuple[str, str]], rows: list[Any]) -> None:
        """Record a type or system history read with the patients whose versions it showed."""
        query = urlencode([(k, v) for k, v in params if k != "_format"])
        path = f"{rtype}/_history" if rtype else "_history"
        shown = set(self._patients_of(rows))
        for row in rows:  # versions from before a move name the earlier patient
            if not row.deleted and row.type != "Patient" and in_patient_compartment(row.type):
                shown |= version_patients(row.content)
        self.record("history", f"{path}?{query}" if query else path, sorted(shown))

    # ------------------------------------------------------------------ helpers

    def _visible(self, rtype: str, pk: int, letter: str, *, deleted: bool | None) -> bool:
        """May this record be seen? ``deleted``: whether its current row is a tombstone (None: look it up).

        A tombstone has no compartment or label rows, so for a restricted user it cannot be shown safely.
        """
        if self.access.unrestricted(rtype, letter):
            return True
        if deleted is None:
            r = s.resource
            deleted = bool(self.conn.execute(select(r.c.deleted).where(r.c.pk == pk)).scalar())
        return not deleted and self.access.visible(self.conn, rtype, pk, letter)


    def _patients_of_id(self, rtype: str, rid: str | None) -> list[str]:
        """The patients of one record named by a refused request (so the denial is on their access list)."""
        if rid is None or not in_patient_compartment(rtype):
            return []
        r = s.resource
        pk = self.conn.execute(select(r.c.pk).where(r.c.type == rtype, r.c.id == rid)).scalar()
        return self._patients(rtype, rid, pk) if pk is not None else []

    def _patients(self, rtype: str, rid: str, pk: int) -> list[str]:
        if rtype == "Patient":
            return [rid]
        if not in_patient_compartment(rtype):
            return []
        c = s.compartment
        return sorted(self.conn.execute(select(c.c.comp_id).where(c.c.res_pk == pk, c.c.comp_type == "Patient"))
                      .scalars().all())

    def _patients_of(self, rows: list[Any]) -> list[str]:
        found = {row.id for row in rows if row.type == "Patient"}
        pks = [row.pk for row in rows if row.type != "Patient" and in_patient_compartment(row.type)]
        c = s.compartment
        dialect = self.conn.dialect.name
        step = max(len(pks), 1) if dialect == "postgresql" else 500  # SQLite: a bounded IN list per statement
        for start in range(0, len(pks), step):
            found.update(self.conn.execute(select(c.c.comp_id).where(
                among(c.c.res_pk, pks[start:start + step], dialect), c.c.comp_type == "Patient")).scalars().all())
        return sorted(found)
