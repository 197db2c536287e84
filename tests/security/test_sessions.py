"""Web sessions over HTTP: login -> cookie -> account -> logout, idle and absolute timeouts (with an
injected clock), CSRF refusals, lockout shown on the page, forced password change, TOTP enrolment,
"log out everywhere", and the audit rows they leave."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select
from starlette.testclient import TestClient

from benhan.security import accounts
from benhan.security.tables import audit_log, web_session

from .conftest import STRONG

MINUTE = 60 * 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000 * 1_000_000

    def __call__(self) -> int:
        return self.now


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def _browser(secure) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(secure.app, follow_redirects=False)


def login(browser: TestClient, username: str, password: str = STRONG, totp: str = "", next_path: str = ""):  # type: ignore[no-untyped-def]
    page = browser.get("/auth/login" + (f"?next={next_path}" if next_path else ""))
    assert page.status_code == 200
    form = {"csrf_token": _csrf(page.text), "username": username, "password": password, "totp": totp,
            "next": next_path}
    return browser.post("/auth/login", data=form)


def _actions(secure) -> list[tuple[str, int, str | None]]:  # type: ignore[no-untyped-def]
    with secure.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.action, audit_log.c.outcome, audit_log.c.username)
                                               .order_by(audit_log.c.seq))]


def test_login_sets_a_server_side_session_and_logout_ends_it(secure):
    secure.user("bs.an", ["doctor"])
    browser = _browser(secure)
    resp = login(browser, "bs.an")
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    cookie = resp.headers["set-cookie"]
    assert "benhan_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http test server
    account = browser.get("/auth/account")
    assert account.status_code == 200 and "bs.an" in account.text.lower()
    assert account.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in \
        account.headers["content-security-policy"]
    assert account.headers["x-content-type-options"] == "nosniff"
    assert account.headers["referrer-policy"] == "no-referrer" and account.headers["cache-control"] == "no-store"
    api = secure.http.get("/fhir/metadata")  # every response, the FHIR API's too
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in api.headers["content-security-policy"]
    with secure.engine.connect() as conn:  # only the hash of the cookie value is stored
        sid = browser.cookies["benhan_session"]
        assert conn.execute(select(web_session.c.id_hash)).scalar_one() != sid
    out = browser.post("/auth/logout", data={"csrf_token": _csrf(account.text)})
    assert out.status_code == 200 and "Bạn đã đăng xuất" in out.text
    # the old cookie value is dead even if a copy was kept
    stale = TestClient(secure.app, follow_redirects=False, cookies={"benhan_session": sid})
    assert stale.get("/auth/account").status_code == 303
    assert [a[:2] for a in _actions(secure)] == [("login", 200), ("logout", 200)]


def test_secure_cookie_over_https(secure):
    secure.user("bs.an", ["doctor"])
    browser = TestClient(secure.app, base_url="https://testserver", follow_redirects=False)
    resp = login(browser, "bs.an")
    assert "Secure" in resp.headers["set-cookie"]
    assert resp.headers["strict-transport-security"].startswith("max-age=")


def test_idle_and_absolute_timeouts(secure):
    secure.user("dd.hoa", ["nurse"])
    clock = Clock()
    secure.app.state.clock = clock
    browser = _browser(secure)
    assert login(browser, "dd.hoa").status_code == 303
    idle = secure.settings.session_idle_seconds * 1_000_000
    for _ in range(3):  # activity keeps the session alive past one idle period
        clock.now += idle - MINUTE
        assert browser.get("/auth/account").status_code == 200
    clock.now += idle + 1
    expired = browser.get("/auth/account")
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]
    assert "hết hạn" in browser.get(expired.headers["location"]).text
    # absolute timeout: even an active session ends
    assert login(browser, "dd.hoa").status_code == 303
    start = clock.now
    while clock.now - start <= secure.settings.session_absolute_seconds * 1_000_000:
        clock.now += idle - MINUTE
        last = browser.get("/auth/account").status_code
    assert last == 303


def test_csrf_missing_or_wrong_is_refused(secure):
    secure.user("bs.an", ["doctor"])
    browser = _browser(secure)
    browser.get("/auth/login")
    refused = browser.post("/auth/login", data={"username": "bs.an", "password": STRONG})
    assert refused.status_code == 403 and "benhan_session" not in refused.headers.get("set-cookie", "")
    assert login(browser, "bs.an").status_code == 303
    assert browser.post("/auth/logout", data={}).status_code == 403
    assert browser.post("/auth/logout-all", data={"csrf_token": "forged"}).status_code == 403
    assert browser.post("/auth/password", data={"current": STRONG, "new": "x", "repeat": "x"}).status_code == 403
    assert browser.get("/auth/account").status_code == 200  # still signed in


def test_lockout_is_visible_on_the_login_page(secure):
    secure.user("bs.binh", ["doctor"])
    browser = _browser(secure)
    for _ in range(3):
        resp = login(browser, "bs.binh", "sai-mat-khau-roi")
        assert resp.status_code == 401 and "không đúng" in resp.text
    resp = login(browser, "bs.binh")  # right password, but locked
    assert resp.status_code == 401 and "tạm khoá" in resp.text
    browser.cookies.set("benhan_lang", "en")
    assert "temporarily locked" in login(browser, "bs.binh").text
    failed = [a for a in _actions(secure) if a[0] == "login-failed"]
    assert len(failed) == 5 and all(a[2] == "bs.binh" for a in failed)
    # an unknown login is audited without the name (it may be a mistyped password)
    login(browser, "Mat-Khau-Go-Nham-2026")
    assert _actions(secure)[-1] == ("login-failed", 401, None)


def test_totp_is_asked_for_and_checked(secure):
    user = secure.user("qt.minh", ["admin"])
    browser = _browser(secure)
    resp = login(browser, "qt.minh")
    assert resp.status_code == 401 and "mã xác thực hai lớp không đúng" in resp.text
    assert login(browser, "qt.minh", totp="000000").status_code == 401
    assert login(browser, "qt.minh", totp=pyotp.TOTP(user.totp_secret).now()).status_code == 303


def _answer(resp) -> str:  # type: ignore[no-untyped-def]
    """The page without its per-request CSRF token."""
    return re.sub(r'value="[^"]{20,}"', "", resp.text)


def test_a_missing_or_wrong_code_does_not_confirm_the_password(secure):
    """For an account with a second factor, the right password without (or with a wrong) code gets exactly the
    answer of a wrong password, and every such attempt counts toward the lockout."""
    user = secure.user("qt.lan", ["admin"])
    browser = _browser(secure)
    wrong = login(browser, "qt.lan", password="Sai-Mat-Khau-2026!")
    right = login(browser, "qt.lan")
    assert (wrong.status_code, right.status_code) == (401, 401)
    assert _answer(wrong) == _answer(right)
    browser.cookies.set("benhan_lang", "en")
    wrong_code = login(browser, "qt.lan", totp="000000")
    assert wrong_code.status_code == 401 and "Wrong username, password or one-time code" in wrong_code.text
    with secure.engine.connect() as conn:
        assert accounts.get_user(conn, "qt.lan").failed_count == 3  # threshold 3: now locked
    locked = login(browser, "qt.lan", totp=pyotp.TOTP(user.totp_secret).now())
    assert locked.status_code == 401 and "temporarily locked" in locked.text
    details = [r[0] for r in _login_failures(secure)]
    assert details == ["bad-credentials", "totp-required", "totp-invalid", "locked"]  # the reason: audit only


def _login_failures(secure) -> list[tuple[str]]:  # type: ignore[no-untyped-def]
    with secure.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "login-failed")
                                               .order_by(audit_log.c.seq))]



def test_forced_password_change_after_reset(secure):
    secure.user("dd.lan", ["nurse"])
    with secure.tx() as conn:
        one_time = accounts.reset_password(conn, "dd.lan")
    other = _browser(secure)
    browser = _browser(secure)
    resp = login(browser, "dd.lan", one_time)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/auth/password")
    assert login(other, "dd.lan", one_time).status_code == 303
    # every page leads to the password form until the password is changed
    assert browser.get("/auth/account").headers["location"] == "/auth/password"
    page = browser.get("/auth/password")
    assert "phải đổi mật khẩu" in page.text
    token = _csrf(page.text)
    weak = browser.post("/auth/password", data={"csrf_token": token, "current": one_time, "new": "123456789012",
                                                "repeat": "123456789012"})
    assert weak.status_code == 400
    mismatch = browser.post("/auth/password", data={"csrf_token": token, "current": one_time, "new": STRONG,
                                                    "repeat": STRONG + "x"})
    assert mismatch.status_code == 400 and "không khớp" in mismatch.text
    done = browser.post("/auth/password", data={"csrf_token": token, "current": one_time, "new": STRONG,
                                                "repeat": STRONG})
    assert done.status_code == 200 and "Đã đổi mật khẩu" in done.text
    assert browser.get("/auth/account").status_code == 200
    assert other.get("/auth/account").status_code == 303  # the other session was signed out
    with secure.tx() as conn:
        assert not accounts.get_user(conn, "dd.lan").must_change_password
    assert ("password-change", 200, "dd.lan") in _actions(secure)


def test_log_out_everywhere(secure):
    secure.user("bs.an", ["doctor"])
    browsers = [_browser(secure) for _ in range(3)]
    for b in browsers:
        assert login(b, "bs.an").status_code == 303
    page = browsers[0].get("/auth/account")
    resp = browsers[0].post("/auth/logout-all", data={"csrf_token": _csrf(page.text)})
    assert resp.status_code == 200
    assert all(b.get("/auth/account").status_code == 303 for b in browsers)
    assert ("logout-all", 200, "bs.an") in _actions(secure)


def test_totp_enrolment_page(secure):
    secure.user("bs.an", ["doctor"])
    browser = _browser(secure)
    login(browser, "bs.an")
    page = browser.get("/auth/totp")
    assert page.status_code == 200 and "chưa bật" in page.text
    wrong = browser.post("/auth/totp", data={"csrf_token": _csrf(page.text), "password": "nope-nope-nope"})
    assert wrong.status_code == 400
    resp = browser.post("/auth/totp", data={"csrf_token": _csrf(page.text), "password": STRONG})
    assert resp.status_code == 200 and "otpauth://totp/" in resp.text
    secret = re.search(r'class="secret">([A-Z2-7]+)<', resp.text).group(1)
    with secure.tx() as conn:
        assert accounts.get_user(conn, "bs.an").totp_secret == secret
    fresh = _browser(secure)
    assert login(fresh, "bs.an").status_code == 401  # now a code is needed
    assert login(fresh, "bs.an", totp=pyotp.TOTP(secret).now()).status_code == 303


def test_pages_speak_english_on_request(secure):
    browser = _browser(secure)
    assert "Đăng nhập" in browser.get("/auth/login").text
    assert "Sign in" in browser.get("/auth/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    resp = browser.get("/auth/login?lang=en")
    assert "Sign in" in resp.text and browser.cookies.get("benhan_lang") == "en"
    assert "Sign in" in browser.get("/auth/login").text  # remembered
    assert "Đăng nhập" in browser.get("/auth/login?lang=vi").text


def test_next_must_be_local(secure):
    secure.user("bs.an", ["doctor"])
    browser = _browser(secure)
    resp = login(browser, "bs.an", next_path="https://evil.example/")
    assert resp.headers["location"] == "/"
    assert browser.get("/auth/static/auth.css").headers["content-type"].startswith("text/css")
