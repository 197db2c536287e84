"""The exam room's queue: pick my room, call the next patient in legal priority order, the waiting-room display."""

from __future__ import annotations

import itertools
import time

from benhan.clinical.queue import QUEUE_NUMBER
from benhan.security.accounts import get_user, set_departments
from benhan.vn.cccd import make_cccd

from .conftest import csrf_of
from .test_reception import count, open_visit, read, register, rooms, visit_form

DAY_US = 86_400 * 1_000_000


def ticking_clock(web) -> None:
    """Two days ahead of the demo's today (its queue is then yesterday's), one second per call."""
    start = int(time.time() * 1_000_000) + 2 * DAY_US
    ticks = itertools.count()
    web.app.state.clock = lambda: start + next(ticks) * 1_000_000


def outpatient_doctor(web):
    """``bacsi``, placed in the outpatient department (Khoa Khám bệnh) that manages the exam rooms.

    The demo links ``bacsi`` to the first doctor's PractitionerRole, which is not in that department
    (see the final report): without this the doctor may not see the outpatient queue at all.
    """
    department = rooms(web)[0]["managingOrganization"]["reference"].split("/", 1)[1]
    with web.engine.begin() as conn:
        set_departments(conn, "bacsi", [department])
    return web.browser("bacsi")


def arrive(web, http, name: str, birth: str, gender: str, priorities: list[str], serial: int) -> tuple[str, str]:
    """Register a patient and open a visit in the first exam room: (encounter id, queue number)."""
    year = int(birth[-4:])
    pid = register(web, http, name=name, birth_date=birth, gender=gender, phone=f"09{serial:08d}",
                   national_id=make_cccd("01", gender, year, serial), bhyt_number="", bhyt_from="", bhyt_to="",
                   bhyt_facility="")
    resp = open_visit(http, pid, visit_form(web, payer="fee", priority=priorities))
    assert resp.status_code == 303, resp.text
    eid = resp.headers["location"].rsplit("/", 1)[1]
    enc = read(web, "Encounter", eid)
    return eid, next(i["value"] for i in enc["identifier"] if i["system"] == QUEUE_NUMBER)


def morning(web) -> dict[str, tuple[str, str]]:
    ticking_clock(web)
    http = web.browser("tiepdon")
    people: list[tuple[str, str, str, str, list[str]]] = [
        ("plain", "Trịnh Văn Bình", "1980", "male", []),
        ("elderly", "Lương Thị Cúc", "1940", "female", ["age-75"]),
        ("plain2", "Mai Văn Dũng", "1985", "male", []),
        ("emergency", "Quách Văn Em", "1990", "male", ["emergency"]),
        ("pregnant", "Tạ Thị Giang", "1995", "female", ["pregnant"]),
    ]
    return {key: arrive(web, http, name, birth, gender, prio, n + 11)
            for n, (key, name, birth, gender, prio) in enumerate(people)}


def call(http, room: str):
    token = csrf_of(http.get("/exam").text)
    return http.post("/exam/call-next", data={"csrf_token": token, "room": room})


def test_the_doctor_calls_patients_in_legal_priority_order(web):
    visits = morning(web)
    room = rooms(web)[0]["id"]
    doctor = outpatient_doctor(web)
    page = doctor.get("/exam", params={"room": room})
    assert page.status_code == 200 and page.cookies.get("benhan_room") == room
    html = page.text
    order = [html.index(name) for name in ("Quách Văn Em", "Lương Thị Cúc", "Tạ Thị Giang", "Trịnh Văn Bình",
                                           "Mai Văn Dũng")]
    assert order == sorted(order)
    assert 'data-hotkey="n"' in html and "Gọi người tiếp theo" in html
    with web.engine.connect() as conn:
        practitioner = get_user(conn, "bacsi").practitioner_id
    called = []
    for _ in range(5):
        resp = call(doctor, room)  # the room comes from the form; the cookie remembers it for the page
        assert resp.status_code == 303 and resp.headers["location"].startswith("/visit/")
        called.append(resp.headers["location"].rsplit("/", 1)[1])
    assert called == [visits[k][0] for k in ("emergency", "elderly", "pregnant", "plain", "plain2")]
    enc = read(web, "Encounter", visits["emergency"][0])
    assert enc["status"] == "in-progress"
    attender = enc["participant"][-1]
    assert attender["type"][0]["coding"][0]["code"] == "ATND"
    assert attender["individual"]["reference"] == f"Practitioner/{practitioner}"
    resp = call(doctor, room)
    assert resp.status_code == 200 and "Không còn người bệnh nào chờ" in resp.text
    assert "Chưa có người bệnh nào đang khám" not in doctor.get("/exam").text  # room remembered by the cookie


