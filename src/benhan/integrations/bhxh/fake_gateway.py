"""FAKE BHXH gateway for tests and demos: NOT the real service, and it talks to nothing outside.

:class:`FakeBhxhGateway` is an ``httpx.MockTransport`` handler that implements the *published
contract* of ``KQNhanLichSuKCB2024`` (``shared/domain/identifiers.md`` §1.5) over a few made-up
cards. It checks what the real portal is documented to check, in this order: credentials (``401``),
parameters (``205``), the staff member's CCCD and name (``054``/``055``), the card code (``051``–
``053``), the card's existence (``050``), name (``060``/``061``) and birth date (``070``); then it
returns the card's own result (``000``, ``010``, ``110``, ...). All names, numbers and dates are
invented. Use :meth:`FakeBhxhGateway.transport` as the ``transport`` of
:class:`benhan.integrations.bhxh.client.BhxhCardClient`; ``fail_next`` simulates a timeout, an HTTP
error, an HTTP 401 or a malformed answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from benhan.fhir.text import normalize
from benhan.vn import bhyt

from .client import CARD_CHECK_PATH

FAKE_USERNAME = "fake-facility-79001"
FAKE_PASSWORD = "fake-password"
FAKE_TOKEN = "fake-token"
FAKE_ID_TOKEN = "fake-id-token"
FAKE_STAFF = {"079090000001": "Lê Thị Tiếp Đón"}  # cccdCb → hoTenCb registered with the fake portal


@dataclass(frozen=True, slots=True)
class FakeCard:
    """One invented card and the result the fake portal gives for it once the inputs match."""

    card: str  # 15-character code
    name: str
    birth_date: str  # dd/mm/yyyy or yyyy, as the portal stores it
    gender: str = "Nam"
    result: str = "000"
    valid_from: str = "01/01/2026"
    valid_to: str = "31/12/2026"
    registered_facility: str = "79001"
    new_card: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> str:
        return self.card[5:]


def default_cards() -> list[FakeCard]:
    """One card per card-level result code (000–004, 010, 100, 101, 110, 120–124, 130)."""
    specs = [("000", "DN", 4, "Nguyễn Văn An", "12/03/1985"), ("001", "QN", 5, "Trần Văn Bình", "1979"),
             ("002", "CA", 5, "Lê Văn Cường", "02/02/1980"), ("003", "HT", 3, "Phạm Thị Dung", "05/06/1950"),
             ("004", "HS", 4, "Hoàng Văn Em", "07/08/2008"), ("010", "DN", 4, "Vũ Thị Phương", "09/10/1990"),
             ("100", "GD", 4, "Đặng Văn Giang", "11/11/1975"), ("101", "GD", 4, "Bùi Thị Hoa", "12/12/1976"),
             ("110", "HN", 2, "Đỗ Văn Ích", "01/01/1960"), ("120", "DN", 4, "Hồ Thị Kim", "02/03/1991"),
             ("121", "DN", 4, "Ngô Văn Long", "03/04/1992"), ("122", "DN", 4, "Dương Thị Mai", "04/05/1993"),
             ("123", "DN", 4, "Lý Văn Nam", "05/06/1994"), ("124", "DN", 4, "Mai Thị Oanh", "06/07/1995"),
             ("130", "TE", 1, "Trịnh Bảo Phúc", "08/09/2023")]
    cards = []
    for i, (code, group, digit, name, born) in enumerate(specs, start=1):
        new_card = bhyt.make_bhyt(group, digit, 79, 7900000100 + i) if code in ("003", "004") else None
        cards.append(FakeCard(bhyt.make_bhyt(group, digit, 79, 7900000000 + i), name, born,
                              gender="Nữ" if "Thị" in name else "Nam", result=code, new_card=new_card,
                              valid_to="31/12/2025" if code in ("003", "010") else "31/12/2026"))
    return cards


class FakeBhxhGateway:
    """The fake portal: call it with an ``httpx.Request``, or use :meth:`transport`."""

    def __init__(self, cards: list[FakeCard] | None = None, *, staff: dict[str, str] | None = None) -> None:
        self.cards = {c.number: c for c in (default_cards() if cards is None else cards)}
        self.staff = dict(FAKE_STAFF if staff is None else staff)
        self.fail_next: str | None = None  # "timeout", "http500", "http401", "malformed", "not-object"
        self.calls = 0

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        failure, self.fail_next = self.fail_next, None
        if failure == "timeout":
            raise httpx.ReadTimeout("fake gateway: simulated timeout", request=request)
        if failure == "http500":
            return httpx.Response(500, text="Internal Server Error")
        if failure == "http401":
            return httpx.Response(401, json={"message": "Unauthorized"})
        if failure == "malformed":
            return httpx.Response(200, text="<html>not json</html>")
        if failure == "not-object":
            return httpx.Response(200, json=["000"])
        if request.method != "POST" or request.url.path != CARD_CHECK_PATH:
            return httpx.Response(404, text="Not Found")
        return httpx.Response(200, json=self._answer(request))

    def _answer(self, request: httpx.Request) -> dict[str, Any]:
        q = request.url.params
        if (q.get("username"), q.get("password"), q.get("token"), q.get("id_token")) != (
                FAKE_USERNAME, FAKE_PASSWORD, FAKE_TOKEN, FAKE_ID_TOKEN):
            return {"maKetQua": "401", "ghiChu": "Lỗi xác thực"}
        try:
            body = json.loads(request.content)
        except ValueError:
            return {"maKetQua": "205"}
        fields = ("maThe", "hoTen", "ngaySinh", "hoTenCb", "cccdCb")
        if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and body[f] for f in fields):
            return {"maKetQua": "205", "ghiChu": "Thiếu tham số"}
        registered = self.staff.get(body["cccdCb"])
        if registered is None:
            return {"maKetQua": "054"}
        if normalize(registered) != normalize(body["hoTenCb"]):
            return {"maKetQua": "055"}
        code, card = self._card(body["maThe"].strip().upper())
        if card is None:
            return {"maKetQua": code}
        if normalize(body["hoTen"]) != normalize(card.name):
            same_first = normalize(body["hoTen"])[:1] == normalize(card.name)[:1]
            return {"maKetQua": "061" if same_first else "060"}
        if body["ngaySinh"] != card.birth_date:
            return {"maKetQua": "070"}
        if card.result in ("100", "101"):
            return {"maKetQua": card.result}
        return self._card_answer(card)

    def _card(self, value: str) -> tuple[str, FakeCard | None]:
        if len(value) == bhyt.NUMBER_LENGTH and value.isdigit():
            card = self.cards.get(value)
            return ("000", card) if card else ("050", None)
        if len(value) != bhyt.CARD_LENGTH or not value[5:].isdigit() or not value[:2].isalpha():
            return "051", None
        card = self.cards.get(value[5:])
        if card is None:
            return "050", None
        if value[3:5] != card.card[3:5]:
            return "052", None
        if value[2] != card.card[2]:
            return "053", None
        if value[:2] != card.card[:2]:
            return "051", None
        return "000", card

    def _card_answer(self, card: FakeCard) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "maKetQua": card.result, "ghiChu": "Dữ liệu giả lập (fake gateway)", "maThe": card.card,
            "hoTen": card.name, "ngaySinh": card.birth_date, "gioiTinh": card.gender,
            "diaChi": "Phường Bến Thành, Thành phố Hồ Chí Minh", "maDKBD": card.registered_facility,
            "cqBHXH": "Bảo hiểm xã hội Thành phố Hồ Chí Minh", "gtTheTu": card.valid_from,
            "gtTheDen": card.valid_to, "maKV": "", "ngayDu5Nam": "01/01/2030", "maSoBHXH": card.number,
            "maTheCu": None, "maTheMoi": card.new_card, "gtTheTuMoi": "01/01/2026" if card.new_card else None,
            "gtTheDenMoi": "31/12/2026" if card.new_card else None,
            "maDKBDMoi": card.registered_facility if card.new_card else None,
            "tenDKBDMoi": "Bệnh viện giả lập" if card.new_card else None,
            "dsLichSuKCB2018": [{"maHoSo": "FAKE0001", "maCSKCB": "79001", "ngayVao": "202601050800",
                                 "ngayRa": "202601051000", "tenBenh": "Viêm họng cấp", "tinhTrang": "1",
                                 "kqDieuTri": "1", "lyDoVV": "1"}],
            "dsLichSuKT2018": [],
        }
        answer.update(card.extra)
        return answer
