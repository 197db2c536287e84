"""Conclusion of a visit (``/visit/{id}/conclusion``): outcome, advice, follow-up, "Kết thúc và ký", addenda.

Before signing: the outcome form and the password re-entry (the password unlocks the doctor's signing
key, ``security/signing_keys.py``); concluding and signing happen in the page's one transaction
(``clinical/conclusion.py``), so a wrong password leaves nothing behind. After signing: a read-only
summary, each signature with who, when, key id and whether it verifies now, and the addendum form.
``/signing-keys/{kid}`` publishes a signer's public key (JWK).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from sqlalchemy import Connection
from starlette.responses import RedirectResponse, Response

from benhan.clinical import conclusion as concluding
from benhan.clinical import signing
from benhan.fhir.errors import FhirError
from benhan.security import audit, signing_keys
from benhan.security.login import record_reauth_failure
from benhan.security.web_common import clock, user_entry

from .permissions import Needs, allows
from .scope import N_, Page, Rerender, run_page
from .visit import VisitHeader, load_visit

router = APIRouter(include_in_schema=False)

# What the page reads, and what concluding and signing write (clinical/conclusion.py, signing.py); the
# access policy (security/policy.toml) decides who may: doctors conclude and sign, nurses read.
READS: Needs = {"Encounter": "r", "Composition": "rs", "Provenance": "rs"}
SIGN_WRITES: Needs = {"Encounter": "u", "Composition": "cu", "Appointment": "c", "Provenance": "c"}
OUTCOME_LABELS = {"home": N_("Home with prescription / advice"), "admit": N_("Admit to inpatient care"),
                  "transfer": N_("Transfer to another hospital")}


def visit_of(page: Page, encounter_id: str) -> VisitHeader:
    if not allows(page, READS):
        raise FhirError.one(403, "forbidden", "Chỉ bác sĩ, điều dưỡng xem được kết luận khám",
                            "Only doctors and nurses can see the conclusion of a visit")
    return load_visit(page, encounter_id)


def _may_sign(page: Page) -> None:
    if not allows(page, SIGN_WRITES):
        raise FhirError.one(403, "forbidden", "Chỉ bác sĩ được kết thúc và ký hồ sơ",
                            "Only doctors can conclude and sign a record")


def _msg(page: Page, vi: str, en: str) -> str:
    return en if page.lang == "en" else vi


def _summary(visit: VisitHeader, page: Page) -> dict[str, Any]:
    encounter = visit.encounter
    disposition = (encounter.get("hospitalization") or {}).get("dischargeDisposition") or {}
    instructions = ""
    for stored_id in page.repo.find("Composition", f"encounter=Encounter/{visit.encounter_id}"):
        composition = page.repo.read("Composition", stored_id).resource()
        if any(r.get("code") == "appends" for r in composition.get("relatesTo") or []):
            continue
        for section in composition.get("section") or []:
            codes = {c.get("code") for c in (section.get("code") or {}).get("coding") or []}
            if concluding.INSTRUCTIONS in codes:
                instructions = _text_of(section)
    return {"outcome": disposition.get("text", ""), "end": (encounter.get("period") or {}).get("end"),
            "instructions": instructions}


def _text_of(section: dict[str, Any]) -> str:
    import re
    from html import unescape

    div = (section.get("text") or {}).get("div", "")
    return unescape(re.sub(r"<[^>]+>", "\n", div.replace("<br/>", "\n"))).strip()


def _signatures(page: Page, encounter_id: str) -> list[dict[str, Any]]:
    out = []
    for provenance in signing.provenances_of(page.repo, encounter_id):
        result = signing.verify_signature(page.repo, provenance)
        is_record = any(t.startswith("Encounter/") for t in result.targets)
        addendum = None if is_record else next((t.split("/")[1] for t in result.targets
                                                if t.startswith("Composition/")), None)
        text = ""
        if addendum:
            composition = page.repo.read("Composition", addendum).resource()
            text = _text_of((composition.get("section") or [{}])[0])
        out.append({"who": result.who_display or result.who, "when": result.when, "kid": result.kid,
                    "valid": result.valid, "reason": result.reason,
                    "targets": sum(not t.startswith("Patient/") for t in result.targets),
                    "addendum": text})
    return out


def _render(page: Page, visit: VisitHeader, *, status: int = 200, errors: dict[str, str] | None = None,
            form: dict[str, str] | None = None) -> Response:
    return page.render("conclusion/conclusion.html", status=status, visit=visit, tab="conclusion",
                       errors=errors or {}, form=form or {}, outcomes=OUTCOME_LABELS,
                       can_sign=allows(page, SIGN_WRITES), today=page.now.date().isoformat(),
                       summary=_summary(visit, page) if visit.status == "finished" or visit.signed else None,
                       signatures=_signatures(page, visit.encounter_id) if visit.signed else [])


@router.get("/visit/{encounter_id}/conclusion")
async def conclusion_page(request: Request, encounter_id: str) -> Response:
    return await run_page(request, lambda page: _render(page, visit_of(page, encounter_id)))


@router.post("/visit/{encounter_id}/conclusion")
async def conclude(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        visit = visit_of(page, encounter_id)
        _may_sign(page)
        form = {k: v for k, v in page.form.items() if k not in ("password", "csrf_token")}
        action = page.form.get("action", "conclude")
        try:
            if action == "addendum":
                signer = signing.signer_for(page.repo, page.user, page.form.get("password", ""))
                signing.write_addendum(page.repo, encounter_id, page.form.get("addendum", ""), signer, page.now)
            else:
                if not visit.editable:
                    raise FhirError.one(409, "conflict", "Lượt khám đã kết thúc hoặc đã ký số, không được sửa; "
                                        "hãy viết phụ lục", "The visit is closed or signed, cannot be changed; "
                                        "write an addendum")
                parsed = concluding.parse_form(page.form, page.now.date())
                signer = signing.signer_for(page.repo, page.user, page.form.get("password", ""))
                concluding.conclude_and_sign(page.repo, encounter_id, parsed, signer, page.now)
        except concluding.ConclusionInvalid as exc:
            errors = {name: _msg(page, vi, en) for name, (vi, en) in exc.errors.items()}
            raise Rerender(_render(page, visit, status=422, errors=errors, form=form)) from exc
        except signing.SignError as exc:
            after = None
            if exc.wrong_password:
                settings, user_id, when = page.request.app.state.settings, page.user.id, clock(page.request)

                def after(conn: Connection) -> None:
                    record_reauth_failure(conn, settings, user_id, clock=when)
                    audit.append(conn, [user_entry("sign-failed", 401, page.user, page.request,
                                                   entity=f"Encounter/{encounter_id}", detail="wrong password")])
            raise Rerender(_render(page, visit, status=422, errors={exc.field: _msg(page, exc.vi, exc.en)},
                                   form=form), after=after) from exc
        return RedirectResponse(f"/visit/{encounter_id}/conclusion", status_code=303)

    return await run_page(request, work)


@router.get("/signing-keys/{kid}")
async def public_signing_key(request: Request, kid: str) -> Response:
    """A signer's published public key (JWK), to check a signature elsewhere."""

    def work(page: Page) -> Response:
        jwk = signing_keys.public_jwk(page.conn, kid[:64])
        if jwk is None:
            raise FhirError.one(404, "not-found", "Không có khoá này", "No such key")
        return Response(orjson.dumps(jwk), media_type="application/jwk+json")

    return await run_page(request, work)
