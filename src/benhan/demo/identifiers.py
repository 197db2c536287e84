"""Identifiers a Vietnamese patient carries: CCCD number, BHXH number and BHYT card code, phone number.

* CCCD (số định danh cá nhân): ``PPP G YY RRRRRR`` (NĐ 137/2015 Art. 13, TT 07/2016/TT-BCA Art. 7),
  built with :func:`benhan.vn.cccd.make_cccd` from the birth-registration province, sex and birth year.
  The six serial digits come from a bijection of the patient number, so numbers never repeat.
* BHYT card (mã thẻ, 15 characters): object group (2 letters) + benefit digit + issuing province
  (2 digits) + the 10-digit BHXH number (shared/domain/identifiers.md §1.1), built and checked by
  :func:`benhan.vn.bhyt.make_bhyt`. That the BHXH number starts with the province code is our
  assumption (unverified); the rest is serial.
* Mobile numbers: 10 digits with the carriers' prefixes after the 2018 renumbering
  (Viettel 086/096/097/098/032-039, VinaPhone 088/091/094/081-085, MobiFone 089/090/093/070/076-079,
  Vietnamobile 092/056/058, Gmobile 099/059), chosen by market share of mobile subscriptions
  (Viettel ~54%, VNPT-VinaPhone ~25%, MobiFone ~18%, others ~3%: Sách Trắng CNTT-TT / Bộ TT&TT,
  rounded; approximate).
"""

from __future__ import annotations

import random
from datetime import date
from functools import cache

from benhan.vn.bhyt import make_bhyt
from benhan.vn.cccd import make_cccd

from .rand import Weighted, affine_permutation

_CARRIERS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039"), 54.0),
    (("088", "091", "094", "081", "082", "083", "084", "085"), 25.0),
    (("089", "090", "093", "070", "076", "077", "078", "079"), 18.0),
    (("092", "056", "058", "099", "059"), 3.0),
)


@cache
def _prefixes() -> Weighted[str]:
    return Weighted((prefix, share / len(prefixes)) for prefixes, share in _CARRIERS for prefix in prefixes)


def mobile_phone(rng: random.Random) -> str:
    """A Vietnamese mobile number, e.g. ``0912345678``."""
    return _prefixes().pick(rng) + f"{rng.randrange(10_000_000):07d}"


class SerialNumbers:
    """Unique serial numbers per patient index: CCCD tails and BHXH numbers that never collide."""

    def __init__(self, seed: int) -> None:
        self._cccd = affine_permutation(seed, 1_000_000, "cccd")
        self._bhxh = affine_permutation(seed, 100_000_000, "bhxh")

    def cccd_serial(self, index: int) -> int:
        a, b = self._cccd
        return (a * index + b) % 1_000_000

    def bhxh_serial(self, index: int) -> int:
        a, b = self._bhxh
        return (a * index + b) % 100_000_000


def cccd_number(province_code: str, sex: str, birth_date: date, serial: int) -> str:
    """The 12-digit number of a person whose birth was registered in ``province_code`` (2 digits)."""
    return make_cccd(province_code.zfill(3), sex, birth_date, serial)  # type: ignore[arg-type]


def bhxh_number(province_code: str, serial: int) -> str:
    """A 10-digit BHXH number (mã số BHXH): 2-digit province + 8 serial digits (layout unverified)."""
    return f"{province_code}{serial:08d}"


def bhyt_card_code(group: str, benefit: int, province_code: str, bhxh: str) -> str:
    """The 15-character card code, e.g. ``DN4791234567890``."""
    return make_bhyt(group, benefit, province_code, bhxh)
