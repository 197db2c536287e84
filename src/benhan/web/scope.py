"""One web request as the signed-in user: session, CSRF, access guard, repository and audit.

:func:`run_page` is what every page handler goes through::

    @router.get("/reception")
    async def reception(request: Request) -> Response:
        return await run_page(request, lambda page: page.render("reception/home.html", ...))

It opens ONE write transaction, loads the session (or sends the browser to the login page), checks
the CSRF token of a POST, builds the user's :class:`~benhan.security.principal.Principal` and access
guard, and hands a :class:`Page` (with its :class:`~benhan.fhir.repository.Repository`) to the work.
What the work read or wrote is audited in the same transaction. If the work raises, the
transaction rolls back — nothing is half-written — and the failure and any denials are audited on
their own. Raise :class:`Rerender` to roll back and answer with a re-rendered form (field errors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.fhir.search.engine import ACCESS_KEY
from benhan.security import accounts, csrf
from benhan.security.accounts import User
from benhan.security.guard import FhirGuard
from benhan.security.principal import Principal, for_web_session
from benhan.security.web_common import MAX_FORM_BYTES, client_ip, clock, signed_in, to_login, write_tx
from benhan.security.web_i18n import LANG_COOKIE

from .i18n import LANGS, Gettext, gettext_for, pick_lang, user_lang
from .permissions import may_open
from .render import render_template

CSRF_HEADER = "x-csrf-token"


def N_(message: str) -> str:  # gettext convention: marks a message for extraction
    return message


@dataclass(frozen=True, slots=True)
class NavItem:
    href: str
    label: str  # English message id, translated when rendered
    screen: str  # a [screens] entry of security/policy.toml: who sees it (permissions.may_open)
    key: str | None = None  # accesskey
    new_tab: bool = False


NAV = (
    NavItem("/reception", N_("Reception"), "reception", "r"),
    NavItem("/exam", N_("Exam room"), "exam", "k"),
    NavItem("/queue/display", N_("Waiting-room display"), "queue-display", new_tab=True),
    NavItem("/patients", N_("Patients"), "patients", "p"),
)


class Rerender(Exception):
    """Roll the transaction back and answer with ``response`` (a form shown again with its errors)."""

    def __init__(self, response: Response, cause: FhirError | None = None,
                 after: Callable[[Connection], None] | None = None) -> None:
        super().__init__("rerender")
        self.response = response
        self.cause = cause
        self.after = after  # written in a transaction of its own once the page's has rolled back


def request_lang(request: Request) -> str:
    """The language of a page before the user is known: ``?lang=``, the cookie, Accept-Language."""
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"))


def asked_lang(request: Request) -> str | None:
    """The language the user just switched to with the language link (``?lang=vi|en``), if any."""
    asked = request.query_params.get("lang")
    return asked if asked in LANGS else None


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(slots=True)
class Page:
    """Everything a page handler needs for one request."""

    request: Request
    conn: Connection
    user: User
    principal: Principal
    guard: FhirGuard
    repo: Repository
    lang: str
    _: Gettext
    csrf_token: str
    form: dict[str, str] = field(default_factory=dict)
    form_pairs: list[tuple[str, str]] = field(default_factory=list)

    def form_all(self, name: str) -> list[str]:
        """Every value of a repeated form field (``read_form`` keeps only the first)."""
        return [value for key, value in self.form_pairs if key == name]

    @property
    def now(self) -> datetime:
        """The request's clock (tests inject one) as an aware UTC datetime."""
        return datetime.fromtimestamp(clock(self.request)() / 1_000_000, UTC)

    @property
    def htmx(self) -> bool:
        return is_htmx(self.request)

    def render(self, template: str, *, status: int = 200, headers: dict[str, str] | None = None,
               **context: Any) -> HTMLResponse:
        """Render ``templates/<template>`` with the page's user, language and CSRF token."""
        html = render_template(template, **self.context(), **context)
        return HTMLResponse(html, status_code=status, headers=headers)

    def context(self) -> dict[str, Any]:
        url = self.request.url
        other = "en" if self.lang == "vi" else "vi"
        switched = url.include_query_params(lang=other)
        return {"_": self._, "lang": self.lang, "user": self.user, "csrf_token": self.csrf_token,
                "csrf_field": csrf.FIELD, "switch_url": f"{switched.path}?{switched.query}",
                "switch_label": "English" if self.lang == "vi" else "Tiếng Việt", "path": url.path,
                "htmx": self.htmx, "nav": [item for item in NAV if may_open(self.guard.access, item.screen)]}


