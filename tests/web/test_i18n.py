"""The web app's language belongs to the user account, not to one browser (docs/clinician-app.md).

* a signed-in user's switch (the language link, ``?lang=``) is stored on the account;
* every page of that user follows the account, on any browser, whatever that browser's cookie says,
  and the sign-in answer sets the browser's cookie to it;
* before sign-in (no account known) the cookie decides, as before;
* ``benhan user add --language en`` creates an account that reads English from the first page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from benhan.demo.accounts import DEMO_PASSWORD
from benhan.security import accounts
from benhan.security.tables import user_account

ENGLISH = '<html lang="en">'
VIETNAMESE = '<html lang="vi">'


def cookie_set(resp) -> str | None:  # type: ignore[no-untyped-def]
    """The language cookie a response sets, if any."""
    for header in resp.headers.get_list("set-cookie"):
        if header.startswith("benhan_lang="):
            return header.split(";", 1)[0].split("=", 1)[1]
    return None


def stored_language(web, username: str) -> str | None:
    with web.engine.connect() as conn:
        return conn.execute(select(user_account.c.language)
                            .where(user_account.c.username == username)).scalar_one()


def test_a_switch_follows_the_user_to_another_browser(web):
    first = web.browser("bacsi", lang="vi")
    assert stored_language(web, "bacsi") is None  # the demo accounts have not chosen
    resp = first.get("/patients?lang=en")
    assert resp.status_code == 200 and ENGLISH in resp.text and "Find a patient" in resp.text
    assert cookie_set(resp) == "en"
    assert stored_language(web, "bacsi") == "en"

    # another browser, whose cookie says Vietnamese: English once this user signs in
    other = web.browser(lang="vi")
    login = other.get("/auth/login")
    assert "Đăng nhập" in login.text  # nobody known yet: the browser's language
    token = other.get("/auth/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = other.post("/auth/login", data={"csrf_token": token, "username": "bacsi", "password": DEMO_PASSWORD,
                                             "totp": "", "next": "/patients"})
    assert signed.status_code == 303 and cookie_set(signed) == "en"  # the sign-in answer sets the cookie
    other.cookies.delete("benhan_lang")
    other.cookies.set("benhan_lang", "vi")  # even a stale cookie does not win over the account
    page = other.get("/patients")
    assert ENGLISH in page.text and "Find a patient" in page.text
    assert cookie_set(page) == "en"
    second = web.browser("bacsi", lang="vi")

    # switching back is stored too, and other users are not affected
    assert VIETNAMESE in second.get("/patients?lang=vi").text
    assert stored_language(web, "bacsi") == "vi"
    assert VIETNAMESE in first.get("/patients").text  # the first browser follows the account again
    assert stored_language(web, "dieuduong") is None
    nurse = web.browser("dieuduong", lang="en")
    assert ENGLISH in nurse.get("/patients").text  # no choice on the account: the browser's cookie


def test_a_switch_on_a_refused_page_is_kept(web):
    desk = web.browser("tiepdon", lang="vi")
    resp = desk.get("/visit/no-such-visit?lang=en")
    assert resp.status_code in (403, 404) and ENGLISH in resp.text  # the page failed and rolled back
    assert stored_language(web, "tiepdon") == "en"
    assert ENGLISH in web.browser("tiepdon", lang="vi").get("/reception").text
    assert "Tìm người bệnh" not in web.browser("tiepdon", lang="vi").get("/reception").text


def test_a_switch_on_the_account_page_is_stored(web):
    http = web.browser("truongkhoa", lang="vi")
    resp = http.get("/auth/account?lang=en")
    assert resp.status_code == 200 and "Signed in as" in resp.text
    assert stored_language(web, "truongkhoa") == "en"
    assert ENGLISH in web.browser("truongkhoa", lang="vi").get("/exam").text


def test_cli_user_add_with_a_language(web, web_url, monkeypatch, capsys):
    from benhan.cli import main

    monkeypatch.setenv("BENHAN_DATABASE_URL", web_url)
    assert main(["user", "add", "bs.english", "--name", "Dr English", "--role", "doctor", "--language", "en"]) == 0
    assert "bs.english" in capsys.readouterr().out
    assert stored_language(web, "bs.english") == "en"
    with web.engine.connect() as conn:
        user = accounts.get_user(conn, "bs.english")
    assert user is not None and user.language == "en"


def test_only_the_two_languages_are_stored(web):
    with web.engine.begin() as conn:
        user = accounts.require_user(conn, "bacsi")
        with pytest.raises(accounts.AccountError):
            accounts.set_language(conn, user.id, "fr")
    http = web.browser("bacsi", lang="vi")
    assert VIETNAMESE in http.get("/patients?lang=fr").text
    assert stored_language(web, "bacsi") is None
