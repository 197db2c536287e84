"""Signing a visit's medical record (ký số hồ sơ bệnh án, TT 13/2025) and checking a signature.

What signing does, in the caller's transaction, through the caller's repository (access-checked,
audited):

1. every resource of the record — the ``Encounter``, its ``Composition``, and the ``Condition``,
   ``Observation``, ``ServiceRequest``, ``MedicationRequest`` and ``AllergyIntolerance`` recorded in it —
   gets ``meta.tag`` ``urn:benhan:fhir:record-state|signed`` (the repository then refuses any change:
   corrections are addenda); the Composition becomes ``final`` with a legal attester. These writes run
   inside ``repo.as_signer()``, the only place the repository lets the tag be added (elsewhere: 422);
2. a ``Provenance`` is written: ``target`` = the versioned references of the versions just written (and,
   last, the patient's current version: whose record it is; not tagged, demographics stay editable),
   ``recorded``, ``agent`` = the doctor's ``Practitioner``, activity LA (legally authenticated), and
   one ``signature`` (type 1.2.840.10065.1.12.1.1 author's signature, ``when``, ``who``,
   ``sigFormat`` application/jose, ``targetFormat`` application/fhir+json).

What exactly is signed (``signature.data`` is the base64 of a JWS, compact serialization with a
detached payload, RFC 7515 appendix F, ES256, header ``kid`` = the signer's key id): the payload is the
FHIR canonical JSON (keys sorted, no whitespace, UTF-8) of::

    {"purpose": "urn:benhan:signature:record:1",
     "signatureType": "1.2.840.10065.1.12.1.1",
     "who": "Practitioner/<id>", "when": "<signature.when>",
     "targets": ["Encounter/<id>/_history/<v>", ...],                  # in Provenance.target order
     "resources": [<each target version exactly as stored, meta included>, ...]}

so the signature covers the content, the version ids and the signed tags, the signer and the time.
:func:`verify_signature` reads the target versions again, rebuilds the payload and checks the JWS with
the published public key, and that the key belongs to the user whose Practitioner is ``who``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
import orjson
from jwt.api_jws import PyJWS
from sqlalchemy import select

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import RECORD_STATE, Repository, Stored, has_signed_tag
from benhan.security import signing_keys
from benhan.security.passwords import verify_password
from benhan.security.tables import user_account
from benhan.vn.systems import SIGNATURE_PURPOSE

SIGNED_TAG = {"system": RECORD_STATE, "code": "signed", "display": "Đã ký số"}
AUTHOR_SIGNATURE = {"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1",
                    "display": "Author's Signature"}
LEGALLY_AUTHENTICATED = {"system": "http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion", "code": "LA",
                         "display": "legally authenticated"}
AUTHOR_AGENT = {"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author",
                "display": "Author"}
PURPOSE = SIGNATURE_PURPOSE  # see the payload above
SIG_FORMAT = "application/jose"
TARGET_FORMAT = "application/fhir+json"
# Resource types found by their ``encounter`` search parameter (AllergyIntolerance has none in R4).
BY_ENCOUNTER = ("Composition", "Condition", "Observation", "ServiceRequest", "MedicationRequest")
_JWS = PyJWS(algorithms=[signing_keys.ALG])


class SignError(Exception):
    """The signing was refused (wrong password, no Practitioner, nothing to sign): a field error."""

    def __init__(self, field: str, vi: str, en: str, *, wrong_password: bool = False) -> None:
        super().__init__(en)
        self.field, self.vi, self.en = field, vi, en
        self.wrong_password = wrong_password  # counts toward the account lockout, like a failed sign-in


@dataclass(frozen=True, slots=True)
class Signer:
    """The doctor signing: their account, Practitioner and unwrapped key (for this signing only)."""

    user_id: int
    practitioner: str  # "Practitioner/<id>"
    display: str
    key: signing_keys.SigningKey


@dataclass(frozen=True, slots=True)
class Verification:
    valid: bool
    kid: str | None
    who: str | None
    who_display: str | None
    when: str | None
    reason: str  # English, why it is not valid ("" when valid)
    targets: tuple[str, ...] = ()


def canonical_json(value: Any) -> bytes:
    """FHIR canonical JSON: keys sorted, no whitespace, UTF-8."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")



def signer_for(repo: Repository, user: Any, password: str) -> Signer:
    """Re-authentication: the password of the signed-in ``user`` unlocks (or creates) their key."""
    conn = repo.conn
    row = conn.execute(select(user_account.c.password_hash, user_account.c.locked_until)
                       .where(user_account.c.id == user.id)).first()
    if row is None or row.locked_until > repo.clock():
        raise SignError("password", "Tài khoản đang bị khoá tạm thời do nhập sai mật khẩu nhiều lần",
                        "The account is locked for a while after too many wrong passwords")
    if not password or not verify_password(row.password_hash, password):
        raise SignError("password", "Mật khẩu không đúng", "Wrong password", wrong_password=True)
    if not user.practitioner_id:
        raise SignError("password", "Tài khoản không gắn với người hành nghề (Practitioner) nên không ký được",
                        "This account is not linked to a Practitioner and cannot sign")
    practitioner = f"Practitioner/{user.practitioner_id}"
    display = _practitioner_name(repo, user.practitioner_id) or user.display_name
    key = signing_keys.key_for_signing(conn, user.id, password, clock=repo.clock)
    return Signer(user.id, practitioner, display, key)


