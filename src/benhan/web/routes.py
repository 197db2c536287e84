"""Routes of the clinician web app: static files, the home page by role, and each part's router."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from benhan.security.web_render import WEB_DIR

from . import apps, chart, conclusion, exam, orders, printing, queue, reception
from .scope import Page, run_page

router = APIRouter(include_in_schema=False)
for part in (reception, queue, exam, orders, conclusion, printing, chart, apps):
    router.include_router(part.router)

# Where each role starts its day (the first matching role wins).
HOME_BY_ROLE = (
    ("reception", "/reception"),
    ("doctor", "/exam"),
    ("head-of-department", "/exam"),
    ("nurse", "/exam"),
)


def home_for(roles: tuple[str, ...]) -> str:
    for role, path in HOME_BY_ROLE:
        if role in roles:
            return path
    return "/patients" if set(roles) & {"technician", "pharmacist", "cashier"} else "/auth/account"


@router.get("/")
async def home(request: Request) -> Response:
    def work(page: Page) -> Response:
        return RedirectResponse(home_for(page.user.roles), status_code=303)

    return await run_page(request, work)


def mount_static(app) -> None:  # type: ignore[no-untyped-def]
    """``/static``: the app's CSS, scripts, fonts and vendored libraries (see static/vendor/*/LICENSE)."""
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
