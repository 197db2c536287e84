"""SMART App Launch v2 EHR launch: the clinician web app makes an opaque launch value bound to the user,
the app, the patient (and the visit's encounter) and sends the browser to the app's launch URL;
``/oauth/authorize`` accepts it only for that app and that user, and the token response (and every
refresh) carries its context."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from benhan.cli import main
from benhan.fhir.clock import system_clock
from benhan.security import accounts, oauth_clients
from benhan.security.oauth_clients import ClientError

from .conftest import encounter, put
from .test_oauth_flow import APP_SCOPES, REDIRECT, App, _audit, _hidden, world  # noqa: F401  (fixture)

LAUNCH_URL = "https://app.example/launch?src=emr"
EHR_SCOPES = APP_SCOPES + " launch launch/encounter"


@pytest.fixture
def ehr(world):  # type: ignore[no-untyped-def]  # noqa: F811
    """``world`` plus an app registered with a launch URL, and a second one for cross-app checks."""
    with world.tx() as conn:
        for cid, name in (("bieu-do", "Biểu đồ sinh hiệu"), ("khac", "Ứng dụng khác")):
            oauth_clients.add_client(conn, client_id=cid, name=name, kind="public", scopes=EHR_SCOPES,
                                     redirect_uris=[REDIRECT], launch_url=LAUNCH_URL)
    put(world.admin, encounter("e1b", "p1", "khoa-noi"))
    put(world.admin, {"resourceType": "Organization", "id": "khoa-ngoai", "name": "Khoa Ngoại"})
    put(world.admin, encounter("e2-out", "p2", "khoa-ngoai"))
    world.user("bs.binh", ["doctor"], departments=["khoa-noi"], practitioner="pr-binh")
    return world


def _csrf(browser) -> str:  # type: ignore[no-untyped-def]
    page = browser.get("/apps?patient=p1")
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def launch(app: App, patient: str = "p1", encounter_id: str | None = None, client: str = "bieu-do"):  # type: ignore[no-untyped-def]
    """Press the app's button in the chart's Apps menu; returns the response."""
    form = {"csrf_token": _csrf(app.browser), "client_id": client, "patient": patient}
    if encounter_id:
        form["encounter"] = encounter_id
    return app.browser.post("/apps/launch", data=form)


def launch_value(resp) -> tuple[str, dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    """The URL the launching page sends the browser to, and its query."""
    assert resp.status_code == 200, resp.text
    target = unescape(re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', resp.text).group(1))
    query = parse_qs(urlsplit(target).query)
    return target, query


def test_apps_menu_lists_only_apps_with_a_launch_url(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    page = app.browser.get("/apps?patient=p1&encounter=e1", headers={"HX-Request": "true"})
    assert page.status_code == 200
    assert set(re.findall(r'name="client_id" value="([^"]+)"', page.text)) == {"bieu-do", "khac"}  # not so-suc-khoe
    assert "Biểu đồ sinh hiệu" in page.text and 'name="encounter" value="e1"' in page.text
    assert "<html" not in page.text  # a fragment for the menu
    full = app.browser.get("/apps?patient=p1&lang=en")
    assert "<html" in full.text and "Apps" in full.text
    assert app.browser.get("/apps").status_code == 400  # which patient?


def test_ehr_launch_from_a_visit_gives_patient_and_encounter(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    target, query = launch_value(launch(app, "p1", "e1"))
    assert target.startswith(LAUNCH_URL + "&") and query["iss"] == ["http://testserver/fhir"]
    value = query["launch"][0]
    assert value.startswith("L1.") and len(value) > 60
    rows = [r for r in _audit(ehr) if r["username"] == "bs.an"]
    assert ("ehr-launch", ",p1,", "client/bieu-do") in [(r["action"], r["patients"], r["entity"]) for r in rows]
    assert any(r["action"] == "read" and r["entity"] == "Encounter/e1" for r in rows)
    # the app comes back with the launch value: no picker, the EHR's context on the consent page
    consent = app.consent_page("launch openid fhirUser patient/*.rs offline_access", launch=value)
    assert consent.status_code == 200, consent.headers.get("location")
    assert "Người bệnh: p1" in consent.text and "Lượt khám: e1" in consent.text
    got = app.redirected(app.browser.post("/oauth/authorize", data={**_hidden(consent.text), "decision": "allow"}))
    body = app.exchange(got["code"][0]).json()
    assert (body["patient"], body["encounter"]) == ("p1", "e1") and "launch" in body["scope"].split()
    api = ehr.client_for(body["access_token"])
    assert [e["resource"]["id"] for e in api.get("Observation").json().get("entry", [])] == ["o-p1"]
    # a refresh repeats the launch context
    again = app.refresh(body["refresh_token"]).json()
    assert (again["patient"], again["encounter"]) == ("p1", "e1")
    conf = ehr.http.get("/.well-known/smart-configuration").json()
    assert {"launch-ehr", "context-ehr-patient", "context-ehr-encounter"} <= set(conf["capabilities"])


def test_ehr_launch_from_the_chart_has_no_encounter(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    _, query = launch_value(launch(app, "p1"))
    body = app.exchange(app.authorize("launch patient/*.rs offline_access", launch=query["launch"][0])["code"][0]
                        ).json()
    assert body["patient"] == "p1" and "encounter" not in body
    assert "encounter" not in app.refresh(body["refresh_token"]).json()
    # asking for launch/encounter without one from the EHR: the user picks one of the patient's
    page = app.consent_page("launch launch/encounter patient/*.rs", launch=query["launch"][0])
    assert sorted(re.findall(r'name="picked_encounter" value="([^"]+)"', page.text)) == ["e1", "e1b"]


def test_launch_value_is_only_for_its_app_and_its_user(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    value = launch_value(launch(app, "p1", "e1"))[1]["launch"][0]
    scope = "launch patient/*.rs"
    other_app = App(ehr, "khac")
    other_app.sign_in("bs.an")
    assert other_app.redirected(other_app.consent_page(scope, launch=value))["error"] == ["invalid_request"]
    colleague = App(ehr, "bieu-do")
    colleague.sign_in("bs.binh")  # same department: may see p1, but the launch was made for bs.an
    refused = colleague.redirected(colleague.consent_page(scope, launch=value))
    assert refused["error"] == ["invalid_request"] and "another user" in refused["error_description"][0]
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    for bad in (tampered, "p1", "L1.nokid.xyz", "L1..", value + "x"):
        assert app.redirected(app.consent_page(scope, launch=bad))["error"] == ["invalid_request"], bad
    assert app.redirected(app.consent_page("patient/*.rs", launch=value))["error"] == ["invalid_scope"]  # no 'launch'
    assert app.redirected(app.consent_page(scope))["error"] == ["invalid_request"]  # 'launch' without a launch
    refusals = [r for r in _audit(ehr) if r["action"] == "oauth-authorize" and r["outcome"] == 400]
    assert len(refusals) >= 8 and all("L1." not in (r["detail"] or "") for r in refusals)  # never the value


def test_launch_value_expires(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    value = launch_value(launch(app, "p1"))[1]["launch"][0]
    ehr.app.state.clock = lambda: system_clock() + 301 * 1_000_000
    refused = app.redirected(app.consent_page("launch patient/*.rs", launch=value))
    assert refused["error"] == ["invalid_request"] and "expired" in refused["error_description"][0]


def test_launch_is_checked_against_the_users_access(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    assert launch(app, "p2").status_code == 403  # p2 has no encounter in the doctor's department
    assert launch(app, "p1", "e2-out").status_code == 403  # p2's encounter, not visible either
    put(ehr.admin, encounter("e2-noi", "p2", "khoa-noi"))  # now visible, but p2's: not for p1
    assert launch(app, "p1", "e2-noi").status_code == 422
    assert launch(app, "p1", client="so-suc-khoe").status_code == 404  # no launch URL
    assert app.browser.post("/apps/launch", data={"client_id": "bieu-do", "patient": "p1"}).status_code == 403
    denied = [r for r in _audit(ehr) if r["username"] == "bs.an" and r["outcome"] == 403]
    assert any(r["entity"] == "Patient/p2" for r in denied)
    assert not any(r["action"] == "ehr-launch" for r in _audit(ehr))
    # access is decided again when the app comes back: the doctor left the department in between
    _, query = launch_value(launch(app, "p1"))
    with ehr.tx() as conn:
        accounts.set_departments(conn, "bs.an", ["khoa-khac"])
    refused = app.redirected(app.consent_page("launch patient/*.rs", launch=query["launch"][0]))
    assert refused["error"] == ["invalid_scope"]


def test_refresh_repeats_a_standalone_encounter(ehr):
    app = App(ehr, "bieu-do")
    app.sign_in("bs.an")
    got = app.authorize("launch/patient launch/encounter patient/*.rs offline_access", picked_patient="p1",
                        picked_encounter="e1b")
    body = app.exchange(got["code"][0]).json()
    assert body["encounter"] == "e1b"
    second = app.refresh(body["refresh_token"]).json()
    third = app.refresh(second["refresh_token"]).json()
    assert (second["patient"], second["encounter"], third["encounter"]) == ("p1", "e1b", "e1b")


def test_client_add_with_a_launch_url(ehr, monkeypatch, capsys):
    monkeypatch.setenv("BENHAN_DATABASE_URL", ehr.settings.database_url)
    assert main(["client", "add", "xet-nghiem", "--scope", "launch patient/*.rs", "--redirect-uri", REDIRECT,
                 "--launch-url", "https://lab.example/launch"]) == 0
    with ehr.tx() as conn:
        client = oauth_clients.get_client(conn, "xet-nghiem")
        assert client is not None and client.launch_url == "https://lab.example/launch"
        assert client.redirect_uris == (REDIRECT,)
        assert "xet-nghiem" in [c.client_id for c in oauth_clients.launchable_clients(conn)]
        assert oauth_clients.get_client(conn, "so-suc-khoe").launch_url is None  # the older form still reads
    for url in ("http://lab.example/launch", "lab.example/launch", "https://lab.example/l#x"):
        assert main(["client", "add", "x", "--scope", "launch", "--redirect-uri", REDIRECT, "--launch-url", url]) == 2
    assert main(["client", "add", "y", "--scope", "patient/*.rs", "--redirect-uri", REDIRECT,
                 "--launch-url", "https://lab.example/launch"]) == 2  # no 'launch' scope
    with ehr.tx() as conn, pytest.raises(ClientError):
        oauth_clients.add_client(conn, client_id="z", name="z", kind="backend", scopes="system/*.rs launch",
                                 jwks={"keys": [{"kty": "EC"}]}, launch_url="https://z.example/launch")
    assert "launch_url=https://lab.example/launch" in next(r["detail"] for r in _audit(ehr)
                                                          if r["action"] == "client-add")
