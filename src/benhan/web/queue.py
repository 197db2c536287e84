"""The exam room's queue (hàng đợi phòng khám) and the waiting-room display.

* ``GET  /exam[?room=]`` — doctor/nurse home: pick my exam room (kept in the ``benhan_room`` cookie),
  the room's queue (waiting in calling order, being seen);
* ``POST /exam/call-next`` — call the next patient (:func:`benhan.clinical.queue.call_next`) and open
  ``/visit/{encounter}``; ``POST /exam/call/{encounter}`` calls one waiting patient out of turn,
  ``POST /exam/skip/{encounter}`` sends a called patient who did not come back to the queue;
* ``GET  /queue/display?room=`` — the waiting-room screen, refreshed by HTMX polling of
  ``/queue/display/board?room=`` every 5 s. Privacy: queue number and initials only, never a name;
  it still needs a signed-in session (a reception or clinical account on the screen's computer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from benhan.clinical.queue import (
    PRIORITY_GROUPS,
    RoomQueue,
    call_next,
    local_day,
    priority_groups,
    queue_number,
    recall,
    skip,
    today_queue,
)
from benhan.clinical.visits import age_on, exam_rooms
from benhan.vn.names import format_name

from .permissions import attends, require_screen
from .reception import patients_by_id, subject_id
from .scope import Page, run_page

router = APIRouter(include_in_schema=False)

ROOM_COOKIE = "benhan_room"


def initials(name: str) -> str:
    """``Nguyễn Văn An`` -> ``N.V.A``: what the waiting-room display may show of a name."""
    return ".".join(word[0].upper() for word in name.split() if word[:1].isalpha())


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: str
    number: str | None
    name: str
    initials: str
    gender: str | None
    age: int | None
    reason: str
    arrived: str | None
    priorities: list[str]
    called: str | None  # when the patient was called in (in-progress)


def rows(page: Page, encounters: list[dict[str, Any]]) -> list[QueueRow]:
    patients = patients_by_id(page, [subject_id(e) for e in encounters])
    today = local_day(page.now)
    out = []
    for e in encounters:
        patient = patients.get(subject_id(e)) or {}
        names = patient.get("name") or [{}]
        name = format_name(names[0]) if names[0] else ""
        history = [h for h in e.get("statusHistory") or [] if h.get("status") == "arrived"]
        called = (history[-1].get("period") or {}).get("end") if history else None
        reasons = e.get("reasonCode") or [{}]
        out.append(QueueRow(e["id"], queue_number(e), name, initials(name), patient.get("gender"),
                            age_on(patient.get("birthDate"), today), reasons[0].get("text", ""),
                            (e.get("period") or {}).get("start"), priority_groups(e), called))
    return out


def chosen_room(page: Page, rooms: list[dict[str, Any]]) -> dict[str, Any] | None:
    wanted = page.request.query_params.get("room") or page.form.get("room") or page.request.cookies.get(ROOM_COOKIE)
    return next((r for r in rooms if r["id"] == wanted), None)


def _exam_page(page: Page, *, notice: str | None = None, status: int = 200) -> Response:
    rooms = exam_rooms(page.repo)
    room = chosen_room(page, rooms)
    queue = today_queue(page.repo, room["id"], page.now) if room else RoomQueue([], [])
    response = page.render("queue/exam.html", status=status, rooms=rooms, room=room, waiting=rows(page, queue.waiting),
                           in_progress=rows(page, queue.in_progress), notice=notice, priority_names=PRIORITY_GROUPS,
                           can_call=page.user.practitioner_id is not None)
    if room and page.request.query_params.get("room") == room["id"]:
        remember_room(response, room["id"])
    return response


def remember_room(response: Response, room_id: str) -> None:
    """The exam room of this browser (a shared computer in the room), for a year."""
    response.set_cookie(ROOM_COOKIE, room_id, max_age=365 * 86400, httponly=True, samesite="lax", path="/")


@router.get("/exam")
async def exam_home(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "exam")
        return _exam_page(page)

    return await run_page(request, work)


def _participation(page: Page) -> str:
    return "ATND" if attends(page) else "PART"


@router.post("/exam/call-next")
async def exam_call_next(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "exam")
        rooms = exam_rooms(page.repo)
        room = chosen_room(page, rooms)
        if room is None:
            return _exam_page(page, notice=page._("Choose your exam room first."), status=422)
        called = call_next(page.repo, room["id"], page.user.practitioner_id, page.now,
                           participation=_participation(page))
        if called is None:
            return _exam_page(page, notice=page._("Nobody is waiting for this room."))
        response = RedirectResponse(f"/visit/{called['id']}", status_code=303)
        remember_room(response, room["id"])
        return response

    return await run_page(request, work)


@router.post("/exam/call/{encounter_id}")
async def exam_call_one(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "exam")
        called = recall(page.repo, encounter_id, page.user.practitioner_id, page.now,
                        participation=_participation(page))
        return RedirectResponse(f"/visit/{called['id']}", status_code=303)

    return await run_page(request, work)


@router.post("/exam/skip/{encounter_id}")
async def exam_skip(request: Request, encounter_id: str) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "exam")
        skip(page.repo, encounter_id, page.now)
        return RedirectResponse("/exam", status_code=303)

    return await run_page(request, work)


def _board(page: Page, rooms: list[dict[str, Any]]) -> dict[str, Any]:
    room = chosen_room(page, rooms)
    queue = today_queue(page.repo, room["id"], page.now) if room else RoomQueue([], [])
    called = sorted(rows(page, queue.in_progress), key=lambda r: r.called or r.arrived or "", reverse=True)
    return {"room": room, "called": called, "waiting": rows(page, queue.waiting)}


@router.get("/queue/display")
async def queue_display(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "queue-display")
        rooms = exam_rooms(page.repo)
        return page.render("queue/display.html", rooms=rooms, **_board(page, rooms))

    return await run_page(request, work)


@router.get("/queue/display/board")
async def queue_display_board(request: Request) -> Response:
    def work(page: Page) -> Response:
        require_screen(page, "queue-display")
        return page.render("queue/_board.html", **_board(page, exam_rooms(page.repo)))

    return await run_page(request, work)
