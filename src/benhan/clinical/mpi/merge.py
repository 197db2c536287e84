"""Merging two records of one person (gộp hồ sơ), and undoing it.

Merge ``source`` into ``target``:

* every resource that refers to the source Patient — found through the ``compartment`` table and the
  reference index, never a scan — is updated through the Repository to refer to the target (history
  keeps the old versions); Patient, Provenance and AuditEvent resources are records of the past and
  are left alone (other Patients' links stay resolvable through :func:`.candidates.surviving`);
* the source gets ``link`` *replaced-by* → target and ``active: false``; the target gets *replaces*;
* a ``Provenance`` (activity ISO 21089 ``merge``) lists every new version in ``target`` and the
  version before it in ``entity`` (role ``revision``): that list is what :func:`unmerge` restores.

Refused when both records carry different CCCD numbers (twins have the same everything else).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, union

from benhan.db import schema as s
from benhan.fhir.clock import to_instant
from benhan.fhir.errors import FhirError
from benhan.fhir.references import parse_local
from benhan.fhir.repository import Repository, is_signed
from benhan.vn import systems

from .candidates import replaced_by, search_resources

LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"  # merge / unmerge events
NOT_REPOINTED = frozenset({"Patient", "Provenance", "AuditEvent"})


@dataclass(slots=True)
class MergeResult:
    source: dict[str, Any]
    target: dict[str, Any]
    record: dict[str, Any]  # the Provenance
    changed: list[str] = field(default_factory=list)  # "Encounter/1" re-pointed (or restored)
    not_restored: list[str] = field(default_factory=list)  # unmerge: changed or deleted since the merge
    kept_signed: list[str] = field(default_factory=list)  # signed records left on the source (found via its link)

    def event(self, action: str) -> dict[str, Any]:
        """The audit event for this merge/unmerge (references only, no personal data)."""
        return {"action": action, "entities": [f"Patient/{self.source['id']}", f"Patient/{self.target['id']}",
                                               f"Provenance/{self.record['id']}", *self.changed]}


def _conflict(vi: str, en: str, code: str = "conflict") -> FhirError:
    return FhirError.one(409, code, vi, en)


def _national_ids(patient: dict[str, Any]) -> set[str]:
    return {i["value"] for i in patient.get("identifier", [])
            if i.get("system") == systems.NATIONAL_ID and isinstance(i.get("value"), str)}


def referring_resources(repo: Repository, patient_id: str) -> list[tuple[str, str]]:
    """(type, id) of live resources in the Patient's compartment or referring to it, sorted."""
    repo.flush()
    c, ref, r = s.compartment, s.idx_reference, s.resource
    members = union(
        select(c.c.res_pk.label("pk")).where(c.c.comp_type == "Patient", c.c.comp_id == patient_id),
        select(ref.c.res_pk.label("pk")).where(ref.c.target_type == "Patient", ref.c.target_id == patient_id),
    ).subquery()
    rows = repo.conn.execute(
        select(r.c.type, r.c.id).join(members, members.c.pk == r.c.pk)
        .where(r.c.deleted.is_(False), r.c.type.not_in(NOT_REPOINTED)).order_by(r.c.type, r.c.id))
    return [(t, i) for t, i in rows]


def _repoint(node: Any, old: str, new: str, base_url: str) -> bool:
    """Rewrite references to ``Patient/old`` (relative, versioned or under our base) in place."""
    changed = False
    if isinstance(node, dict):
        value = node.get("reference")
        if isinstance(value, str):
            parsed = parse_local(value, base_url)
            if parsed and parsed[0] == "Patient" and parsed[1] == old:
                absolute = base_url and value.startswith(base_url + "/")
                node["reference"] = f"{base_url}/Patient/{new}" if absolute else f"Patient/{new}"
                changed = True
        for child in node.values():
            if isinstance(child, (dict, list)):
                changed = _repoint(child, old, new, base_url) or changed
    elif isinstance(node, list):
        for item in node:
            changed = _repoint(item, old, new, base_url) or changed
    return changed


def _body(resource: dict[str, Any]) -> dict[str, Any]:
    out = dict(resource)
    out.pop("meta", None)
    return out


