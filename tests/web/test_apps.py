"""The "Ứng dụng / Apps" menu of the chart and the visit page (SMART EHR launch), on the demo hospital."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from benhan.security import oauth_clients

from .conftest import csrf_of
from .test_chart import longest_history

LAUNCH_URL = "https://sinh-hieu.example/launch"


def _register(web) -> None:  # type: ignore[no-untyped-def]
    with web.engine.begin() as conn:
        conn.info["write"] = True
        oauth_clients.add_client(conn, client_id="sinh-hieu", name="Biểu đồ sinh hiệu", kind="public",
                                 scopes="launch patient/*.rs openid fhirUser", redirect_uris=["https://sinh-hieu.example/cb"],
                                 launch_url=LAUNCH_URL)


def test_chart_and_visit_pages_offer_the_apps_menu(web):
    pid, encounters = longest_history(web.engine)
    doctor = web.browser("bacsi")
    chart = doctor.get(f"/patients/{pid}")
    assert chart.status_code == 200
    assert "Ứng dụng" in chart.text and f'hx-get="/apps?patient={pid}"' in chart.text
    visit = doctor.get(f"/visit/{encounters[0]['id']}")
    assert visit.status_code == 200, visit.text
    assert f'hx-get="/apps?patient={pid}&amp;encounter={encounters[0]["id"]}"' in visit.text
    empty = doctor.get(f"/apps?patient={pid}", headers={"HX-Request": "true"})
    assert "Chưa có ứng dụng nào" in empty.text
    assert "Apps" in doctor.get(f"/patients/{pid}?lang=en").text  # (the account's language from now on)


def test_launching_an_app_from_the_chart(web):
    _register(web)
    pid, _ = longest_history(web.engine)
    doctor = web.browser("bacsi")
    menu = doctor.get(f"/apps?patient={pid}", headers={"HX-Request": "true"})
    assert re.findall(r'name="client_id" value="([^"]+)"', menu.text) == ["sinh-hieu"]
    assert 'action="/apps/launch"' in menu.text and 'target="_blank"' in menu.text
    resp = doctor.post("/apps/launch", data={"csrf_token": csrf_of(menu.text), "client_id": "sinh-hieu",
                                             "patient": pid})
    assert resp.status_code == 200, resp.text
    target = unescape(re.search(r'content="0;url=([^"]+)"', resp.text).group(1))
    assert target.startswith(LAUNCH_URL + "?")
    query = parse_qs(urlsplit(target).query)
    assert query["iss"] == ["http://testserver/fhir"] and query["launch"][0].startswith("L1.")
    assert "Biểu đồ sinh hiệu" in resp.text