def _practitioner_name(repo: Repository, pid: str) -> str | None:
    from benhan.vn.names import format_name

    stored = repo.current("Practitioner", pid)
    if stored is None or stored.deleted:
        return None
    names = stored.resource().get("name") or []
    return format_name(names[0]) if names else None


def encounter_id_of(resource: dict[str, Any]) -> str | None:
    ref = (resource.get("encounter") or {}).get("reference", "")
    return ref.split("/", 1)[1] if ref.startswith("Encounter/") else None


def record_of(repo: Repository, encounter_id: str) -> list[Stored]:
    """The current resources of a visit's record: the Encounter first, then by type (read, audited)."""
    encounter = repo.read("Encounter", encounter_id)
    out = [encounter]
    for rtype in BY_ENCOUNTER:
        for rid in repo.find(rtype, f"encounter=Encounter/{encounter_id}"):
            out.append(repo.read(rtype, rid))
    patient = (encounter.resource().get("subject") or {}).get("reference", "")
    if patient.startswith("Patient/"):
        for rid in repo.find("AllergyIntolerance", f"patient={patient}"):
            stored = repo.read("AllergyIntolerance", rid)
            if encounter_id_of(stored.resource()) == encounter_id:
                out.append(stored)
    return out


def _with_tag(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag") or [] if t.get("system") != RECORD_STATE]
    meta["tag"] = [*tags, SIGNED_TAG]
    return {**resource, "meta": meta}


def sign_record(repo: Repository, encounter_id: str, signer: Signer, now: datetime) -> dict[str, Any]:
    """Tag the whole record signed, finalise the Composition, and write the signed Provenance."""
    current = record_of(repo, encounter_id)
    if not any(s.type == "Composition" for s in current):
        raise SignError("composition", "Chưa có nội dung bệnh án (Composition) để ký",
                        "There is no record text (Composition) to sign")
    if has_signed_tag(current[0].resource()):
        raise FhirError.one(409, "conflict", "Hồ sơ lượt khám này đã được ký", "This visit's record is already signed")
    written: list[Stored] = []
    with repo.as_signer():  # the only writes allowed to add the signed tag
        for stored in current:
            resource = stored.resource()
            if has_signed_tag(resource):  # e.g. an allergy signed with an earlier part of the record
                written.append(stored)
                continue
            resource = _with_tag(resource)
            if stored.type == "Composition":
                resource["status"] = "final"
                resource["attester"] = [{"mode": "legal", "time": instant(now),
                                         "party": {"reference": signer.practitioner, "display": signer.display}}]
            written.append(repo.update(stored.type, stored.id, resource, if_match=stored.etag).stored)
        return write_provenance(repo, [*written, *_subject(repo, current[0].resource())], signer, now)


def _subject(repo: Repository, resource: dict[str, Any]) -> list[Stored]:
    """The patient's current version: signed as the identity the record was written for (not tagged, so
    demographics stay editable), and what puts the Provenance in the patient's compartment."""
    ref = (resource.get("subject") or {}).get("reference", "")
    return [repo.read("Patient", ref.split("/", 1)[1])] if ref.startswith("Patient/") else []


def write_addendum(repo: Repository, encounter_id: str, text: str, signer: Signer, now: datetime
                   ) -> dict[str, Any]:
    """A signed addendum (phụ lục): a new final Composition that ``appends`` the signed one."""
    text = text.strip()
    if not text:
        raise SignError("addendum", "Hãy nhập nội dung phụ lục", "Write the text of the addendum")
    signed = [s for s in record_of(repo, encounter_id)
              if s.type == "Composition" and has_signed_tag(s.resource()) and not _is_addendum(s.resource())]
    if not signed:
        raise SignError("addendum", "Hồ sơ chưa ký nên chưa thể viết phụ lục; hãy sửa trực tiếp",
                        "The record is not signed yet: edit it instead of writing an addendum")
    original = signed[0].resource()
    composition = {
        "resourceType": "Composition", "meta": {"tag": [SIGNED_TAG]}, "status": "final",
        "type": original.get("type"), "category": original.get("category", []),
        "subject": original.get("subject"), "encounter": original.get("encounter"), "date": instant(now),
        "author": [{"reference": signer.practitioner, "display": signer.display}],
        "title": "Phụ lục bệnh án",
        "attester": [{"mode": "legal", "time": instant(now),
                      "party": {"reference": signer.practitioner, "display": signer.display}}],
        "relatesTo": [{"code": "appends", "targetReference": {"reference": f"Composition/{signed[0].id}"}}],
        "section": [{"title": "Phụ lục", "text": _narrative(text)}],
    }
    with repo.as_signer():
        stored = repo.create(composition).stored
        return write_provenance(repo, [stored, *_subject(repo, original)], signer, now)


def _is_addendum(resource: dict[str, Any]) -> bool:
    return any(r.get("code") == "appends" for r in resource.get("relatesTo") or [])


def _narrative(text: str) -> dict[str, str]:
    from html import escape

    body = "<br/>".join(escape(line) for line in text.splitlines())
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def versioned(stored: Stored) -> str:
    return f"{stored.type}/{stored.id}/_history/{stored.version}"


def signed_payload(targets: Iterable[str], resources: Iterable[dict[str, Any]], who: str, when: str) -> bytes:
    """The bytes the JWS signs (see the module doc)."""
    return canonical_json({"purpose": PURPOSE, "signatureType": AUTHOR_SIGNATURE["code"], "who": who,
                           "when": when, "targets": list(targets), "resources": list(resources)})


def write_provenance(repo: Repository, written: list[Stored], signer: Signer, now: datetime) -> dict[str, Any]:
    when = instant(now)
    targets = [versioned(s) for s in written]
    payload = signed_payload(targets, [s.resource() for s in written], signer.practitioner, when)
    jws = _JWS.encode(payload, signer.key.private, algorithm=signing_keys.ALG,
                      headers={"kid": signer.key.kid, "typ": "JOSE"}, is_payload_detached=True)
    who = {"reference": signer.practitioner, "display": signer.display}
    provenance = {
        "resourceType": "Provenance", "meta": {"tag": [SIGNED_TAG]},
        "target": [{"reference": t} for t in targets], "recorded": when,
        "activity": {"coding": [LEGALLY_AUTHENTICATED]},
        "agent": [{"type": {"coding": [AUTHOR_AGENT]}, "who": who}],
        "signature": [{"type": [AUTHOR_SIGNATURE], "when": when, "who": who, "targetFormat": TARGET_FORMAT,
                       "sigFormat": SIG_FORMAT, "data": base64.b64encode(jws.encode()).decode()}],
    }
    with repo.as_signer():
        return repo.create(provenance).stored.resource()


def key_id(provenance: dict[str, Any]) -> str | None:
    """The ``kid`` of the first signature (from the JWS header), or None."""
    sig = (provenance.get("signature") or [{}])[0]
    try:
        header = jwt.get_unverified_header(base64.b64decode(sig.get("data", "")).decode())
    except (ValueError, jwt.PyJWTError):
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def verify_signature(repo: Repository, provenance: dict[str, Any]) -> Verification:
    """Rebuild the signed payload from the target versions and check the JWS and the signer's key."""
    sig = (provenance.get("signature") or [{}])[0]
    who = (sig.get("who") or {}).get("reference")
    who_display = (sig.get("who") or {}).get("display")
    when = sig.get("when")
    targets = tuple(t.get("reference", "") for t in provenance.get("target") or [])
    kid = key_id(provenance)

    def result(valid: bool, reason: str = "") -> Verification:
        return Verification(valid, kid, who, who_display, when, reason, targets)

    if sig.get("sigFormat") != SIG_FORMAT or not kid or not who or not when:
        return result(False, "not a signature this server makes")
    public = signing_keys.public_key(repo.conn, kid)
    if public is None:
        return result(False, f"unknown key {kid}")
    owner = signing_keys.owner(repo.conn, kid)
    practitioner = repo.conn.execute(select(user_account.c.practitioner_id)
                                     .where(user_account.c.id == owner)).scalar()
    if who != f"Practitioner/{practitioner}":
        return result(False, "the key does not belong to the signer")
    resources = []
    for ref in targets:
        parts = ref.split("/")
        if len(parts) != 4 or parts[2] != "_history":
            return result(False, f"target {ref} is not a versioned reference")
        try:
            resources.append(repo.vread(parts[0], parts[1], parts[3]).resource())
        except FhirError:
            return result(False, f"target {ref} cannot be read")
    payload = signed_payload(targets, resources, who, when)
    try:
        _JWS.decode_complete(base64.b64decode(sig["data"]).decode(), public, algorithms=[signing_keys.ALG],
                             detached_payload=payload)
    except (ValueError, jwt.PyJWTError):
        return result(False, "the signature does not match the signed content")
    return result(True)


def provenances_of(repo: Repository, encounter_id: str) -> list[dict[str, Any]]:
    """Signature Provenances targeting this visit's record (the record's own, then addenda), oldest first."""
    out: list[dict[str, Any]] = []
    refs = [f"Encounter/{encounter_id}"]
    refs += [f"Composition/{rid}" for rid in repo.find("Composition", f"encounter=Encounter/{encounter_id}")]
    seen: set[str] = set()
    for ref in refs:
        for rid in repo.find("Provenance", f"target={ref}"):
            if rid not in seen:
                seen.add(rid)
                out.append(repo.read("Provenance", rid).resource())
    out.sort(key=lambda p: p.get("recorded", ""))
    return out
