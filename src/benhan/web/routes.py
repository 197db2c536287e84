"""Routes of the clinician web app: static files, the home page by role, and each part's router."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from benhan.security.access import Access
from benhan.security.web_render import WEB_DIR

from . import apps, chart, conclusion, exam, orders, printing, queue, reception
from .permissions import may_open
from .scope import Page, run_page

router = APIRouter(include_in_schema=False)
for part in (reception, queue, exam, orders, conclusion, printing, chart, apps):
    router.include_router(part.router)

# Where a user starts the day: the first of these screens the policy gives them (policy.toml [screens]).
HOME_SCREENS = (("reception", "/reception"), ("exam", "/exam"), ("patients", "/patients"))


def home_for(access: Access) -> str:
    return next((path for screen, path in HOME_SCREENS if may_open(access, screen)), "/auth/account")


@router.get("/")
async def home(request: Request) -> Response:
    def work(page: Page) -> Response:
        return RedirectResponse(home_for(page.guard.access), status_code=303)

    return await run_page(request, work)


def mount_static(app) -> None:  # type: ignore[no-untyped-def]
    """``/static``: the app's CSS, scripts, fonts and vendored libraries (see static/vendor/*/LICENSE)."""
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
