"""Menu, start page and screen access for every demo account: decided by policy.toml [screens]
(web/permissions.py), and the same as when role names chose them."""

from __future__ import annotations

import re

import pyotp
import pytest
from starlette.testclient import TestClient

from benhan.demo.accounts import DEMO_PASSWORD
from benhan.security.accounts import get_user

from .conftest import csrf_of

# username -> (menu links, start page): what each demo role had before the policy chose.
EXPECTED = {
    "tiepdon": (["/reception", "/queue/display", "/patients"], "/reception"),
    "bacsi": (["/exam", "/queue/display", "/patients"], "/exam"),
    "dieuduong": (["/exam", "/queue/display", "/patients"], "/exam"),
    "truongkhoa": (["/exam", "/queue/display", "/patients"], "/exam"),
    "ktv": (["/patients"], "/patients"),
    "duocsi": (["/patients"], "/patients"),
    "thungan": (["/patients"], "/patients"),
    "quantri": ([], "/auth/account"),
    "kiemtra": ([], "/auth/account"),
    "benhnhan": ([], "/auth/account"),
}


def _signed_in(web, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    if username != "quantri":
        return web.browser(username)
    with web.engine.connect() as conn:  # administrators have a second factor
        user = get_user(conn, username)
    assert user is not None and user.totp_secret
    http = TestClient(web.app, follow_redirects=False)
    page = http.get("/auth/login")
    resp = http.post("/auth/login", data={"csrf_token": csrf_of(page.text), "username": username,
                                          "password": DEMO_PASSWORD, "totp": pyotp.TOTP(user.totp_secret).now()})
    assert resp.status_code == 303, resp.text
    return http


def _menu(html: str) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', nav.group(0)) if nav else []


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_menu_start_page_and_screens_follow_the_policy(web, username):
    browser = _signed_in(web, username)
    links, home = EXPECTED[username]
    assert browser.get("/").headers["location"] == home
    page = browser.get("/apps?patient=none")  # a page any signed-in user may open
    assert page.status_code == 200
    assert _menu(page.text) == links
    for path in ("/reception", "/exam", "/queue/display", "/patients"):
        status = browser.get(path).status_code
        assert (status == 200) == (path in links), (path, status)
        assert status in (200, 403)
