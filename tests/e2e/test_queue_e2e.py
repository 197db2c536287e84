"""The exam-room queue in a real browser (Chromium): legal priority order and the waiting-room board.

Reception registers an ordinary adult first, then a patient aged 75 or more (the priority box ticked
from the birth date); the doctor's "call the next patient" takes the older patient first (Luật KCB
2023 Art. 3 cl. 2) although they came second. The waiting-room board, open in a second page, shows
the called number with initials within its 5 s poll, never a full name.

The server's clock is moved two days ahead, so the demo's morning queue is yesterday's and the room
holds only this test's patients. Screenshots of every step go to ``test-artifacts/e2e/<test>/``.
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import date
from typing import Any

from playwright.sync_api import expect

from benhan.clinical.queue import QUEUE_NUMBER
from benhan.vn.cccd import make_cccd
from tests.clinical.test_signing import current

DAY_US = 86_400 * 1_000_000
ADULT = {"name": "Đặng Văn Khải", "gender": "male", "birth": date(1984, 5, 17), "initials": "Đ.V.K"}
ELDER = {"name": "Lê Thị Xuân Hương", "gender": "female", "birth": date(1942, 1, 9), "initials": "L.T.X.H"}


def two_days_ahead(live_server: Any) -> None:
    """Move the server's clock two days ahead (the demo's queue is then yesterday's), one second a call."""
    start = int(time.time() * 1_000_000) + 2 * DAY_US
    ticks = itertools.count()
    live_server.app.state.clock = lambda: start + next(ticks) * 1_000_000


def register(desk: Any, person: dict[str, Any], serial: int) -> Any:
    """Register the person at reception; returns the visit form of their page."""
    desk.goto("/reception")
    form = desk.locator("form.register-form")
    form.locator('input[name="name"]').fill(person["name"])
    form.locator('select[name="gender"]').select_option(person["gender"])
    form.locator('input[name="birth_date"]').fill(person["birth"].strftime("%d/%m/%Y"))
    form.locator('input[name="national_id"]').fill(make_cccd("01", person["gender"], person["birth"], serial))
    form.locator('input[name="phone"]').fill(f"0912 {serial:03d} 456")
    form.locator("button[type=submit]:not([name])").click()
    desk.wait_for_url(re.compile(r"/reception/patient/[^/?]+\?registered=1"))
    visit = desk.locator("form.visit-form")
    if visit.locator('select[name="department"]').input_value() == "":
        visit.locator('select[name="department"]').select_option(index=1)
    visit.locator('input[value="fee"]').check()
    visit.locator('input[name="reason"]').fill("Khám sức khoẻ, đau lưng")
    return visit


def open_visit(desk: Any, visit: Any) -> str:
    """Send the visit form; the encounter id from the queue ticket."""
    visit.locator("button[type=submit]").click()
    desk.wait_for_url("**/reception/ticket/*")
    return desk.url.rsplit("/", 1)[1]


def queue_number(engine: Any, encounter_id: str) -> str:
    encounter = current(engine, "Encounter", encounter_id)
    return next(i["value"] for i in encounter["identifier"] if i["system"] == QUEUE_NUMBER)


def test_call_next_follows_the_legal_priority_order_and_the_board_follows(sign_in, shot, live_server):
    engine = live_server.engine
    two_days_ahead(live_server)
    desk = sign_in("tiepdon")
    visit = register(desk, ADULT, 7101)
    visit.locator('select[name="room"]').select_option(index=1)
    room = visit.locator('select[name="room"]').input_value()
    expect(visit.locator('input[name="priority"]:checked')).to_have_count(0)
    adult = open_visit(desk, visit)
    shot("adult-ticket", desk)

    # the elderly patient comes second; the age-75 priority is ticked from the birth date
    visit = register(desk, ELDER, 7102)
    visit.locator('select[name="room"]').select_option(room)
    expect(visit.locator('input[name="priority"][value="age-75"]')).to_be_checked()
    shot("elder-visit-form", desk)
    elder = open_visit(desk, visit)
    shot("elder-ticket", desk)
    numbers = {adult: queue_number(engine, adult), elder: queue_number(engine, elder)}
    assert int(numbers[adult]) < int(numbers[elder])  # the adult arrived first

    # the waiting-room board, in a second page, before anyone is called
    board = sign_in("tiepdon")
    board.goto(f"/queue/display?room={room}")
    waiting = board.locator(".board-waiting ol li")
    expect(waiting).to_have_count(2)
    expect(board.locator(".board-called")).not_to_contain_text(numbers[elder])
    shot("board-before", board)

    # the doctor's queue shows the elderly patient first; "call next" takes them
    doctor = sign_in("bacsi")
    doctor.goto(f"/exam?room={room}")
    rows = doctor.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(ELDER["name"])
    expect(rows.nth(1)).to_contain_text(ADULT["name"])
    shot("queue-in-priority-order", doctor)
    doctor.locator('form[action="/exam/call-next"] button[type=submit]').click()
    doctor.wait_for_url(f"**/visit/{elder}")
    expect(doctor.locator(".patient-name")).to_have_text(ELDER["name"])
    shot("elder-called", doctor)
    assert current(engine, "Encounter", elder)["status"] == "in-progress"
    assert current(engine, "Encounter", adult)["status"] == "arrived"

    # the board updates by itself (5 s poll): the called number and initials, no names anywhere
    latest = board.locator(".board-called .board-number.latest")
    expect(latest).to_contain_text(numbers[elder], timeout=12_000)
    expect(latest).to_contain_text(ELDER["initials"])
    expect(waiting).to_have_count(1)
    expect(waiting.first).to_contain_text(numbers[adult])
    expect(waiting.first).to_contain_text(ADULT["initials"])
    content = board.content()
    for person in (ADULT, ELDER):
        assert person["name"] not in content
        assert person["name"].split()[-1] not in board.locator("#board").inner_text().split()
    shot("board-after-call", board)
