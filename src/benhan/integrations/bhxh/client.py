"""Client of the BHXH gateway card-check service (tra cứu thẻ BHYT / lịch sử KCB) used at check-in.

Contract (``shared/domain/identifiers.md`` §1.5): ``POST {base}/api/egw/KQNhanLichSuKCB2024`` with
query ``token``, ``id_token``, ``username``, ``password`` and a JSON body ``maThe``, ``hoTen``,
``ngaySinh`` (dd/mm/yyyy), ``hoTenCb``, ``cccdCb``; the answer carries ``maKetQua`` (see
:mod:`.results`) and the card as the portal knows it. How the token pair is obtained is not in our
contract: the caller passes it in :class:`BhxhCredentials`.

Built on httpx with an injectable transport (tests use :class:`.fake_gateway.FakeBhxhGateway`) and
explicit timeouts. Failures raise a :class:`BhxhError` subclass with a bilingual message. Nothing
personal is ever logged: only the result code and the elapsed time (the query string carries the
password, the body the patient's name and birth date).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from benhan.vn.bhyt import parse_card_date
from benhan.vn.errors import InvalidValue

from .results import CardResult, CardStatus

log = logging.getLogger(__name__)
_SECRET_PARAMS = re.compile(r"((?:^|[?&])(?:token|id_token|username|password)=)[^&\s\"]*")


class _RedactCredentials(logging.Filter):
    """httpx logs every request URL at INFO; the contract puts our password in the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_SECRET_PARAMS.sub(r"\1***", str(a)) if isinstance(a, httpx.URL) else a
                                for a in (record.args if isinstance(record.args, tuple) else (record.args,)))
        return True


def _install_redaction() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactCredentials) for f in logger.filters):
        logger.addFilter(_RedactCredentials())


_install_redaction()

DEFAULT_BASE_URL = "https://egw.baohiemxahoi.gov.vn"
CARD_CHECK_PATH = "/api/egw/KQNhanLichSuKCB2024"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class BhxhError(Exception):
    """The card check could not be done; ``vi``/``en`` are safe to show (no personal data)."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en


class BhxhTimeout(BhxhError):
    """The gateway did not answer in time (connect, read or whole request)."""


class BhxhUnavailable(BhxhError):
    """The gateway could not be reached, or answered with an HTTP error status."""

    def __init__(self, vi: str, en: str, status: int | None = None) -> None:
        super().__init__(vi, en)
        self.status = status


class BhxhAuthError(BhxhError):
    """Our account or token was refused (HTTP 401/403, or ``maKetQua`` 401)."""


class BhxhMalformedResponse(BhxhError):
    """The answer is not the JSON the contract describes."""


@dataclass(frozen=True, slots=True)
class BhxhCredentials:
    """The facility's gateway account and the token pair obtained for it."""

    username: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    id_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CardQuery:
    """One lookup: the card as presented and the staff member doing it (registered with BHXH)."""

    card: str  # maThe: 10-digit mã số BHXH or the 15-character card code
    name: str  # hoTen, as on the card
    birth_date: date | str  # a date, or a FHIR date string ("1985", "1985-03-12")
    staff_name: str  # hoTenCb
    staff_cccd: str  # cccdCb


@dataclass(frozen=True, slots=True)
class CardCheck:
    """The gateway's answer (dates parsed; ``visits``/``checks`` are the raw history lists)."""

    code: str  # maKetQua as received
    result: CardResult | None  # None for a code not in our table
    note: str | None = None  # ghiChu
    card: str | None = None  # maThe
    name: str | None = None
    birth_date: str | None = None  # ngaySinh as returned (dd/mm/yyyy or yyyy)
    gender: str | None = None
    address: str | None = None
    registered_facility: str | None = None  # maDKBD
    issuer: str | None = None  # cqBHXH
    valid_from: date | None = None  # gtTheTu
    valid_to: date | None = None  # gtTheDen
    area: str | None = None  # maKV
    five_years_from: date | None = None  # ngayDu5Nam
    social_insurance_number: str | None = None  # maSoBHXH
    old_card: str | None = None  # maTheCu
    new_card: str | None = None  # maTheMoi
    new_valid_from: date | None = None
    new_valid_to: date | None = None
    new_registered_facility: str | None = None
    new_registered_facility_name: str | None = None
    visits: tuple[dict[str, Any], ...] = ()  # dsLichSuKCB2018
    checks: tuple[dict[str, Any], ...] = ()  # dsLichSuKT2018

    @property
    def status(self) -> CardStatus:
        return self.result.status if self.result is not None else CardStatus.ERROR

    @property
    def vi(self) -> str:
        return self.result.vi if self.result is not None else f"Mã kết quả không xác định: {self.code}"

    @property
    def en(self) -> str:
        return self.result.en if self.result is not None else f"Unknown result code: {self.code}"


