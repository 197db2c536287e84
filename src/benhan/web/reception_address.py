"""The address part of the reception form: province (select), commune (type-ahead), house and street.

Codes come from the administrative-unit list valid today (``benhan.terminology.admin_units``: 34 provinces and
3,321 communes since 01/07/2025). The commune type-ahead lists the communes of the chosen province (or of every
province when none is chosen, each with its province); picking one fills its code and its province. The
registration service checks again that the commune belongs to the province.
"""

from __future__ import annotations

from dataclasses import dataclass

from benhan.clinical.patient_form import AddressForm, Coded
from benhan.fhir.clock import local_date
from benhan.terminology import admin_units, concepts, expand

from .scope import Page

FIELDS = ("address", "province", "commune", "commune_q")
# Issue expressions of the registration service -> fields of this part of the form
ISSUE_FIELDS = {"address.province": "province", "address.commune": "commune_q"}
SUGGESTIONS = 15


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    display: str
    province: str = ""  # commune: its province code
    province_display: str = ""


def _today(page: Page) -> concepts.Version | None:
    """The administrative-unit list valid today in Vietnam."""
    return admin_units.version_on(page.conn, local_date(page.repo.clock()))


def province_options(page: Page) -> list[Unit]:
    """The provinces of the list valid today, for the select (empty before the catalogs are loaded)."""
    version = _today(page)
    return [Unit(r.code, r.display) for r in admin_units.provinces(page.conn, version)] if version else []


def suggest_communes(page: Page, query: str, province: str | None) -> list[Unit]:
    """Communes matching ``query`` (diacritics-insensitive words or code), within ``province`` when given."""
    version = _today(page)
    if version is None or not query.strip():
        return []
    found = expand.search(page.conn, version, query, count=SUGGESTIONS * 2, parent=province or None).concepts
    communes = [c for c in found if c.parent is not None][:SUGGESTIONS]
    names = {p.code: p.display for p in admin_units.provinces(page.conn, version)} if communes else {}
    return [Unit(c.code, c.display, c.parent or "", names.get(c.parent or "", "")) for c in communes]


def address_form(page: Page, f: dict[str, str]) -> tuple[AddressForm | None, dict[str, str]]:
    """The typed address as an AddressForm with the units' names, and the errors this page finds itself."""
    errors: dict[str, str] = {}
    line, province, commune = f.get("address", ""), f.get("province", ""), f.get("commune", "")
    if f.get("commune_q") and not commune:
        errors["commune_q"] = page._("Pick the commune from the list")
    if not (line or province or commune):
        return None, errors
    version = _today(page)
    province_coded = commune_coded = None
    if commune:
        row = concepts.concept(page.conn, version, commune) if version else None
        commune_coded = Coded(commune, row.display if row else None)
        if row is not None and row.parent and not province:
            province = row.parent  # picking a commune is enough: its province follows
    if province:
        row = concepts.concept(page.conn, version, province) if version else None
        province_coded = Coded(province, row.display if row else None)
    return AddressForm(line=line or None, commune=commune_coded, province=province_coded), errors
