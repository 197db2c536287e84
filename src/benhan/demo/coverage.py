"""Health-insurance cards (thẻ BHYT) and their FHIR ``Coverage``.

* Coverage: 93% of patients hold a valid card, the national figure reported by BHXH Việt Nam for 2023
  (93.35% of the population). By age: children under 6 and pupils are covered almost entirely (the
  state or school pays), pensioners too; the gap is among working-age adults. The age-specific rates
  below are ours, calibrated to give 93% over the population pyramid. About 3% more hold a card that
  expired and was not renewed (lapsed voluntary household cards, our assumption).
* Beneficiary group (mã đối tượng) by age, ethnicity and chance, with our weights (no published
  breakdown per group was found); the benefit digit of each group is the table of
  shared/domain/identifiers.md §1.2 (QĐ 1351/QĐ-BHXH as summarised by a vendor; unverified).
* Army and police cards (QN, CA) are issued by the BHXH of the Ministry of Defence / Public Security,
  province characters 97 / 98 (benhan.vn.provinces).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from benhan.vn import systems

from . import identifiers
from .population import Person
from .rand import Weighted
from .timefmt import add_years, age_on, fhir_date

VALID_BY_AGE = ((6, 0.99), (18, 0.97), (23, 0.93), (60, 0.899), (200, 0.96))  # (age below, share valid)
LAPSED_SHARE_OF_UNINSURED = 0.4

# Benefit digit (mức hưởng) of each group: shared/domain/identifiers.md §1.2.
BENEFIT = {
    "CC": 1, "TE": 1,
    "CK": 2, "CB": 2, "KC": 2, "HN": 2, "DT": 2, "DK": 2, "XD": 2, "BT": 2, "TS": 2,
    "HT": 3, "TC": 3, "CN": 3,
    "DN": 4, "HX": 4, "CH": 4, "NN": 4, "TK": 4, "HC": 4, "XK": 4, "TB": 4, "NO": 4, "CT": 4, "XB": 4,
    "TN": 4, "CS": 4, "XN": 4, "MS": 4, "HD": 4, "TL": 4, "XV": 4, "HS": 4, "SV": 4, "GB": 4, "GD": 4,
    "QN": 5, "CA": 5, "CY": 5,
}
FUND_SHARE = {1: 100, 2: 100, 3: 95, 4: 80, 5: 100}  # % of covered costs paid by the fund

GROUP_NAMES = {
    "TE": "Trẻ em dưới 6 tuổi", "HS": "Học sinh", "SV": "Sinh viên",
    "DN": "Người lao động làm việc trong doanh nghiệp", "HC": "Cán bộ, công chức, viên chức",
    "CH": "Người lao động trong cơ quan nhà nước", "HX": "Người lao động trong hợp tác xã",
    "GD": "Người tham gia theo hộ gia đình", "HN": "Người thuộc hộ gia đình nghèo",
    "CN": "Người thuộc hộ gia đình cận nghèo", "BT": "Người hưởng trợ cấp bảo trợ xã hội",
    "TN": "Người hưởng trợ cấp thất nghiệp", "CA": "Công an nhân dân", "QN": "Quân nhân",
    "HT": "Người hưởng lương hưu", "CB": "Cựu chiến binh", "CC": "Người có công với cách mạng",
    "KC": "Người tham gia kháng chiến", "DT": "Người dân tộc thiểu số sống ở vùng khó khăn",
}
SPECIAL_ISSUER = {"QN": "97", "CA": "98"}

_WORKING = Weighted([("DN", 32), ("HC", 8), ("CH", 3), ("HX", 2), ("GD", 36), ("HN", 4), ("CN", 4),
                     ("BT", 2), ("TN", 1), ("CA", 1), ("QN", 1)])
_ELDERLY = Weighted([("HT", 38), ("GD", 30), ("CB", 4), ("CC", 2), ("KC", 2), ("HN", 4), ("CN", 3), ("BT", 3)])
_PUPIL = Weighted([("HS", 94), ("HN", 3), ("CN", 3)])


@dataclass(frozen=True, slots=True)
class Card:
    """One BHYT card as printed (and as returned by the BHXH lookup)."""

    group: str
    benefit: int
    province: str  # characters 4-5: issuing BHXH
    bhxh: str  # 10-digit mã số BHXH
    start: date
    end: date
    registered_facility: str  # MA_DKBD, where the holder registered for primary care

    @property
    def code(self) -> str:
        return identifiers.bhyt_card_code(self.group, self.benefit, self.province, self.bhxh)

    def valid_on(self, day: date) -> bool:
        return self.start <= day <= self.end


def _valid_share(age: int) -> float:
    return next(share for below, share in VALID_BY_AGE if age < below)


def _group(rng: random.Random, person: Person, age: int) -> str:
    minority = person.ethnic.code != "01"
    if age < 6:
        return "TE"
    if minority and age >= 6 and rng.random() < 0.4:
        return "DT"
    if age < 18:
        return _PUPIL.pick(rng)
    if age < 23 and rng.random() < 0.45:
        return "SV"
    if age < 60:
        return _WORKING.pick(rng)
    if age >= 80 and rng.random() < 0.3:
        return "BT"  # social pension from 80 (trợ cấp xã hội)
    return _ELDERLY.pick(rng)


def draw_card(rng: random.Random, person: Person, bhxh_serial: int, today: date, facility_code: str,
              history_start: date) -> Card | None:
    """The person's card (valid, or lapsed), or None when uninsured."""
    age = age_on(person.birth_date, today)
    roll = rng.random()
    valid = roll < _valid_share(age)
    if not valid and rng.random() >= LAPSED_SHARE_OF_UNINSURED:
        return None
    group = _group(rng, person, age)
    old_codes = [o.code for o in person.province.old]
    province = SPECIAL_ISSUER.get(group) or rng.choice(old_codes)
    bhxh = identifiers.bhxh_number(rng.choice(old_codes), bhxh_serial)
    start = max(person.birth_date, history_start.replace(month=1, day=1))
    if valid:
        if group == "TE":
            end = add_years(person.birth_date, 6) - timedelta(days=1)
        elif group == "GD":
            end = today + timedelta(days=rng.randint(1, 365))
        else:
            end = date(today.year, 12, 31)
    else:
        end = today - timedelta(days=rng.randint(20, 540))
        start = min(start, end - timedelta(days=364))
    if person.province.code == facility_code[:2] and rng.random() < 0.4:
        registered = facility_code
    else:
        registered = f"{rng.choice(old_codes)}{rng.randint(1, 250):03d}"
    return Card(group, BENEFIT[group], province, bhxh, start, end, registered)


