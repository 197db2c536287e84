"""The frame of the web app: sign-in required, home by role, and every message translated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

import benhan.web
from benhan.web.i18n import catalog, gettext_for

WEB_DIR = Path(benhan.web.__file__).parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def test_pages_need_a_signed_in_user(web):
    resp = web.browser().get("/")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/auth/login?next=%2F")


def test_an_htmx_request_without_a_session_is_sent_to_login_by_header(web):
    resp = web.browser().get("/", headers={"HX-Request": "true"})
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].startswith("/auth/login")


def test_home_page_depends_on_the_role(web):
    assert web.browser("tiepdon").get("/").headers["location"] == "/reception"
    assert web.browser("bacsi").get("/").headers["location"] == "/exam"
    assert web.browser("kiemtra").get("/").headers["location"] == "/auth/account"


def test_static_assets_are_served_with_their_licence():
    assert (WEB_DIR / "static" / "vendor" / "htmx" / "htmx.min.js").stat().st_size > 10_000
    assert "Zero-Clause BSD" in (WEB_DIR / "static" / "vendor" / "htmx" / "LICENSE").read_text()


def test_every_message_of_the_web_app_has_a_vietnamese_translation():
    used = {msg for _f, _l, msg, *_ in extract_from_dir(str(WEB_DIR), METHODS, keywords={"_": None, "N_": None})
            if isinstance(msg, str)}
    assert len(used) > 20
    missing = sorted(used - set(catalog("vi")))
    assert missing == [], f"untranslated (add them to web/locale/vi/LC_MESSAGES/*.po): {missing}"


def test_every_template_compiles():
    from benhan.web.render import environment

    names = [p.relative_to(WEB_DIR / "templates").as_posix() for p in (WEB_DIR / "templates").rglob("*.html")]
    assert len(names) > 3
    for name in names:
        environment().get_template(name)  # raises TemplateSyntaxError


def test_gettext_formats_and_falls_back_to_english():
    vi, en = gettext_for("vi"), gettext_for("en")
    assert vi("{n} years", n=7) == "7 tuổi" and en("{n} years", n=7) == "7 years"
    assert vi("No such message") == "No such message"
