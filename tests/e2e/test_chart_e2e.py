"""The patient search and chart in a real browser (Chromium): a doctor finds a patient by typing the
name without diacritics and opens the chart; reception sees the visits but not the clinical record;
"/" focuses the search box."""

from __future__ import annotations

from benhan.clinical import chart
from benhan.fhir.text import normalize
from tests.web import test_chart as data


def _visit_ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("article.visit").evaluate_all("els => els.map(e => e.dataset.encounter)")


def test_a_doctor_finds_a_patient_without_diacritics_and_reads_the_timeline(sign_in, shot, live_server,
                                                                            monkeypatch):
    monkeypatch.setattr(chart, "VISITS_PER_PAGE", 5)  # the server runs in this process: page the timeline
    pid, encounters = data.longest_history(live_server.engine)
    name = data.patient_name(live_server.engine, pid)
    typed = normalize(name)
    assert typed != name.lower(), "pick a name with diacritics"

    page = sign_in("bacsi")
    shot("home")
    page.click('nav.mainnav a[href="/patients"]')
    page.wait_for_url("**/patients")
    box = page.locator("input[data-search]")
    box.press_sequentially(typed, delay=20)
    option = page.locator(f'#patient-suggest li[role="option"][data-href="/patients/{pid}"]')
    option.wait_for()
    shot("typed-name-without-diacritics")
    # keyboard: move down to the patient and open the chart with Enter
    options = page.locator('#patient-suggest li[role="option"]')
    position = options.evaluate_all("els => els.map(e => e.dataset.href)").index(f"/patients/{pid}")
    for _ in range(position + 1):
        box.press("ArrowDown")
    box.press("Enter")
    page.wait_for_url(f"**/patients/{pid}")
    assert page.locator(".patient-name").text_content() == name
    assert _visit_ids(page) == [e["id"] for e in encounters[:5]]
    assert page.locator("article.visit code.icd").count() >= 5  # diagnoses with their ICD-10 codes
    shot("chart")
    page.click(".older a")
    page.locator("article.visit").nth(9).wait_for()
    assert _visit_ids(page) == [e["id"] for e in encounters[:10]]
    assert page.url.endswith(f"/patients/{pid}")  # loaded in place (HTMX), not a new page
    shot("older-visits")


def test_reception_sees_the_visits_but_not_diagnoses_or_notes(sign_in, shot, live_server):
    pid, encounters = data.longest_history(live_server.engine)
    page = sign_in("tiepdon")
    page.goto(f"/patients/{pid}")
    note = page.locator(".restricted")
    assert "Không hiển thị với vai trò của bạn" in note.inner_text()
    assert "chẩn đoán" in note.inner_text() and "ghi chép lâm sàng" in note.inner_text()
    assert _visit_ids(page) == [e["id"] for e in encounters[:chart.VISITS_PER_PAGE]]
    assert page.locator("article.visit .diagnoses, article.visit code.icd, article.visit .prescription").count() == 0
    shot("reception-chart")


def test_slash_focuses_the_patient_search_box(sign_in, shot):
    page = sign_in("bacsi")
    page.goto("/patients")
    page.locator("h1").click()  # move the focus off the (autofocused) box
    assert page.evaluate("document.activeElement.hasAttribute('data-search')") is False
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.hasAttribute('data-search')") is True
    assert page.locator("input[data-search]").input_value() == ""  # the "/" was not typed into the box
    shot("slash-focused-search")