def patient_identifier(card: Card) -> dict[str, Any]:
    """The ``insurance_number`` identifier for Patient.identifier."""
    return {
        "use": "official",
        "type": {"coding": [{"system": systems.V2_IDENTIFIER_TYPE, "code": "SB"}], "text": "Thẻ BHYT"},
        "system": systems.INSURANCE_NUMBER,
        "value": card.code,
        "period": {"start": fhir_date(card.start), "end": fhir_date(card.end)},
    }


def coverage_resource(card: Card, patient_ref: str, payer_ref: str) -> dict[str, Any]:
    """FHIR ``Coverage`` for one card: group and benefit level as classes, co-payment as a percentage."""
    copay = 100 - FUND_SHARE[card.benefit]
    return {
        "resourceType": "Coverage",
        "identifier": [{"system": systems.INSURANCE_NUMBER, "value": card.code}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PUBLICPOL",
                             "display": "public healthcare"}], "text": "Bảo hiểm y tế"},
        "subscriberId": card.bhxh,
        "beneficiary": {"reference": patient_ref},
        "relationship": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                                     "code": "self"}]},
        "period": {"start": fhir_date(card.start), "end": fhir_date(card.end)},
        "payor": [{"reference": payer_ref, "display": "Bảo hiểm xã hội Việt Nam"}],
        "class": [
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                  "code": "group"}]},
             "value": card.group, "name": GROUP_NAMES.get(card.group, card.group)},
            {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class",
                                  "code": "plan"}]},
             "value": str(card.benefit), "name": f"Mức hưởng {FUND_SHARE[card.benefit]}%"},
        ],
        "network": card.registered_facility,
        "costToBeneficiary": [{
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-copay-type",
                                 "code": "copaypct"}], "text": "Người bệnh cùng chi trả"},
            "valueQuantity": {"value": copay, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        }],
    }
