"""The login pages: sign in (password, TOTP, lockout), account, sign out (here / everywhere),
password change (forced after an administrator's reset) and TOTP enrolment.

Sessions live in the database (``sessions.py``); every form carries a CSRF token (``csrf.py``);
every sign-in, failed sign-in, sign-out, password change and enrolment is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response

from . import accounts, audit, csrf, sessions
from .login import authenticate
from .passwords import verify_password
from .web_common import (
    SignedIn,
    clear_cookie,
    client_ip,
    clock,
    read_form,
    safe_next,
    set_cookie,
    signed_in,
    to_login,
    user_entry,
    write_tx,
)
from .web_i18n import LANG_COOKIE, LANGS, translator
from .web_render import WEB_DIR, render, request_lang

router = APIRouter(tags=["auth-web"], include_in_schema=False)


def _t(request: Request) -> Callable[..., str]:
    return translator(request_lang(request))


def _csrf_refused(request: Request) -> Response:
    return render(request, "message.html", status=403, title=_t(request)("error.title"), error=_t(request)("csrf"))


def _login_page(request: Request, *, next_path: str, status: int = 200, error: str | None = None,
                notice: str | None = None, username: str = "") -> Response:
    token = csrf.new_token()
    response = render(request, "login.html", status=status, csrf_token=token, next=next_path, error=error,
                      notice=notice, username=username, app_name=None)
    set_cookie(request, response, csrf.COOKIE, token)
    return response


@router.get("/auth/static/auth.css")
def stylesheet() -> FileResponse:
    return FileResponse(WEB_DIR / "static" / "auth.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600"})


@router.get("/auth/login")
async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))

    def work() -> Response:
        with write_tx(request) as conn:
            current = signed_in(conn, request)
        if current is not None and not current.user.must_change_password:
            return RedirectResponse(next_path, status_code=303)
        notice = _t(request)("expired") if request.query_params.get("expired") else None
        return _login_page(request, next_path=next_path, notice=notice)

    return await run_in_threadpool(work)


@router.post("/auth/login")
async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    next_path = safe_next(form.get("next"))
    if not csrf.matches(request.cookies.get(csrf.COOKIE), form.get(csrf.FIELD)):
        return _csrf_refused(request)
    username = form.get("username", "").strip()[:64]
    lang = request_lang(request)

    def work() -> Response:
        settings = request.app.state.settings
        with write_tx(request) as conn:
            result = authenticate(conn, settings, username, form.get("password", ""), form.get("totp") or None,
                                  clock=clock(request))
            if not result.ok:
                # the username is recorded only when the account exists (a mistyped password is not kept)
                audit.append(conn, [user_entry("login-failed", 401, result.user, request, detail=result.reason)])
                message = result.en if lang == "en" else result.vi
                return _login_page(request, next_path=next_path, status=401, error=message, username=username)
            user = result.user
            assert user is not None
            sessions.purge(conn, settings, clock=clock(request))
            sid, _ = sessions.create(conn, user.id, ip=client_ip(request), clock=clock(request))
            audit.append(conn, [user_entry("login", 200, user, request, detail="web")])
        target = f"/auth/password?next={quote(next_path, safe='')}" if user.must_change_password else next_path
        response = RedirectResponse(target, status_code=303)
        set_cookie(request, response, sessions.COOKIE, sid)
        clear_cookie(request, response, csrf.COOKIE)
        if user.language in LANGS:  # the account's language wins over this browser's (web/i18n.py)
            response.set_cookie(LANG_COOKIE, user.language, max_age=365 * 86400, httponly=True, samesite="lax",
                                path="/")
        return response

    return await run_in_threadpool(work)


def _with_session(request: Request, work, form: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Run ``work(conn, current)`` for a signed-in user (CSRF-checked when ``form`` is given)."""
    with write_tx(request) as conn:
        current = signed_in(conn, request)
        if current is None:
            return to_login(request)
        if form is not None and not csrf.matches(current.session.csrf, form.get(csrf.FIELD)):
            return _csrf_refused(request)
        if (asked := request.query_params.get("lang")) in LANGS and asked != current.user.language:
            accounts.set_language(conn, current.user.id, asked)  # the language link, for this user everywhere
        return work(conn, current)