def test_queue_numbers_are_unique_per_room(web):
    visits = morning(web)
    numbers = [int(number) for _eid, number in visits.values()]
    assert numbers == [1, 2, 3, 4, 5]


def test_a_nurse_calls_a_patient_in_for_the_doctor(web):
    visits = morning(web)
    room = rooms(web)[0]["id"]
    nurse = web.browser("dieuduong")
    token = csrf_of(nurse.get("/exam", params={"room": room}).text)
    resp = nurse.post(f"/exam/call/{visits['plain2'][0]}", data={"csrf_token": token})
    assert resp.status_code == 303
    enc = read(web, "Encounter", visits["plain2"][0])
    assert enc["status"] == "in-progress" and enc["participant"][-1]["type"][0]["coding"][0]["code"] == "PART"
    resp = nurse.post(f"/exam/call/{visits['plain2'][0]}", data={"csrf_token": token})
    assert resp.status_code == 409  # already called


def test_calling_needs_the_csrf_token_and_a_clinical_role(web):
    visits = morning(web)
    room = rooms(web)[0]["id"]
    doctor = outpatient_doctor(web)
    assert doctor.post("/exam/call-next", data={"room": room}).status_code == 403
    reception = web.browser("tiepdon")
    assert reception.get("/exam").status_code == 403
    token = csrf_of(reception.get("/reception").text)
    assert reception.post("/exam/call-next", data={"csrf_token": token, "room": room}).status_code == 403
    assert all(read(web, "Encounter", eid)["status"] == "arrived" for eid, _n in visits.values())


def test_anonymous_users_are_sent_to_login(web):
    http = web.browser()
    for path in ("/exam", "/queue/display"):
        assert http.get(path).headers["location"].startswith("/auth/login")
    resp = http.get("/queue/display/board", headers={"HX-Request": "true"})
    assert resp.status_code == 204 and resp.headers["HX-Redirect"].startswith("/auth/login")


def test_the_waiting_room_display_polls_and_shows_numbers_and_initials_only(web):
    visits = morning(web)
    room = rooms(web)[0]["id"]
    doctor = outpatient_doctor(web)
    call(doctor, room)
    screen = web.browser("tiepdon")
    page = screen.get("/queue/display", params={"room": room})
    assert page.status_code == 200
    assert f'hx-get="/queue/display/board?room={room}"' in page.text and 'hx-trigger="every 5s"' in page.text
    board = screen.get("/queue/display/board", params={"room": room}, headers={"HX-Request": "true"}).text
    assert "<html" not in board
    emergency_number = visits["emergency"][1]
    assert f'class="board-number latest">{emergency_number} <small>Q.V.E</small>' in board
    assert "L.T.C" in board and "T.T.G" in board
    for name in ("Quách", "Lương Thị Cúc", "Tạ Thị Giang", "Trịnh", "Mai Văn Dũng"):
        assert name not in board and name not in page.text
    assert web.browser("kiemtra").get("/queue/display").status_code == 403


def test_the_queue_writes_nothing_when_nobody_waits(web):
    ticking_clock(web)
    room = rooms(web)[0]["id"]
    before = count(web, "Encounter")
    resp = call(outpatient_doctor(web), room)
    assert resp.status_code == 200 and "Không còn người bệnh nào chờ" in resp.text
    assert count(web, "Encounter") == before




def test_a_called_patient_who_is_absent_goes_back_to_the_queue(web):
    visits = morning(web)
    room = rooms(web)[0]["id"]
    doctor = outpatient_doctor(web)
    called = call(doctor, room).headers["location"].rsplit("/", 1)[1]
    assert called == visits["emergency"][0]
    page = doctor.get("/exam").text
    assert f'action="/exam/skip/{called}"' in page
    resp = doctor.post(f"/exam/skip/{called}", data={"csrf_token": csrf_of(page)})
    assert resp.status_code == 303 and resp.headers["location"] == "/exam"
    enc = read(web, "Encounter", called)
    assert enc["status"] == "arrived" and enc["statusHistory"][-1]["status"] == "in-progress"