def _error_page(request: Request, lang: str, status: int, message: str) -> HTMLResponse:
    _ = gettext_for(lang)
    if is_htmx(request):  # refusals replace the page's <main>, not the card that asked
        html = render_template("app/error_fragment.html", _=_, status=status, message=message)
        return HTMLResponse(html, status_code=status, headers={"HX-Retarget": "#main", "HX-Reswap": "innerHTML"})
    html = render_template("app/error.html", _=_, lang=lang, status=status, message=message, user=None, nav=[],
                           switch_url=request.url.path, switch_label="", path=request.url.path, roles=set(),
                           csrf_token="", csrf_field=csrf.FIELD, htmx=is_htmx(request))
    return HTMLResponse(html, status_code=status)


def fhir_error_message(exc: FhirError, lang: str) -> str:
    return "; ".join((i.en if lang == "en" else i.vi) for i in exc.issues) or str(exc.status)


def _login_redirect(request: Request) -> Response:
    response = to_login(request)
    if is_htmx(request):  # a partial request cannot follow a 303 into a full page
        response = Response(status_code=204, headers={"HX-Redirect": response.headers["location"]})
    return response


def _run(request: Request, work: Callable[[Page], Response], form: dict[str, str] | None,
         pairs: list[tuple[str, str]]) -> tuple[Response, str | None]:
    """The page's response, and the language the browser's cookie should now hold (None: leave it)."""
    app = request.app
    security, settings = app.state.security, app.state.settings
    asked = asked_lang(request)
    lang, cookie = request_lang(request), asked
    ip = client_ip(request)
    guard: FhirGuard | None = None
    switched: int | None = None  # the user whose language the link just switched (kept even if the page fails)
    try:
        with write_tx(request) as conn:
            current = signed_in(conn, request)
            if current is None:
                return _login_redirect(request), cookie
            # the account's language, on every browser; the cookie follows it (login page after sign-out)
            lang = cookie = user_lang(current.user, asked, lang)
            if asked and asked != current.user.language:
                switched = current.user.id
                accounts.set_language(conn, current.user.id, asked)
            if current.user.must_change_password:
                here = request.url.path
                return RedirectResponse(f"/auth/password?next={quote(here, safe='')}", status_code=303), cookie
            if request.method not in ("GET", "HEAD"):
                given = (form or {}).get(csrf.FIELD) or request.headers.get(CSRF_HEADER)
                if not csrf.matches(current.session.csrf, given):
                    return _error_page(request, lang, 403, gettext_for(lang)(
                        "The form expired or is invalid; reload the page")), cookie
            principal = for_web_session(conn, current.user, ip=ip, clock=clock(request))
            guard = security.guard(conn, principal)
            conn.info[ACCESS_KEY] = guard
            base_url = settings.base_url or str(request.base_url).rstrip("/") + "/fhir"
            repo = Repository(conn, base_url=base_url, guard=guard)
            page = Page(request, conn, current.user, principal, guard, repo, lang, gettext_for(lang),
                        current.session.csrf, form or {}, pairs)
            try:
                response = work(page)
                repo.flush()
                guard.flush(conn)
            finally:
                conn.info.pop(ACCESS_KEY, None)
            switched = None  # saved with the page
            return response, cookie
    except Rerender as signal:
        if signal.cause is not None:
            security.record_failure(guard, request.method.lower(), request.url.path, signal.cause, ip)
        if signal.after is not None:
            with write_tx(request) as conn:
                signal.after(conn)
        return signal.response, cookie
    except FhirError as exc:
        security.record_failure(guard, request.method.lower(), request.url.path, exc, ip)
        return _error_page(request, lang, exc.status, fhir_error_message(exc, lang)), cookie
    finally:
        if switched is not None and asked is not None:  # the page rolled back; the switch holds all the same
            with write_tx(request) as conn:
                accounts.set_language(conn, switched, asked)


async def _read_form(request: Request) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A urlencoded body as (first value per field, every pair); empty for other content types."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}, []
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}, []
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    return first, pairs


async def run_page(request: Request, work: Callable[[Page], Response], *, with_form: bool | None = None) -> Response:
    """Run ``work(page)`` for the signed-in user in one audited transaction (see the module doc).

    The form body is read (and its CSRF token checked) for every method but GET/HEAD unless
    ``with_form`` says otherwise.
    """
    form: dict[str, str] | None = None
    pairs: list[tuple[str, str]] = []
    if with_form or (with_form is None and request.method not in ("GET", "HEAD")):
        form, pairs = await _read_form(request)
    response, lang = await run_in_threadpool(_run, request, work, form, pairs)
    if lang is not None and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response