def _provenance(activity: str, display: str, targets: list[str], entities: list[dict[str, Any]], now: int,
                author: str | None, reason: str | None) -> dict[str, Any]:
    prov: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [{"reference": t} for t in targets],
        "recorded": to_instant(now),
        "activity": {"coding": [{"system": LIFECYCLE, "code": activity, "display": display}]},
        "agent": [{"who": {"display": author or "Bệnh Án MPI"}}],
        "entity": entities,
    }
    if reason:
        prov["reason"] = [{"text": reason}]
    return prov


def merge_patients(repo: Repository, source_id: str, target_id: str, *, author: str | None = None,
                   reason: str | None = None) -> MergeResult:
    """Merge ``source_id`` into ``target_id`` inside the caller's transaction."""
    if source_id == target_id:
        raise FhirError.one(422, "business-rule", "Không thể gộp hồ sơ với chính nó",
                            "Cannot merge a record into itself")
    source = repo.read("Patient", source_id)
    target = repo.read("Patient", target_id)
    src, tgt = source.resource(), target.resource()
    if replaced_by(src, repo.base_url):
        raise _conflict("Hồ sơ nguồn đã được gộp vào hồ sơ khác", "The source record is already merged")
    if (other := replaced_by(tgt, repo.base_url)) is not None:
        raise _conflict(f"Hồ sơ đích đã được gộp vào Patient/{other}: hãy gộp vào hồ sơ đó",
                        f"The target record was merged into Patient/{other}: merge into that record")
    a, b = _national_ids(src), _national_ids(tgt)
    if a and b and not a & b:
        raise _conflict("Hai hồ sơ có số CCCD khác nhau (có thể là anh chị em sinh đôi): không được gộp",
                        "The records have different CCCD numbers (could be twins): refusing to merge",
                        "business-rule")
    targets: list[str] = []
    entities: list[dict[str, Any]] = []
    changed: list[str] = []
    kept_signed: list[str] = []
    for rtype, rid in referring_resources(repo, source_id):
        current = repo.current(rtype, rid)
        if current is None or current.deleted:
            continue
        if is_signed(current):
            # A signed record is final: it keeps pointing at the source, whose replaced-by link leads to
            # the survivor (FHIR Patient.link), rather than being re-signed under another identity.
            kept_signed.append(f"{rtype}/{rid}")
            continue
        body = _body(current.resource())
        if not _repoint(body, source_id, target_id, repo.base_url):
            continue
        new = repo.update(rtype, rid, body).stored
        assert new is not None
        targets.append(f"{rtype}/{rid}/_history/{new.version}")
        entities.append({"role": "revision", "what": {"reference": f"{rtype}/{rid}/_history/{current.version}"}})
        changed.append(f"{rtype}/{rid}")
    src_body = _body(src)
    src_body["active"] = False
    src_body["link"] = [*src.get("link", []), {"other": {"reference": f"Patient/{target_id}"}, "type": "replaced-by"}]
    tgt_body = _body(tgt)
    tgt_body["link"] = [*tgt.get("link", []), {"other": {"reference": f"Patient/{source_id}"}, "type": "replaces"}]
    new_src = repo.update("Patient", source_id, src_body).stored
    new_tgt = repo.update("Patient", target_id, tgt_body).stored
    assert new_src is not None and new_tgt is not None
    targets = [f"Patient/{source_id}/_history/{new_src.version}", f"Patient/{target_id}/_history/{new_tgt.version}",
               *targets]
    entities = [{"role": "revision", "what": {"reference": f"Patient/{source_id}/_history/{source.version}"}},
                {"role": "revision", "what": {"reference": f"Patient/{target_id}/_history/{target.version}"}},
                *entities]
    record = repo.create(_provenance("merge", "Merge Record Lifecycle Event", targets, entities,
                                     new_tgt.last_updated, author, reason)).stored
    assert record is not None
    return MergeResult(new_src.resource(), new_tgt.resource(), record.resource(), changed, kept_signed=kept_signed)


