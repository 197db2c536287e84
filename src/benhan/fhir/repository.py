"""The one write path and the reads of the FHIR store.

Every change goes validate -> assign id/meta -> extract index rows -> write current row, history
version and index rows, all inside the caller's database transaction. A :class:`Repository` is
made per request around one connection; bundles share one repository so a whole transaction
commits or rolls back together.

Writes are buffered and flushed in bulk (one statement per table) before any read, which is what
makes large transaction bundles fast; referential integrity is checked at flush time (or at the
end of a transaction bundle, so entries may point at each other in any order).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonpatch
import orjson
from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from benhan.db import bulk
from benhan.db import schema as s
from benhan.vn import rules as vn_rules
from benhan.vn import systems as vn_systems

from . import contained, definitions, special_tables, validation
from .clock import Clock, local_date, system_clock, to_instant
from .errors import FhirError, Issue, invalid, not_found
from .indexing import COLUMNS, IndexRows, extract_index
from .references import LocalRef, local_references

ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")


@dataclass(frozen=True, slots=True)
class Stored:
    """One stored version of a resource, content as JSON text."""

    pk: int
    type: str
    id: str
    version: int
    last_updated: int
    deleted: bool
    content: str

    def resource(self) -> dict[str, Any]:
        return orjson.loads(self.content)

    @property
    def etag(self) -> str:
        return f'W/"{self.version}"'


@dataclass(slots=True)
class WriteResult:
    """Outcome of a write: HTTP status and the version now current (None for no-op deletes)."""

    status: int
    stored: Stored | None
    created: bool = False
    # Non-blocking issues (severity warning) of a write that succeeded, e.g. an ICD-10 asterisk code without
    # its dagger code (QĐ 4469 annex A1): the API returns them in an OperationOutcome, the UI beside the field.
    warnings: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class _Pending:
    pk: int | None
    type: str
    id: str
    version: int
    last_updated: int
    deleted: bool
    method: str
    content: str
    index: IndexRows | None
    refs: list[LocalRef] = field(default_factory=list)


def parse_etag(value: str) -> int | None:
    """``W/"3"`` or ``"3"`` -> 3 (None when not a version tag)."""
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    v = v.strip('"')
    return int(v) if v.isdigit() else None


def check_id(rid: str, expression: str = "id") -> None:
    if not (1 <= len(rid) <= 64) or not set(rid) <= ID_CHARS:
        raise invalid("Định danh (id) không hợp lệ", f"Invalid resource id '{rid[:70]}'", expression)


def _forget_index_rows(conn: Connection, pks: list[int]) -> None:
    """Delete the search-index and compartment rows of resources getting a new version.

    PostgreSQL: one statement (the deletes as data-modifying CTEs) instead of one per table, since every
    update pays it; SQLite: one per table.
    """
    tables = (*s.INDEX_TABLES.values(), s.compartment, *special_tables.TABLES)
    if conn.dialect.name == "postgresql":
        conn.execute(_pg_forget_statement(), {"stale": pks})
        return
    for table in tables:
        conn.execute(delete(table).where(table.c.res_pk.in_(pks)))


@cache
def _pg_forget_statement() -> Any:
    *others, last = (*s.INDEX_TABLES.values(), *special_tables.TABLES, s.compartment)
    stmt = delete(last).where(last.c.res_pk.in_(bindparam("stale", expanding=True)))
    for i, table in enumerate(others):
        stmt = stmt.add_cte(delete(table).where(table.c.res_pk.in_(bindparam("stale", expanding=True)))
                            .cte(f"forget_{i}"))
    return stmt


class Repository:
    """Reads and writes FHIR resources on one connection (inside the caller's transaction)."""

    def __init__(self, conn: Connection, *, base_url: str = "", clock: Clock = system_clock,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4()), guard: Any = None) -> None:
        self.conn = conn
        # The request's security context (benhan.security.guard.FhirGuard): access decisions and audit
        # entries for every public read and write. None only for trusted in-process callers (CLI, loaders).
        self.guard = guard
        self.base_url = base_url
        self.clock = clock
        self.new_id = new_id
        self._pending: list[_Pending] = []
        self._pending_by_key: dict[tuple[str, str], _Pending] = {}  # a key is written once per transaction
        self._peeked: dict[tuple[str, str], str | None] = {}  # stored content read by peek(), this transaction
        self.defer_integrity = False  # set by transaction bundles: check references once, at the end
        self._deferred_refs: list[LocalRef] = []
        self._live: set[tuple[str, str]] = set()  # written (not deleted) by this repository, in this transaction
        self._signing = False  # inside as_signer(): the signing service may add the signed tag
        # (type, id) -> warnings of the latest write of that resource on this repository (WriteResult.warnings),
        # for callers that write through a service and show the warnings afterwards (the exam form).
        self.warnings: dict[tuple[str, str], list[Issue]] = {}

    # ---------------------------------------------------------------- reads

    def read(self, rtype: str, rid: str) -> Stored:
        """Current version; 404 if never existed, 410 if deleted."""
        stored = self.current(rtype, rid)
        if stored is None:
            raise not_found(rtype, rid)
        if stored.deleted:
            raise FhirError.one(410, "deleted", f"{rtype}/{rid} đã bị xoá", f"{rtype}/{rid} has been deleted")
        if self.guard is not None:
            self.guard.on_read(stored, "read")
        return stored

    def current(self, rtype: str, rid: str) -> Stored | None:
        """The current row, deleted or not, or None."""
        self.flush()
        r = s.resource
        row = self.conn.execute(
            select(r.c.pk, r.c.type, r.c.id, r.c.version, r.c.last_updated, r.c.deleted, r.c.content)
            .where(r.c.type == rtype, r.c.id == rid)
        ).first()
        return Stored(*row) if row else None

    def vread(self, rtype: str, rid: str, version: str) -> Stored:
        self.flush()
        if not version.isdigit():
            raise not_found(rtype, f"{rid}/_history/{version}")
        v = s.resource_version
        row = self.conn.execute(
            select(v.c.res_pk, v.c.type, v.c.id, v.c.version, v.c.last_updated, v.c.deleted, v.c.content)
            .where(v.c.type == rtype, v.c.id == rid, v.c.version == int(version))
        ).first()
        if row is None:
            raise not_found(rtype, f"{rid}/_history/{version}")
        stored = Stored(*row)
        if stored.deleted:
            raise FhirError.one(410, "deleted", f"Phiên bản {version} là bản xoá",
                                f"Version {version} of {rtype}/{rid} is a deletion")
        if self.guard is not None:
            self.guard.on_read(stored, "vread")
        return stored

    def exists(self, refs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of ``(type, id)`` exist and are not deleted."""
        self.flush()
        by_type: dict[str, set[str]] = {}
        for t, i in refs:
            by_type.setdefault(t, set()).add(i)
        found: set[tuple[str, str]] = set()
        r = s.resource
        for t, ids in by_type.items():
            id_list = sorted(ids)
            for start in range(0, len(id_list), 500):
                chunk = id_list[start:start + 500]
                rows = self.conn.execute(
                    select(r.c.id).where(r.c.type == t, r.c.id.in_(chunk), r.c.deleted.is_(False))
                )
                found.update((t, row[0]) for row in rows)
        return found

    # ---------------------------------------------------------------- writes

    def create(self, resource: dict[str, Any], *, rtype: str | None = None,
               if_none_exist: str | None = None, rid: str | None = None) -> WriteResult:
        """Create with a server-assigned id (or ``rid`` for transaction-assigned ids).

        ``If-None-Exist`` makes it conditional: one match returns it (200), several give 412.
        """
        rtype = rtype or resource.get("resourceType")
        self._check_type(resource, rtype)
        if if_none_exist is not None:
            matches = self.find(rtype, if_none_exist)
            if len(matches) == 1:
                return WriteResult(200, self.read(rtype, matches[0]))
            if len(matches) > 1:
                raise _precondition(f"If-None-Exist khớp {len(matches)} tài nguyên",
                                    f"If-None-Exist matched {len(matches)} resources")
        return self._write(rtype, rid or self.new_id(), resource, previous=None, method="POST")

    def update(self, rtype: str, rid: str, resource: dict[str, Any], *, if_match: str | None = None) -> WriteResult:
        """Update, or create with the client's id when the resource does not exist (update-as-create)."""
        self._check_type(resource, rtype)
        check_id(rid)
        body_id = resource.get("id")
        if body_id is None:
            raise invalid("Tài nguyên phải có id khi cập nhật", "Resource id is required for update",
                          f"{rtype}.id")
        if body_id != rid:
            raise invalid(f"id trong nội dung ({body_id}) khác id trên URL ({rid})",
                          f"Resource id '{body_id}' does not match the URL id '{rid}'", f"{rtype}.id")
        previous = self.current(rtype, rid)
        self._check_if_match(previous, if_match)
        return self._write(rtype, rid, resource, previous=previous, method="PUT")

    def conditional_update(self, rtype: str, query: str, resource: dict[str, Any]) -> WriteResult:
        """``PUT Type?query``: no match creates, one match updates it, several give 412."""
        self._check_type(resource, rtype)
        matches = self.find(rtype, query)
        if len(matches) > 1:
            raise _precondition(f"Điều kiện khớp {len(matches)} tài nguyên",
                                f"Conditional update matched {len(matches)} resources")
        body_id = resource.get("id")
        if not matches:
            if body_id is not None:
                check_id(body_id)
                if self.current(rtype, body_id) is not None:
                    raise _precondition("id trong nội dung đã tồn tại nhưng không khớp điều kiện",
                                        "The body id exists but does not match the condition")
                return self._write(rtype, body_id, resource, previous=None, method="PUT")
            return self._write(rtype, self.new_id(), resource, previous=None, method="PUT")
        rid = matches[0]
        if body_id is not None and body_id != rid:
            raise invalid("id trong nội dung khác tài nguyên khớp điều kiện",
                          "Body id does not match the resource found by the condition", f"{rtype}.id")
        resource = {**resource, "id": rid}
        return self._write(rtype, rid, resource, previous=self.current(rtype, rid), method="PUT")

    def patch(self, rtype: str, rid: str, operations: Any, *, if_match: str | None = None) -> WriteResult:
        """JSON Patch (RFC 6902) or FHIRPath Patch (a ``Parameters`` body, ``fhirpath_patch.py``) of the current
        version; the result is validated like any update."""
        from . import fhirpath_patch

        previous = self.read(rtype, rid)
        self._check_if_match(previous, if_match)
        if fhirpath_patch.is_fhirpath_patch(operations):
            patched = fhirpath_patch.apply(previous.resource(), operations)
        elif not isinstance(operations, list):
            raise invalid("JSON Patch phải là một mảng thao tác", "A JSON Patch must be an array of operations")
        else:
            try:
                patched = jsonpatch.JsonPatch(operations).apply(previous.resource())
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
                raise FhirError.one(422, "processing", f"Không áp dụng được JSON Patch: {exc}",
                                    f"JSON Patch could not be applied: {exc}") from exc
        if not isinstance(patched, dict) or patched.get("resourceType") != rtype or patched.get("id") != rid:
            raise FhirError.one(422, "processing", "Patch không được đổi resourceType hoặc id",
                                "A patch may not change resourceType or id")
        return self._write(rtype, rid, patched, previous=previous, method="PATCH")

    def delete(self, rtype: str, rid: str, *, if_match: str | None = None) -> WriteResult:
        """Write a tombstone version; deleting what is absent or already deleted is a no-op (204)."""
        previous = self.current(rtype, rid)
        self._check_if_match(previous, if_match)
        if previous is None or previous.deleted:
            return WriteResult(204, previous)
        _refuse_if_signed(previous)
        now = self._next_time(previous)
        version = previous.version + 1
        tombstone = {"resourceType": rtype, "id": rid,
                     "meta": {"versionId": str(version), "lastUpdated": to_instant(now)}}
        pending = _Pending(previous.pk, rtype, rid, version, now, True, "DELETE",
                           orjson.dumps(tombstone).decode(), None)
        if self.guard is not None:
            self.guard.on_write("DELETE", rtype, rid, previous, None)
        self._enqueue(pending)
        self.flush_if_not_deferred()
        return WriteResult(204, Stored(previous.pk, rtype, rid, version, now, True, pending.content))

    def conditional_delete(self, rtype: str, query: str) -> WriteResult:
        matches = self.find(rtype, query)
        if len(matches) > 1:
            raise _precondition(f"Điều kiện xoá khớp {len(matches)} tài nguyên",
                                f"Conditional delete matched {len(matches)} resources")
        if not matches:
            return WriteResult(204, None)
        return self.delete(rtype, matches[0])

    def find(self, rtype: str, query: str) -> list[str]:
        """Ids matching a search query string (for conditional interactions)."""
        from .search import find_ids

        self.flush()
        return find_ids(self.conn, rtype, query)

    # ---------------------------------------------------------------- internals

    def _check_type(self, resource: Any, rtype: str | None) -> None:
        if not isinstance(resource, dict):
            raise invalid("Nội dung phải là một tài nguyên FHIR (JSON object)", "Body must be a FHIR resource")
        if not rtype or not definitions.is_resource_type(rtype):
            raise FhirError.one(404, "not-supported", f"Loại tài nguyên không được hỗ trợ: {rtype}",
                                f"Unknown resource type '{rtype}'")
        if resource.get("resourceType") != rtype:
            raise invalid(f"resourceType phải là {rtype}",
                          f"resourceType '{resource.get('resourceType')}' does not match '{rtype}'",
                          "resourceType")

    def _check_if_match(self, previous: Stored | None, if_match: str | None) -> None:
        if if_match is None:
            return
        wanted = parse_etag(if_match)
        if previous is None or previous.deleted or wanted != previous.version:
            current = "none" if previous is None else str(previous.version)
            raise FhirError.one(412, "conflict",
                                f"Phiên bản đã thay đổi (If-Match {if_match}, hiện tại {current})",
                                f"Version conflict: If-Match {if_match}, current version {current}")

    def _next_time(self, previous: Stored | None) -> int:
        now = self.clock()
        if previous is not None and now <= previous.last_updated:
            now = previous.last_updated + 1
        return now

    def _write(self, rtype: str, rid: str, resource: dict[str, Any], *, previous: Stored | None,
               method: str) -> WriteResult:
        check_id(rid)
        if (rtype, rid) in self._pending_by_key:
            raise FhirError.one(400, "duplicate", f"{rtype}/{rid} được ghi hai lần trong cùng giao dịch",
                                f"{rtype}/{rid} is written twice in one transaction")
        if previous is not None and not previous.deleted:
            _refuse_if_signed(previous)
        resource = dict(resource)
        resource["id"] = rid
        meta = dict(resource.get("meta") or {})
        meta.pop("versionId", None)
        meta.pop("lastUpdated", None)
        if meta:
            resource["meta"] = meta
        else:
            resource.pop("meta", None)
        validation.validate_resource(resource, resource_type=rtype)
        if not self._signing and has_signed_tag(resource):
            raise _signed_tag_refused(rtype)
        now = self._next_time(previous)
        # Vietnamese identifiers (CCCD, BHYT, ...) are checked on every door into the store.
        vn_rules.raise_if_invalid(resource, today=local_date(now))
        warnings = self._check_diagnoses(resource, local_date(now)) if rtype in ("Condition", "Encounter") else []
        version = previous.version + 1 if previous is not None else 1
        resource["meta"] = {"versionId": str(version), "lastUpdated": to_instant(now), **meta}
        # Keep resourceType and id first, as clients and people reading JSON expect.
        ordered = {"resourceType": rtype, "id": rid, "meta": resource["meta"]}
        ordered.update((k, v) for k, v in resource.items() if k not in ordered)
        content = orjson.dumps(ordered).decode()
        refs = local_references(ordered, self.base_url, definitions.is_resource_type)
        pending = _Pending(previous.pk if previous else None, rtype, rid, version, now, False, method,
                           content, extract_index(ordered), refs)
        if self.guard is not None:
            self.guard.on_write(method, rtype, rid, previous, pending.index.compartments if pending.index else None)
        self._enqueue(pending)
        self.flush_if_not_deferred()
        created = previous is None or previous.deleted
        if warnings:
            self.warnings[(rtype, rid)] = warnings
        else:
            self.warnings.pop((rtype, rid), None)
        return WriteResult(201 if created else 200,
                           Stored(pending.pk or 0, rtype, rid, version, now, False, content), created, warnings)

    @contextmanager
    def as_system(self) -> Iterator[None]:
        """Bookkeeping the system does on the caller's behalf (e.g. the facility's patient-code counter).

        The caller's access rules do not apply inside; use it only for resources that hold no patient
        data and that no user edits directly.
        """
        guard, self.guard = self.guard, None
        try:
            yield
        finally:
            self.guard = guard

    @contextmanager
    def as_signer(self) -> Iterator[None]:
        """Writes of the signing service (``clinical/signing.py``), the only ones that may add the signed tag.

        Everywhere else (FHIR create/update/patch, bundle entries, ``$meta-add``, registration, demo) a
        resource carrying it is refused with 422: the tag says a signature exists, so only signing sets it.
        Access rules and the 409 on already-signed versions still apply inside.
        """
        signing, self._signing = self._signing, True
        try:
            yield
        finally:
            self._signing = signing

    def _check_diagnoses(self, resource: dict[str, Any], today: Any) -> list[Issue]:
        """ICD-10 rules wherever a diagnosis is recorded: errors refuse the write, warnings are returned."""
        from benhan.terminology.diagnosis import check_resource

        issues = check_resource(self.conn, resource, resolve=self.peek, today=today)
        errors = [i for i in issues if i.severity in ("error", "fatal")]
        if errors:
            raise FhirError(422, errors)
        return [i for i in issues if i.severity == "warning"]

    def peek(self, rtype: str, rid: str) -> dict[str, Any] | None:
        """The live content of ``rtype/rid`` as this transaction sees it, without flushing buffered writes."""
        key = (rtype, rid)
        pending = self._pending_by_key.get(key)
        if pending is not None:
            return None if pending.deleted else orjson.loads(pending.content)
        if key not in self._peeked:  # every later write of the key goes through _enqueue, which forgets it
            r = s.resource
            row = self.conn.execute(select(r.c.content, r.c.deleted).where(r.c.type == rtype, r.c.id == rid)).first()
            self._peeked[key] = row[0] if row and not row[1] else None
        content = self._peeked[key]
        return orjson.loads(content) if content is not None else None

    def _enqueue(self, pending: _Pending) -> None:
        self._pending.append(pending)
        key = (pending.type, pending.id)
        self._pending_by_key[key] = pending
        self._peeked.pop(key, None)

    def discard_pending(self) -> None:
        """Forget buffered writes (their savepoint was rolled back)."""
        for key in self._pending_by_key:
            self.warnings.pop(key, None)
        self._pending.clear()
        self._pending_by_key.clear()
        self._peeked.clear()
        self._live.clear()  # some may have been flushed inside the rolled-back savepoint

    @property
    def buffered(self) -> int:
        """How many writes wait for the next flush (bulk loaders flush every few hundred)."""
        return len(self._pending)

    def flush_if_not_deferred(self) -> None:
        if not self.defer_integrity:
            self.flush()

    def flush(self) -> None:
        """Write all buffered versions in bulk, then check the references they make."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._pending_by_key.clear()
        try:
            self._write_rows(pending)
        except IntegrityError as exc:
            raise FhirError.one(409, "conflict", "Xung đột ghi đồng thời, hãy thử lại",
                                "Concurrent write conflict; retry the request") from exc
        for p in pending:
            if p.deleted:
                self._live.discard((p.type, p.id))
            else:
                self._live.add((p.type, p.id))
        refs = [ref for p in pending for ref in p.refs]
        if self.defer_integrity:
            self._deferred_refs.extend(refs)
        else:
            self._check_references(refs)

    def check_deferred_references(self) -> None:
        """End of a transaction bundle: every local reference must now resolve."""
        self.flush()
        refs, self._deferred_refs = self._deferred_refs, []
        self._check_references(refs)

    def _check_references(self, refs: Sequence[LocalRef]) -> None:
        if not refs:
            return
        # What this transaction itself wrote needs no query: it exists unless deleted since.
        unknown = [r for r in refs if (r.type, r.id) not in self._live]
        found = self.exists((r.type, r.id) for r in unknown) if unknown else set()
        missing = [r for r in unknown if (r.type, r.id) not in found]
        if missing:
            raise FhirError(400, [
                Issue("not-found", f"Tham chiếu tới tài nguyên không tồn tại: {r.type}/{r.id}",
                      f"Reference to a resource that does not exist on this server: {r.type}/{r.id}",
                      r.expression)
                for r in missing
            ])

    def _write_rows(self, pending: list[_Pending]) -> None:
        r = s.resource
        new = [p for p in pending if p.pk is None]
        changed = [p for p in pending if p.pk is not None]  # split before new rows get their keys
        batches: list[bulk.Batch] = []
        if new:
            batches.append(self._current_rows(new))
        if changed:
            self.conn.execute(
                update(r).where(r.c.pk == _bind("b_pk")).values(
                    version=_bind("b_version"), last_updated=_bind("b_last_updated"),
                    deleted=_bind("b_deleted"), content=_bind("b_content")),
                [{"b_pk": p.pk, "b_version": p.version, "b_last_updated": p.last_updated,
                  "b_deleted": p.deleted, "b_content": p.content} for p in changed],
            )
            forget_index_rows(self.conn, [p.pk for p in changed])
        batches.append((s.resource_version, _VERSION_COLUMNS, [
            (p.pk, p.version, p.type, p.id, p.last_updated, p.deleted, p.method, p.content) for p in pending]))
        batches += index_batches(pending)
        bulk.insert_batches(self.conn, batches)  # one round trip for a few rows (PostgreSQL pipeline)
        contained.write_rows(self.conn, pending)  # _contained searches (fhir/contained.py)

    def _current_rows(self, new: list[_Pending]) -> bulk.Batch:
        """New ``resource`` rows, their keys chosen beforehand (inserted with the write's other rows)."""
        r = s.resource
        if self.conn.dialect.name == "sqlite":
            # One writer at a time: the next keys are max(pk)+1, ...
            start = self.conn.execute(select(func.coalesce(func.max(r.c.pk), 0))).scalar_one()
            keys = list(range(start + 1, start + 1 + len(new)))
        else:
            keys = bulk.next_keys(self.conn, r, "pk", len(new))
        for p, key in zip(new, keys, strict=True):
            p.pk = key
        return r, _CURRENT_COLUMNS, [(p.pk, p.type, p.id, p.version, p.last_updated, p.deleted, p.content)
                                     for p in new]


def write_index(conn: Connection, pending: Sequence[Any]) -> None:
    """Index and compartment rows of ``pending`` (see :func:`index_batches`)."""
    bulk.insert_batches(conn, index_batches(pending))


def index_batches(pending: Sequence[Any]) -> list[bulk.Batch]:
    """Index and compartment rows: the extracted tuples (``p.index``), prefixed with ``p.pk`` and ``p.type``;
    the ``idx_text``/``idx_position`` rows of :mod:`benhan.fhir.special_tables`."""
    by_kind: dict[str, list[tuple[Any, ...]]] = {}
    comps: list[tuple[Any, ...]] = []
    texts: list[tuple[Any, ...]] = []
    positions: list[tuple[Any, ...]] = []
    for p in pending:
        if p.index is None:
            continue
        owner = (p.pk, p.type)
        special_tables.rows(owner, p.index, texts, positions)  # _text/_content, near
        for kind, rows in p.index.tuples.items():
            bucket = by_kind.get(kind)
            if bucket is None:
                bucket = by_kind[kind] = []
            bucket.extend([owner + row for row in rows])
        comps.extend([owner + comp for comp in p.index.compartments])
    batches = [(s.INDEX_TABLES[kind], _INDEX_COLUMNS[kind], rows) for kind, rows in by_kind.items()]
    return [*batches, (s.compartment, _COMPARTMENT_COLUMNS, comps), *special_tables.batches(texts, positions)]


def forget_index_rows(conn: Connection, pks: list[int]) -> None:
    """Delete the search-index (``idx_*``, ``idx_text``, ``idx_position``), compartment and contained-resource
    rows of the resources ``pks``."""
    for start in range(0, len(pks), 500):
        _forget_index_rows(conn, pks[start:start + 500])
    contained.forget(conn, pks)


_CURRENT_COLUMNS = ("pk", "type", "id", "version", "last_updated", "deleted", "content")
_VERSION_COLUMNS = ("res_pk", "version", "type", "id", "last_updated", "deleted", "method", "content")
_INDEX_COLUMNS = {kind: ("res_pk", "res_type", *columns) for kind, columns in COLUMNS.items()}
_COMPARTMENT_COLUMNS = ("res_pk", "res_type", "comp_type", "comp_id")


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _precondition(vi: str, en: str) -> FhirError:
    return FhirError.one(412, "multiple-matches", vi, en)


RECORD_STATE = vn_systems.RECORD_STATE  # meta.tag code "signed": the medical record is signed (ký số)


def has_signed_tag(resource: dict[str, Any]) -> bool:
    """Does this resource carry the signed tag (``urn:benhan:fhir:record-state|signed``)?"""
    return any(t.get("system") == RECORD_STATE and t.get("code") == "signed"
               for t in (resource.get("meta") or {}).get("tag") or [])


def is_signed(stored: Stored) -> bool:
    """Is this stored version signed? (cheap text test before parsing)"""
    return RECORD_STATE in stored.content and has_signed_tag(stored.resource())


def _signed_tag_refused(rtype: str) -> FhirError:
    """422, not 403: no role may set the tag (it is a business rule of the record, not a permission)."""
    return FhirError.one(422, "business-rule",
                         f"Chỉ dịch vụ ký số mới được gắn thẻ đã ký ({RECORD_STATE}|signed); hãy ký hồ sơ",
                         f"Only the signing service may add the signed tag ({RECORD_STATE}|signed); sign the record",
                         f"{rtype}.meta.tag")


def _refuse_if_signed(previous: Stored) -> None:
    """A signed version is final (TT 32/2023, TT 13/2025): corrections are addenda, never edits."""
    if is_signed(previous):
        ref = f"{previous.type}/{previous.id}"
        raise FhirError.one(409, "conflict", f"{ref} đã ký số, không được sửa; hãy viết phụ lục",
                            f"{ref} is signed, cannot be changed; write an addendum")
