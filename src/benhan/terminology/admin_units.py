"""Administrative units after the 2025 reform (34 provinces, 3,321 communes) as the concept index holds them.

One code system (``vn-core-administrative-address``, version ``NQ202-2025``): provinces have 2-digit GSO codes,
communes 5-digit ones whose ``parent`` is their province. Registration asks here whether a coded commune
exists and belongs to the coded province; the reception form's type-ahead lists the communes of a province.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from benhan.fhir.errors import Issue
from benhan.vn import systems as vn

from . import concepts
from .concepts import ConceptRow, Version
from .tables import term_concept as c


def version_on(conn: Connection, day: date) -> Version | None:
    """The administrative-unit list valid on ``day`` (the newest one if none is; None when none is loaded)."""
    choice = concepts.choose(concepts.versions(conn, url=vn.ADMINISTRATIVE_ADDRESS), on=day)
    return choice.version if choice is not None else None


def is_commune(row: ConceptRow) -> bool:
    return row.parent is not None


def check_address(conn: Connection, *, province: str | None, commune: str | None, on: date,
                  where: str = "address") -> list[Issue]:
    """Errors for codes unknown in the list valid ``on`` the day, or a commune outside the coded province.

    Nothing is checked when no list is loaded (a fresh database before ``benhan terminology load``).
    """
    if not province and not commune:
        return []
    version = version_on(conn, on)
    if version is None:
        return []
    issues: list[Issue] = []
    found_province = concepts.concept(conn, version, province) if province else None
    if province and (found_province is None or is_commune(found_province)):
        issues.append(Issue("code-invalid", f"Mã tỉnh/thành phố {province} không có trong danh mục {version.version}",
                            f"Province code {province} is not in the list {version.version}", f"{where}.province"))
    found_commune = concepts.concept(conn, version, commune) if commune else None
    if commune and (found_commune is None or not is_commune(found_commune)):
        issues.append(Issue("code-invalid", f"Mã xã/phường {commune} không có trong danh mục {version.version}",
                            f"Commune code {commune} is not in the list {version.version}", f"{where}.commune"))
    elif found_commune is not None and found_province is not None and not is_commune(found_province) \
            and found_commune.parent != found_province.code:
        issues.append(Issue("business-rule",
                            f"{found_commune.display} ({commune}) không thuộc {found_province.display} ({province})",
                            f"{found_commune.display} ({commune}) is not in province {found_province.display} "
                            f"({province})", f"{where}.commune"))
    return issues


def provinces(conn: Connection, version: Version) -> list[ConceptRow]:
    """The province-level units of ``version`` by code (for a select list)."""
    rows = conn.execute(select(c.c.code, c.c.display, c.c.display_en, c.c.parent, c.c.flags)
                        .where(c.c.cs_pk == version.pk, c.c.parent.is_(None)).order_by(c.c.code))
    return [ConceptRow(*r) for r in rows]