def _versioned(reference: str) -> tuple[str, str, int] | None:
    parsed = parse_local(reference)
    if parsed is None or parsed[2] is None or not parsed[2].isdigit():
        return None
    return parsed[0], parsed[1], int(parsed[2])


def find_merge_record(repo: Repository, source_id: str, target_id: str) -> dict[str, Any] | None:
    """The latest merge Provenance of ``source_id`` into ``target_id``."""
    best: dict[str, Any] | None = None
    query = [("target", f"Patient/{source_id}"), ("_sort", "-_lastUpdated")]
    for prov in search_resources(repo, "Provenance", query, 50):
        codes = {c.get("code") for c in (prov.get("activity") or {}).get("coding", []) if c.get("system") == LIFECYCLE}
        refs = [_versioned(t.get("reference", "")) for t in prov.get("target", [])]
        ids = {(r[0], r[1]) for r in refs if r}
        if "merge" in codes and ("Patient", target_id) in ids and ("Patient", source_id) in ids:
            best = prov
            break
    return best


def unmerge_patients(repo: Repository, source_id: str, *, author: str | None = None,
                     reason: str | None = None) -> MergeResult:
    """Undo the merge of ``source_id``: restore the versions recorded by its merge Provenance.

    A resource changed since the merge is not rolled back; its references to the target are pointed
    back at the source instead, and it is listed in ``not_restored`` for a person to check.
    """
    src_now = repo.read("Patient", source_id)
    target_id = replaced_by(src_now.resource(), repo.base_url)
    if target_id is None:
        raise _conflict("Hồ sơ này chưa được gộp vào hồ sơ nào", "This record has not been merged")
    record = find_merge_record(repo, source_id, target_id)
    if record is None:
        raise _conflict("Không tìm thấy bản ghi gộp hồ sơ để hoàn tác", "No merge record found to undo")
    before = {(r[0], r[1]): r[2] for e in record.get("entity", [])
              if (r := _versioned((e.get("what") or {}).get("reference", "")))}
    after = {(r[0], r[1]): r[2] for t in record.get("target", []) if (r := _versioned(t.get("reference", "")))}
    targets: list[str] = []
    entities: list[dict[str, Any]] = [{"role": "source", "what": {"reference": f"Provenance/{record['id']}"}}]
    changed: list[str] = []
    not_restored: list[str] = []
    for (rtype, rid), old_version in before.items():
        current = repo.current(rtype, rid)
        if current is None or current.deleted:
            not_restored.append(f"{rtype}/{rid}")
            continue
        if current.version == after.get((rtype, rid)):
            body = _body(repo.vread(rtype, rid, str(old_version)).resource())
        else:
            body = _body(current.resource())
            if rtype == "Patient":
                _drop_links(body, source_id if rid == target_id else target_id)
                if rid == source_id:
                    body["active"] = True
            else:
                _repoint(body, target_id, source_id, repo.base_url)
            if (rtype, rid) not in (("Patient", source_id), ("Patient", target_id)):
                not_restored.append(f"{rtype}/{rid}")
        new = repo.update(rtype, rid, body).stored
        assert new is not None
        targets.append(f"{rtype}/{rid}/_history/{new.version}")
        entities.append({"role": "revision", "what": {"reference": f"{rtype}/{rid}/_history/{current.version}"}})
        if rtype != "Patient":
            changed.append(f"{rtype}/{rid}")
    now = repo.current("Patient", source_id)
    assert now is not None
    prov = repo.create(_provenance("unmerge", "Unmerge Record Lifecycle Event", targets, entities,
                                   now.last_updated, author, reason)).stored
    assert prov is not None
    src = repo.current("Patient", source_id)
    tgt = repo.current("Patient", target_id)
    assert src is not None and tgt is not None
    return MergeResult(src.resource(), tgt.resource(), prov.resource(), changed, not_restored)


def _drop_links(patient: dict[str, Any], other_id: str) -> None:
    links = [link for link in patient.get("link", [])
             if (parse_local((link.get("other") or {}).get("reference", "")) or ("", "", None))[1] != other_id]
    if links:
        patient["link"] = links
    else:
        patient.pop("link", None)