def gateway_birth_date(value: date | str) -> str:
    """``ngaySinh`` as the portal wants it: dd/mm/yyyy, or the year alone for year-only births."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    parts = value.split("-")
    if len(parts) == 3:
        return f"{parts[2]}/{parts[1]}/{parts[0]}"
    if len(parts) == 2:
        return f"{parts[1]}/{parts[0]}"
    return parts[0]


class BhxhCardClient:
    """``check_card`` against the gateway; one instance per facility account, reusable, closeable."""

    def __init__(self, credentials: BhxhCredentials, *, base_url: str = DEFAULT_BASE_URL,
                 transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> None:
        self.credentials = credentials
        self._http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout,
                                  headers={"Accept": "application/json"})

    def __enter__(self) -> BhxhCardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def check_card(self, query: CardQuery) -> CardCheck:
        """Look the card up; raise :class:`BhxhError` when no usable answer came back."""
        creds = self.credentials
        params = {"token": creds.token, "id_token": creds.id_token, "username": creds.username,
                  "password": creds.password}
        body = {"maThe": query.card, "hoTen": query.name, "ngaySinh": gateway_birth_date(query.birth_date),
                "hoTenCb": query.staff_name, "cccdCb": query.staff_cccd}
        started = time.monotonic()
        try:
            response = self._http.post(CARD_CHECK_PATH, params=params, json=body)
        except httpx.TimeoutException as exc:
            log.warning("BHXH card check: timeout after %d ms", _ms(started))
            raise BhxhTimeout("Cổng BHXH không trả lời kịp thời, hãy thử lại",
                              "The BHXH gateway did not answer in time; try again") from exc
        except httpx.TransportError as exc:
            log.warning("BHXH card check: connection failed (%s)", type(exc).__name__)
            raise BhxhUnavailable("Không kết nối được cổng BHXH", "Could not connect to the BHXH gateway") from exc
        check = _parse(response)
        log.info("BHXH card check: maKetQua=%s in %d ms", check.code, _ms(started))
        if check.result is CardResult.AUTHENTICATION:
            raise BhxhAuthError("Cổng BHXH từ chối tài khoản tra cứu (mã 401)",
                                "The BHXH gateway refused our account (code 401)")
        return check


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _parse(response: httpx.Response) -> CardCheck:
    if response.status_code in (401, 403):
        raise BhxhAuthError(f"Cổng BHXH từ chối xác thực (HTTP {response.status_code})",
                            f"The BHXH gateway refused authentication (HTTP {response.status_code})")
    if response.status_code >= 400:
        raise BhxhUnavailable(f"Cổng BHXH báo lỗi HTTP {response.status_code}",
                              f"The BHXH gateway answered HTTP {response.status_code}", response.status_code)
    try:
        data = response.json()
    except ValueError as exc:
        raise _malformed("không phải JSON", "not JSON") from exc
    if not isinstance(data, dict):
        raise _malformed("không phải một đối tượng JSON", "not a JSON object")
    code = data.get("maKetQua")
    if not isinstance(code, str) or not code:
        raise _malformed("thiếu maKetQua", "maKetQua is missing")
    try:
        result: CardResult | None = CardResult(code)
    except ValueError:
        result = None
    return CardCheck(
        code=code, result=result, note=_text(data, "ghiChu"), card=_text(data, "maThe"),
        name=_text(data, "hoTen"), birth_date=_text(data, "ngaySinh"), gender=_text(data, "gioiTinh"),
        address=_text(data, "diaChi"), registered_facility=_text(data, "maDKBD"), issuer=_text(data, "cqBHXH"),
        valid_from=_date(data, "gtTheTu"), valid_to=_date(data, "gtTheDen"), area=_text(data, "maKV"),
        five_years_from=_date(data, "ngayDu5Nam"), social_insurance_number=_text(data, "maSoBHXH"),
        old_card=_text(data, "maTheCu"), new_card=_text(data, "maTheMoi"),
        new_valid_from=_date(data, "gtTheTuMoi"), new_valid_to=_date(data, "gtTheDenMoi"),
        new_registered_facility=_text(data, "maDKBDMoi"), new_registered_facility_name=_text(data, "tenDKBDMoi"),
        visits=_list(data, "dsLichSuKCB2018"), checks=_list(data, "dsLichSuKT2018"),
    )


def _malformed(vi: str, en: str) -> BhxhMalformedResponse:
    return BhxhMalformedResponse(f"Trả lời của cổng BHXH không đúng định dạng: {vi}",
                                 f"Malformed BHXH gateway answer: {en}")


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _malformed(f"trường {key} sai kiểu", f"field {key} has the wrong type")
    return value


def _date(data: dict[str, Any], key: str) -> date | None:
    value = _text(data, key)
    if value is None:
        return None
    try:
        return parse_card_date(value)
    except InvalidValue as exc:
        raise _malformed(f"trường {key} không phải ngày", f"field {key} is not a date") from exc


def _list(data: dict[str, Any], key: str) -> tuple[dict[str, Any], ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _malformed(f"trường {key} không phải danh sách", f"field {key} is not a list")
    return tuple(value)
