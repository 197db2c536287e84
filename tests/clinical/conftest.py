"""Factories for registration tests: a form per person, and a Repository inside one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from benhan.clinical.patient_form import AddressForm, BhytCardForm, Coded, ContactForm, PatientForm
from benhan.clinical.registration import Registration
from benhan.db import schema as s
from benhan.fhir.repository import Repository
from benhan.vn.bhyt import make_bhyt
from benhan.vn.cccd import make_cccd

BASE = "http://testserver/fhir"
FACILITY = "79001"


@contextmanager
def transaction(engine: Engine) -> Iterator[Repository]:
    """A trusted Repository in one write transaction (commits on success, rolls back on error)."""
    with engine.connect() as conn:
        conn.info["write"] = True
        with conn.begin():
            repo = Repository(conn, base_url=BASE)
            yield repo
            repo.flush()


def registration(repo: Repository) -> Registration:
    return Registration(repo, facility_code=FACILITY)


def form(name: str = "Nguyễn Văn An", birth: str | None = "1985-03-12", gender: str = "male", *,
         cccd: str | None = None, card: str | None = None, phone: str | None = None,
         commune: str | None = None, **kw: Any) -> PatientForm:
    address = AddressForm(line="12 Lê Lợi", commune=Coded(commune, "Phường Bến Thành"),
                          province=Coded("79", "Thành phố Hồ Chí Minh")) if commune else None
    bhyt = BhytCardForm(card, date(2026, 1, 1), date(2026, 12, 31), "79001") if card else None
    return PatientForm(name=name, gender=gender, birth_date=birth, national_id=cccd, phone=phone,
                       address=address, bhyt=bhyt, **kw)


def count(engine: Engine, rtype: str) -> int:
    r = s.resource
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(r.c.type == rtype, r.c.deleted.is_(False))).scalar_one()


@pytest.fixture
def register(engine: Engine) -> Callable[..., Any]:
    """``register(form, confirmed_new=False)`` in its own committed transaction."""
    def run(f: PatientForm, **kw: Any) -> Any:
        with transaction(engine) as repo:
            return registration(repo).register(f, **kw)
    return run


__all__ = ["BASE", "FACILITY", "ContactForm", "count", "form", "make_bhyt", "make_cccd", "registration",
           "transaction"]
