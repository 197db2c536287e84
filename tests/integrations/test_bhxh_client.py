"""The BHXH card-check client against the local fake gateway: every result code and every failure."""

from __future__ import annotations

import logging
from datetime import date

import httpx
import pytest

from benhan.integrations.bhxh import (
    BhxhAuthError,
    BhxhCardClient,
    BhxhCredentials,
    BhxhMalformedResponse,
    BhxhTimeout,
    BhxhUnavailable,
    CardQuery,
    CardResult,
    CardStatus,
)
from benhan.integrations.bhxh.client import gateway_birth_date
from benhan.integrations.bhxh.fake_gateway import (
    FAKE_ID_TOKEN,
    FAKE_PASSWORD,
    FAKE_TOKEN,
    FAKE_USERNAME,
    FakeBhxhGateway,
    default_cards,
)

STAFF = ("Lê Thị Tiếp Đón", "079090000001")
CREDS = BhxhCredentials(FAKE_USERNAME, FAKE_PASSWORD, FAKE_TOKEN, FAKE_ID_TOKEN)
CARDS = {c.result: c for c in default_cards()}


@pytest.fixture
def gateway() -> FakeBhxhGateway:
    return FakeBhxhGateway()


@pytest.fixture
def client(gateway: FakeBhxhGateway) -> BhxhCardClient:
    with BhxhCardClient(CREDS, base_url="https://fake-egw.test", transport=gateway.transport()) as c:
        yield c


def _query(card: str, name: str, born: str, staff: tuple[str, str] = STAFF) -> CardQuery:
    return CardQuery(card, name, born, *staff)


def _born(portal_date: str) -> str:
    """dd/mm/yyyy (or yyyy) → FHIR date, as the registration form holds it."""
    parts = portal_date.split("/")
    return "-".join(reversed(parts))


@pytest.mark.parametrize("code", sorted(CARDS))
def test_card_level_result_codes(client: BhxhCardClient, code: str) -> None:
    card = CARDS[code]
    check = client.check_card(_query(card.card, card.name, _born(card.birth_date)))
    assert check.code == code
    assert check.result is CardResult(code)
    assert check.vi and check.en and check.vi != check.en


def test_valid_card_fields(client: BhxhCardClient) -> None:
    card = CARDS["000"]
    check = client.check_card(_query(card.number, "NGUYEN VAN AN", "1985-03-12"))
    assert check.status is CardStatus.OK
    assert check.card == card.card and check.social_insurance_number == card.number
    assert check.valid_from == date(2026, 1, 1) and check.valid_to == date(2026, 12, 31)
    assert check.five_years_from == date(2030, 1, 1)
    assert check.registered_facility == "79001"
    assert check.visits and check.visits[0]["maCSKCB"] == "79001"


def test_new_card_issued(client: BhxhCardClient) -> None:
    card = CARDS["003"]
    check = client.check_card(_query(card.card, card.name, _born(card.birth_date)))
    assert check.status is CardStatus.CHECK and check.new_card == card.new_card
    assert check.new_valid_to == date(2026, 12, 31)


