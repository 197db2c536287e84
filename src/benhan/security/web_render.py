"""Rendering of the auth pages (Jinja2, autoescaped) in the request's language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .web_i18n import LANG_COOKIE, pick_lang, translator

WEB_DIR = Path(__file__).resolve().parent.parent / "web"


@cache
def environment() -> Environment:
    return Environment(loader=FileSystemLoader(str(WEB_DIR / "templates")), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def request_lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"))


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``auth/<template>``; remembers an explicit ``?lang=`` in a cookie."""
    lang = request_lang(request)
    other = "en" if lang == "vi" else "vi"
    url = request.url.include_query_params(lang=other)
    switch_url = f"{url.path}?{url.query}" if request.method == "GET" else f"{request.url.path}?lang={other}"
    html = environment().get_template(f"auth/{template}").render(t=translator(lang), lang=lang,
                                                                 switch_url=switch_url, **context)
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in ("vi", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response