@router.get("/auth/account")
async def account(request: Request) -> Response:
    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        if current.user.must_change_password:
            return RedirectResponse("/auth/password", status_code=303)
        return render(request, "account.html", user=current.user, roles=", ".join(current.user.roles) or "-",
                      csrf_token=current.session.csrf)

    return await run_in_threadpool(_with_session, request, work)


@router.post("/auth/logout")
async def logout(request: Request) -> Response:
    form = await read_form(request)

    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        sessions.revoke(conn, current.session.id_hash)
        audit.append(conn, [user_entry("logout", 200, current.user, request)])
        response = render(request, "message.html", title=_t(request)("logout"), message=_t(request)("logout.done"))
        clear_cookie(request, response, sessions.COOKIE)
        return response

    return await run_in_threadpool(_with_session, request, work, form)


@router.post("/auth/logout-all")
async def logout_everywhere(request: Request) -> Response:
    form = await read_form(request)

    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        count = sessions.revoke_all(conn, current.user.id)
        audit.append(conn, [user_entry("logout-all", 200, current.user, request, detail=f"sessions={count}")])
        response = render(request, "message.html", title=_t(request)("logout.all"),
                          message=_t(request)("logout.all_done"))
        clear_cookie(request, response, sessions.COOKIE)
        return response

    return await run_in_threadpool(_with_session, request, work, form)


def _password_page(request: Request, current: SignedIn, *, next_path: str, status: int = 200,
                   error: str | None = None) -> Response:
    return render(request, "password.html", status=status, csrf_token=current.session.csrf, next=next_path,
                  forced=current.user.must_change_password, error=error,
                  min_length=request.app.state.settings.password_min_length)


@router.get("/auth/password")
async def password_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"), "/auth/account")

    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        return _password_page(request, current, next_path=next_path)

    return await run_in_threadpool(_with_session, request, work)


@router.post("/auth/password")
async def password_submit(request: Request) -> Response:
    form = await read_form(request)
    next_path = safe_next(form.get("next"), "/auth/account")
    lang = request_lang(request)

    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        t = _t(request)
        if form.get("new", "") != form.get("repeat", ""):
            return _password_page(request, current, next_path=next_path, status=400, error=t("password.mismatch"))
        try:
            accounts.change_password(conn, request.app.state.settings, current.user, form.get("current", ""),
                                     form.get("new", ""), clock=clock(request))
        except accounts.AccountError as exc:
            audit.append(conn, [user_entry("password-change", 400, current.user, request, detail=exc.en[:200])])
            return _password_page(request, current, next_path=next_path, status=400,
                                  error=exc.en if lang == "en" else exc.vi)
        others = sessions.revoke_all(conn, current.user.id, keep=current.session.id_hash)
        audit.append(conn, [user_entry("password-change", 200, current.user, request,
                                       detail=f"other sessions revoked={others}")])
        if next_path != "/auth/account":
            return RedirectResponse(next_path, status_code=303)
        return render(request, "message.html", title=t("password.title"), notice=t("password.done"),
                      link="/auth/account", link_text=t("account.title"))

    return await run_in_threadpool(_with_session, request, work, form)


@router.get("/auth/totp")
async def totp_form(request: Request) -> Response:
    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        if current.user.must_change_password:
            return RedirectResponse("/auth/password?next=%2Fauth%2Ftotp", status_code=303)
        return render(request, "totp.html", csrf_token=current.session.csrf, enrolled=bool(current.user.totp_secret))

    return await run_in_threadpool(_with_session, request, work)


@router.post("/auth/totp")
async def totp_enrol(request: Request) -> Response:
    form = await read_form(request)

    def work(conn, current: SignedIn) -> Response:  # type: ignore[no-untyped-def]
        t = _t(request)
        if current.user.must_change_password:
            return RedirectResponse("/auth/password?next=%2Fauth%2Ftotp", status_code=303)
        if not verify_password(current.user.password_hash, form.get("password", "")):
            audit.append(conn, [user_entry("totp-enrol", 401, current.user, request, detail="wrong password")])
            return render(request, "totp.html", status=400, csrf_token=current.session.csrf,
                          enrolled=bool(current.user.totp_secret), error=t("totp.wrong_password"))
        secret, uri = accounts.enroll_totp(conn, current.user.username)
        audit.append(conn, [user_entry("totp-enrol", 200, current.user, request)])
        return render(request, "totp.html", enrolled=True, secret=secret, uri=uri, notice=t("totp.done"))

    return await run_in_threadpool(_with_session, request, work, form)
