"""The reception form's address: province select, commune type-ahead within the province, codes checked."""

from __future__ import annotations

import re

from benhan.vn import systems
from tests.web.test_reception import count, person, post, read, register


def test_the_form_offers_the_34_provinces(web):
    html = web.browser("tiepdon").get("/reception").text
    select = html.split('name="province"', 1)[1].split("</select>", 1)[0]
    assert select.count("<option value=\"") == 35  # the empty choice + 34 provinces
    assert re.search(r'<option value="79"\s*>Hồ Chí Minh</option>', select)
    assert 'hx-get="/reception/communes"' in html and "hx-include=\"[name='province']\"" in html


def test_commune_type_ahead_is_limited_to_the_chosen_province(web):
    http = web.browser("tiepdon")
    resp = http.get("/reception/communes", params={"commune_q": "ben thanh", "province": "79"})
    assert resp.status_code == 200
    assert 'data-fill-commune="26743"' in resp.text and 'data-fill-province="79"' in resp.text
    assert 'data-label="Phường Bến Thành"' in resp.text
    other = http.get("/reception/communes", params={"commune_q": "ben thanh", "province": "01"}).text
    assert "26743" not in other and 'role="option"' not in other
    anywhere = http.get("/reception/communes", params={"commune_q": "ba dinh"}).text
    assert 'data-fill-commune="00004"' in anywhere and "Hà Nội" in anywhere


def test_a_commune_of_another_province_is_refused_on_the_field(web):
    http = web.browser("tiepdon")
    before = count(web, "Patient")
    resp = post(http, "/reception/register", person(province="01", commune="26743", commune_q="Phường Bến Thành"))
    assert resp.status_code == 422
    assert "không thuộc Hà Nội" in resp.text and 'id="e-commune_q"' in resp.text
    assert count(web, "Patient") == before
    typed = post(http, "/reception/register", person(commune_q="Bến Thành"))  # typed, not picked
    assert typed.status_code == 422 and "Chọn xã/phường trong danh sách" in typed.text


def test_a_picked_commune_is_stored_with_its_province(web):
    http = web.browser("tiepdon")
    pid = register(web, http, address="12 Lê Lợi", commune="26743", commune_q="Phường Bến Thành")
    address = read(web, "Patient", pid)["address"][0]
    assert (address["line"], address["city"], address["state"]) == (["12 Lê Lợi"], "Phường Bến Thành", "Hồ Chí Minh")
    assert address["text"] == "12 Lê Lợi, Phường Bến Thành, Hồ Chí Minh"
    codes = {e["url"]: e["valueCodeableConcept"]["coding"][0] for e in address["extension"][0]["extension"]}
    assert codes["ward"]["code"] == "26743" and codes["state"]["code"] == "79"
    assert codes["ward"]["system"] == systems.ADMINISTRATIVE_ADDRESS