@pytest.mark.parametrize(("mutate", "code"), [
    (lambda c: ("DN4791234509999", c.name, c.birth_date), "050"),
    (lambda c: ("D14" + c.card[3:], c.name, c.birth_date), "051"),
    (lambda c: (c.card[:3] + "01" + c.card[5:], c.name, c.birth_date), "052"),
    (lambda c: (c.card[:2] + "3" + c.card[3:], c.name, c.birth_date), "053"),
    (lambda c: (c.card, "Trần Văn An", c.birth_date), "060"),
    (lambda c: (c.card, "Nguyễn Văn Anh", c.birth_date), "061"),
    (lambda c: (c.card, c.name, "21/03/1985"), "070"),
])
def test_input_result_codes(client: BhxhCardClient, mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    card_code, name, born = mutate(CARDS["000"])
    check = client.check_card(_query(card_code, name, _born(born)))
    assert check.result is CardResult(code)
    assert check.status in (CardStatus.REFUSED,)


@pytest.mark.parametrize(("staff", "code"), [
    (("Lê Thị Tiếp Đón", "079090000999"), "054"),
    (("Người Khác", "079090000001"), "055"),
])
def test_staff_result_codes(client: BhxhCardClient, staff: tuple[str, str], code: str) -> None:
    card = CARDS["000"]
    check = client.check_card(_query(card.card, card.name, "1985-03-12", staff))
    assert check.result is CardResult(code) and check.status is CardStatus.ERROR


def test_parameter_format_205(client: BhxhCardClient) -> None:
    check = client.check_card(CardQuery(CARDS["000"].card, "", "1985-03-12", *STAFF))
    assert check.result is CardResult.PARAMETER_FORMAT


def test_auth_error_in_body_401(gateway: FakeBhxhGateway) -> None:
    creds = BhxhCredentials(FAKE_USERNAME, "wrong", FAKE_TOKEN, FAKE_ID_TOKEN)
    with BhxhCardClient(creds, transport=gateway.transport()) as c, pytest.raises(BhxhAuthError) as err:
        c.check_card(_query(CARDS["000"].card, "Nguyễn Văn An", "1985-03-12"))
    assert "401" in err.value.en


def test_http_401(client: BhxhCardClient, gateway: FakeBhxhGateway) -> None:
    gateway.fail_next = "http401"
    with pytest.raises(BhxhAuthError):
        client.check_card(_query(CARDS["000"].card, "Nguyễn Văn An", "1985-03-12"))


def test_timeout(client: BhxhCardClient, gateway: FakeBhxhGateway) -> None:
    gateway.fail_next = "timeout"
    with pytest.raises(BhxhTimeout) as err:
        client.check_card(_query(CARDS["000"].card, "Nguyễn Văn An", "1985-03-12"))
    assert err.value.vi.startswith("Cổng BHXH")


def test_http_error(client: BhxhCardClient, gateway: FakeBhxhGateway) -> None:
    gateway.fail_next = "http500"
    with pytest.raises(BhxhUnavailable) as err:
        client.check_card(_query(CARDS["000"].card, "Nguyễn Văn An", "1985-03-12"))
    assert err.value.status == 500


@pytest.mark.parametrize("mode", ["malformed", "not-object"])
def test_malformed_json(client: BhxhCardClient, gateway: FakeBhxhGateway, mode: str) -> None:
    gateway.fail_next = mode
    with pytest.raises(BhxhMalformedResponse):
        client.check_card(_query(CARDS["000"].card, "Nguyễn Văn An", "1985-03-12"))


@pytest.mark.parametrize("extra", [{"gtTheDen": "not a date"}, {"dsLichSuKCB2018": "x"}, {"hoTen": {"a": 1}}])
def test_malformed_fields(extra: dict) -> None:  # type: ignore[type-arg]
    card = default_cards()[0]
    gateway = FakeBhxhGateway([type(card)(card.card, card.name, card.birth_date, extra=extra)])
    with BhxhCardClient(CREDS, transport=gateway.transport()) as c, pytest.raises(BhxhMalformedResponse):
        c.check_card(_query(card.card, card.name, "1985-03-12"))


def test_missing_result_code() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ghiChu": "x"}))
    with BhxhCardClient(CREDS, transport=transport) as c, pytest.raises(BhxhMalformedResponse):
        c.check_card(_query("1234567890", "A", "1985"))


def test_unknown_result_code_is_an_error_status() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"maKetQua": "999"}))
    with BhxhCardClient(CREDS, transport=transport) as c:
        check = c.check_card(_query("1234567890", "A", "1985"))
    assert check.result is None and check.status is CardStatus.ERROR and "999" in check.en


def test_connection_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with BhxhCardClient(CREDS, transport=httpx.MockTransport(refuse)) as c, pytest.raises(BhxhUnavailable):
        c.check_card(_query("1234567890", "A", "1985"))


def test_request_follows_the_contract() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"maKetQua": "000"})

    with BhxhCardClient(CREDS, base_url="https://egw.test", transport=httpx.MockTransport(record)) as c:
        c.check_card(CardQuery("1234567890", "Nguyễn Văn An", date(1985, 3, 12), *STAFF))
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/api/egw/KQNhanLichSuKCB2024"
    assert dict(request.url.params) == {"token": FAKE_TOKEN, "id_token": FAKE_ID_TOKEN,
                                        "username": FAKE_USERNAME, "password": FAKE_PASSWORD}
    import json
    assert json.loads(request.content) == {"maThe": "1234567890", "hoTen": "Nguyễn Văn An",
                                           "ngaySinh": "12/03/1985", "hoTenCb": STAFF[0], "cccdCb": STAFF[1]}


def test_birth_date_formats() -> None:
    assert gateway_birth_date("1985-03-12") == "12/03/1985"
    assert gateway_birth_date("1985") == "1985"
    assert gateway_birth_date(date(2001, 1, 2)) == "02/01/2001"


def test_no_personal_data_in_logs(client: BhxhCardClient, caplog: pytest.LogCaptureFixture) -> None:
    card = CARDS["000"]
    with caplog.at_level(logging.DEBUG):
        client.check_card(_query(card.card, card.name, "1985-03-12"))
    logged = caplog.text
    for secret in (card.card, card.number, "Nguyễn", "1985", FAKE_PASSWORD, FAKE_TOKEN, STAFF[1]):
        assert secret not in logged
    assert "maKetQua=000" in logged


def test_every_code_has_bilingual_message() -> None:
    for result in CardResult:
        assert result.vi and result.en and result.status in CardStatus
