"""Warnings of a saved diagnosis (QĐ 4469 annex A1) beside the field: the save is kept, nothing is refused."""

from __future__ import annotations

import re

from tests.web.test_exam import fhir, post, queue_visit


def field_warning(html: str, name: str) -> str | None:
    m = re.search(rf'id="w-{name}" role="status">([^<]*)<', html)
    return m.group(1) if m else None


def test_an_asterisk_code_without_its_dagger_is_saved_with_a_warning_beside_it(web):
    b = web.browser("bacsi")
    enc = queue_visit(web, b)
    url = f"/visit/{enc['id']}"
    resp = post(b, f"{url}/diagnoses", {"main_code": "E11.9", "secondary_code_1": "F02.8"}, htmx=True)
    assert resp.status_code == 200 and "X-Form-Invalid" not in resp.headers
    warning = field_warning(resp.text, "secondary_code_1")
    assert warning is not None and "F02.8" in warning and "Phụ lục A1" in warning and "B56.0" in warning
    assert warning.startswith("Cảnh báo:")
    assert "F02.8" not in (field_warning(resp.text, "main_code") or "")
    status, stored = fhir(web, "GET", f"Encounter/{enc['id']}")
    assert status == 200 and [d["rank"] for d in stored["diagnosis"]] == [1, 2]
    # The page (where a plain POST lands) re-checks what is stored and shows the same warning.
    assert "F02.8" in (field_warning(b.get(url).text, "secondary_code_1") or "")
    plain = post(b, f"{url}/diagnoses", {"main_code": "E11.9", "secondary_code_1": "F02.8"})
    assert plain.status_code == 303
    # With its dagger code (E03.0 is one A1 pairs with F02.8) the warning is gone.
    fixed = post(b, f"{url}/diagnoses", {"main_code": "E03.0", "secondary_code_1": "F02.8"}, htmx=True)
    assert fixed.status_code == 200 and field_warning(fixed.text, "secondary_code_1") is None
    assert field_warning(b.get(url).text, "secondary_code_1") is None
