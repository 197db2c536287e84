"""The clinical case mix: which diagnoses (ICD-10, Vietnamese names from QĐ 4469/QĐ-BYT) come to the
clinic, the emergency room and the wards, for whom, in which season, and what is done for them.

Shape: the leading causes of outpatient morbidity in the Ministry of Health's Health Statistics
Yearbooks (acute respiratory infections, hypertension, gastritis, musculoskeletal pain, injuries)
and the national STEPS survey 2021 for chronic disease (raised blood pressure in 26.2% and diabetes
in 7.1% of adults aged 18-69, about half of them diagnosed and treated). Weights, rates, seasons,
lengths of stay (around the national average of 6-7 days) and work-ups are our model of a mid-size
general hospital, not published figures.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import data
from .rand import Weighted

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

Options = tuple[tuple[str, float], ...]  # (key, probability) of a lab panel or imaging study
Regimens = tuple[tuple[tuple[str, ...], float], ...]  # alternative drug sets with weights


@dataclass(frozen=True, slots=True)
class Case:
    """A diagnosis as it presents at one kind of visit."""

    code: str
    weight: float
    clinic: str = "noi"  # outpatient room (facility.CLINICS), or the emergency department
    ages: tuple[int, int] = (0, 120)
    sex: str | None = None
    season: str | None = None  # cool: respiratory peak Nov-Mar; rainy: dengue Jun-Nov
    fever: bool = False
    respiratory: bool = False
    state: str | None = None  # bacterial | viral | dengue: shapes lab results
    labs: Options = ()
    imaging: Options = ()
    drugs: Regimens = ()
    days: int = 5  # days of treatment prescribed
    admit: float = 0.0  # emergency: probability of admission
    admit_as: str | None = None  # admission code when different
    injury: float = 0.0  # probability of a traffic external cause (V29.9, motorcycle rider)


@dataclass(frozen=True, slots=True)
class Admission:
    code: str
    weight: float  # weight among direct (planned) admissions; 0 = only via the emergency room
    department: str
    los: tuple[float, float]  # mean, sd (days)
    ages: tuple[int, int] = (0, 120)
    sex: str | None = None
    child_department: str | None = "K18"
    season: str | None = None
    fever: bool = False
    respiratory: bool = False
    state: str | None = None
    labs: tuple[str, ...] = ("cbc", "biochem")
    daily_labs: tuple[str, ...] = ()
    imaging: tuple[str, ...] = ()
    ward_drugs: tuple[str, ...] = ()
    discharge_drugs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chronic:
    code: str
    prevalence: tuple[tuple[int, float], ...]  # (age below, share diagnosed and followed up)
    clinic: str
    regimens: Regimens
    labs: tuple[tuple[str, int], ...]  # (panel, every n months)
    imaging: tuple[tuple[str, int], ...] = ()
    male_factor: float = 1.0
    min_age: int = 18  # years; never diagnosed younger (adult diseases; QĐ 4469 age annexes, e.g. I10 from 1 year)

    def share(self, age: int, sex: str) -> float:
        if age < self.min_age:
            return 0.0
        base = next(share for below, share in self.prevalence if age < below)
        return base * (self.male_factor if sex == "male" else 1.0)


CHRONIC: tuple[Chronic, ...] = (
    Chronic("I10", ((30, 0.003), (45, 0.03), (60, 0.10), (70, 0.19), (200, 0.24)), "tim",
            ((("amlodipin",), 45), (("losartan",), 35), (("amlodipin", "losartan"), 20)),
            (("glucose", 6), ("lipid", 6), ("renal", 6)), (("ecg", 12),), 1.1),
    Chronic("E11.9", ((30, 0.001), (45, 0.012), (60, 0.04), (70, 0.07), (200, 0.08)), "noitiet",
            ((("metformin",), 60), (("metformin", "gliclazid"), 40)),
            (("glucose", 1), ("hba1c", 3), ("lipid", 6), ("renal", 6))),
    Chronic("E78.5", ((30, 0.0), (45, 0.01), (60, 0.03), (200, 0.05)), "noi", ((("atorvastatin",), 1),),
            (("lipid", 6),)),
    Chronic("I25.9", ((45, 0.0), (60, 0.008), (70, 0.025), (200, 0.04)), "tim",
            ((("aspirin", "bisoprolol", "atorvastatin"), 1),), (("lipid", 6),), (("ecg", 6), ("sa_tim", 12)), 1.3),
    Chronic("J44.9", ((40, 0.0), (60, 0.009), (200, 0.03)), "noi",
            ((("salbutamol",), 50), (("salbutamol", "budesonid"), 50)), (("cbc", 12),), (("xq_nguc", 12),), 1.7),
    Chronic("N18.9", ((40, 0.0), (60, 0.004), (200, 0.015)), "noi", ((("amlodipin",), 1),), (("renal", 3),)),
    Chronic("B18.1", ((18, 0.001), (70, 0.008), (200, 0.004)), "truyennhiem", ((("tenofovir",), 1),),
            (("liver", 3), ("renal", 6)), (("sa_bung", 6),), 1.2, min_age=1),
    Chronic("J45.9", ((5, 0.0), (16, 0.02), (200, 0.012)), "noi", ((("budesonid", "salbutamol"), 1),), (),
            min_age=5),
)
# Dyslipidaemia and kidney disease go with hypertension and diabetes (our factors).
COMORBID_BOOST = {"E78.5": 0.35, "N18.9": 0.04}

_CBC = (("cbc", 0.8),)
ACUTE: tuple[Case, ...] = (
    Case("J06.9", 14, season="cool", fever=True, state="viral", labs=(("cbc", 0.2),),
         drugs=((("paracetamol",), 60), (("paracetamol", "loratadin"), 40)), days=5),
    Case("J00", 5, season="cool", drugs=((("paracetamol", "loratadin"), 1),), days=5),
    Case("J02.9", 8, clinic="tmh", season="cool", fever=True, state="bacterial",
         drugs=((("amoxicilin", "paracetamol"), 1),), days=7),
    Case("J03.9", 4, clinic="tmh", ages=(3, 40), fever=True, state="bacterial",
         drugs=((("amoxicilin", "paracetamol"), 1),), days=7),
    Case("J20.9", 7, season="cool", fever=True, respiratory=True, state="bacterial", labs=_CBC,
         imaging=(("xq_nguc", 0.4),), drugs=((("amoxicilin", "ambroxol"), 1),), days=7),
    Case("J18.9", 2, season="cool", fever=True, respiratory=True, state="bacterial", labs=(("cbc", 1.0),),
         imaging=(("xq_nguc", 1.0),), drugs=((("cefuroxim", "paracetamol"), 1),), days=7),
    Case("J11.1", 3, season="cool", fever=True, state="viral", labs=(("cbc", 0.3),),
         drugs=((("oseltamivir", "paracetamol"), 1),), days=5),
    Case("A09", 5, fever=True, state="bacterial", labs=(("cbc", 0.3),), drugs=((("oresol",), 1),), days=3),
    Case("K29.7", 8, ages=(12, 120), imaging=(("sa_bung", 0.2),),
         drugs=((("omeprazol", "domperidon"), 60), (("esomeprazol",), 40)), days=14),
    Case("K21.9", 3, ages=(18, 120), drugs=((("esomeprazol", "domperidon"), 1),), days=28),
    Case("K30", 2, ages=(12, 120), drugs=((("domperidon",), 1),), days=7),
    Case("M54.5", 6, clinic="ngoai", ages=(20, 120), imaging=(("xq_cstl", 0.3),),
         drugs=((("meloxicam", "eperison"), 60), (("paracetamol", "eperison"), 40)), days=10),
    Case("M54.2", 3, clinic="ngoai", ages=(20, 120), drugs=((("meloxicam", "eperison"), 1),), days=10),
    Case("M17.9", 3, clinic="ngoai", ages=(45, 120), imaging=(("xq_goi", 0.6),),
         drugs=((("meloxicam",), 50), (("paracetamol",), 50)), days=14),
    Case("M47.9", 2, clinic="ngoai", ages=(40, 120), imaging=(("xq_cstl", 0.7),),
         drugs=((("paracetamol", "eperison"), 1),), days=14),
    Case("R51", 2, ages=(10, 120), drugs=((("paracetamol",), 1),), days=3),
    Case("G43.9", 1, ages=(15, 60), sex="female", drugs=((("paracetamol",), 1),), days=5),
    Case("H10.9", 2, clinic="mat", drugs=((("tobramycin",), 1),), days=7),
    Case("H52.1", 1.5, clinic="mat", ages=(6, 40)),
    Case("H25.9", 1, clinic="mat", ages=(55, 120)),
    Case("L30.9", 2, clinic="dalieu", drugs=((("loratadin",), 1),), days=7),
    Case("L50.9", 1.5, clinic="dalieu", drugs=((("cetirizin",), 1),), days=7),
    Case("J30.4", 2, clinic="tmh", ages=(5, 120), drugs=((("loratadin",), 1),), days=14),
    Case("H66.9", 2, clinic="tmh", ages=(0, 12), fever=True, state="bacterial",
         drugs=((("amoxicilin", "paracetamol"), 1),), days=7),
    Case("K02.9", 1.5, clinic="rhm", ages=(4, 120), drugs=((("paracetamol",), 1),), days=3),
    Case("N39.0", 3, ages=(16, 120), sex="female", fever=True, state="bacterial", labs=(("cbc", 0.5),),
         drugs=((("ciprofloxacin",), 1),), days=7),
    Case("B34.9", 3, fever=True, state="viral", labs=(("cbc", 0.5),), drugs=((("paracetamol",), 1),), days=3),
    Case("A97.0", 2, season="rainy", fever=True, state="dengue", labs=(("cbc", 1.0),),
         drugs=((("paracetamol", "oresol"), 1),), days=3),
    Case("S93.4", 1.5, clinic="ngoai", ages=(10, 70), drugs=((("paracetamol",), 1),), days=5),
    Case("R10.4", 2, imaging=(("sa_bung", 0.6),), drugs=((("domperidon",), 1),), days=5),
    # Antenatal visits and check-ups are coded by the complaint: QĐ 4469 (sheet A2) forbids Z34.9 and Z00.0
    # as the main diagnosis.
    Case("O26.9", 3, clinic="san", ages=(18, 42), sex="female", imaging=(("sa_thai", 0.9),),
         drugs=((("sat_folic",), 1),), days=30),
    Case("R53", 3, ages=(18, 120), labs=(("cbc", 0.8), ("biochem", 0.8), ("lipid", 0.5)),
         imaging=(("xq_nguc", 0.6), ("sa_bung", 0.5))),
    Case("K59.0", 1.5, drugs=((("lactulose",), 1),), days=7),
    Case("F41.9", 1, ages=(18, 120)),
    Case("D50.9", 1.5, ages=(1, 120), sex="female", labs=(("cbc", 1.0),), drugs=((("sat_folic",), 1),), days=30),
    Case("N40", 1.5, ages=(50, 120), sex="male", imaging=(("sa_bung", 0.6),), drugs=((("tamsulosin",), 1),),
         days=30),
    Case("E03.9", 1, ages=(20, 120), sex="female", clinic="noitiet", drugs=((("levothyroxin",), 1),), days=30),
    Case("K76.0", 1.5, ages=(25, 120), labs=(("liver", 0.8), ("lipid", 0.5)), imaging=(("sa_bung", 1.0),)),
)

EMERGENCY: tuple[Case, ...] = (
    Case("S06.0", 6, ages=(10, 80), imaging=(("ct_so", 0.8),), drugs=((("paracetamol",), 1),), days=5,
         admit=0.3, injury=0.7),
    Case("S52.5", 3, ages=(8, 90), imaging=(("xq_cangtay", 1.0),), drugs=((("paracetamol",), 1),), days=7,
         admit=0.2, injury=0.5),
    Case("S82.2", 2, ages=(15, 70), imaging=(("xq_cangchan", 1.0),), admit=0.85, injury=0.7),
    Case("T14.1", 5, ages=(5, 80), drugs=((("amoxicilin", "paracetamol"), 1),), days=5, injury=0.5),
    Case("S01.8", 3, ages=(2, 80), drugs=((("paracetamol",), 1),), days=5, injury=0.5),
    Case("S61.0", 3, ages=(10, 70), drugs=((("amoxicilin", "paracetamol"), 1),), days=5),
    Case("S93.4", 2, ages=(10, 70), drugs=((("paracetamol",), 1),), days=5, injury=0.3),
    Case("R07.4", 4, ages=(30, 120), labs=(("cbc", 0.5), ("biochem", 0.5)), imaging=(("ecg", 1.0),)),
    Case("I21.9", 1.5, ages=(45, 120), labs=(("cbc", 1.0), ("biochem", 1.0)), imaging=(("ecg", 1.0),), admit=1.0),
    Case("I63.9", 2, ages=(50, 120), labs=(("cbc", 1.0), ("biochem", 1.0)), imaging=(("ct_so", 1.0),), admit=0.9),
    Case("K35.8", 2, ages=(8, 70), fever=True, state="bacterial", labs=(("cbc", 1.0),),
         imaging=(("sa_bung", 1.0),), admit=0.95),
    Case("N20.0", 2, ages=(20, 80), imaging=(("sa_bung", 0.8),), drugs=((("paracetamol",), 1),), days=5,
         admit=0.15),
    Case("A97.1", 2, ages=(3, 70), season="rainy", fever=True, state="dengue", labs=(("cbc", 1.0),),
         imaging=(("sa_bung", 0.4),), drugs=((("paracetamol", "oresol"), 1),), days=3, admit=0.7),
    Case("J18.9", 3, fever=True, respiratory=True, state="bacterial", labs=(("cbc", 1.0),),
         imaging=(("xq_nguc", 1.0),), drugs=((("cefuroxim", "paracetamol"), 1),), days=7, admit=0.6),
    Case("A09", 3, ages=(0, 12), fever=True, state="bacterial", labs=(("cbc", 0.5),), drugs=((("oresol",), 1),),
         days=3, admit=0.3),
    Case("J44.1", 1.5, ages=(50, 120), respiratory=True, labs=(("cbc", 1.0),), imaging=(("xq_nguc", 1.0),),
         drugs=((("salbutamol",), 1),), days=7, admit=0.7),
    Case("I50.9", 1.5, ages=(55, 120), respiratory=True, labs=(("cbc", 1.0), ("biochem", 1.0)),
         imaging=(("xq_nguc", 1.0), ("ecg", 1.0)), admit=0.8),
    Case("R50.9", 3, fever=True, state="viral", labs=(("cbc", 0.7),), drugs=((("paracetamol",), 1),), days=3,
         admit=0.05),
    Case("T78.4", 2, drugs=((("cetirizin",), 1),), days=5, admit=0.05),
    Case("S72.0", 1.5, ages=(65, 120), imaging=(("xq_hang", 1.0),), admit=0.95),
)

ADMISSIONS: dict[str, Admission] = {a.code: a for a in (
    Admission("J18.9", 4, "K03", (7, 3), fever=True, respiratory=True, state="bacterial", imaging=("xq_nguc",),
              ward_drugs=("cefuroxim", "paracetamol", "ambroxol"), discharge_drugs=("cefuroxim",)),
    Admission("I63.9", 0, "K03", (10, 5), ages=(50, 120), child_department=None, labs=("cbc", "biochem", "lipid"),
              imaging=("ct_so",), ward_drugs=("aspirin", "atorvastatin"), discharge_drugs=("aspirin", "atorvastatin")),
    Admission("I21.9", 0, "K04", (7, 3), ages=(45, 120), child_department=None, labs=("cbc", "biochem", "lipid"),
              imaging=("ecg", "sa_tim"), ward_drugs=("aspirin", "bisoprolol", "atorvastatin"),
              discharge_drugs=("aspirin", "bisoprolol", "atorvastatin")),
    Admission("I50.9", 2, "K04", (8, 4), ages=(55, 120), child_department=None, respiratory=True,
              imaging=("xq_nguc", "sa_tim", "ecg"), ward_drugs=("furosemid", "bisoprolol"),
              discharge_drugs=("furosemid", "bisoprolol")),
    Admission("J44.1", 2, "K03", (8, 3), ages=(50, 120), child_department=None, respiratory=True,
              imaging=("xq_nguc",), ward_drugs=("salbutamol", "budesonid", "cefuroxim"),
              discharge_drugs=("salbutamol", "budesonid")),
    Admission("K35.8", 0, "K19", (5, 2), ages=(8, 70), child_department=None, fever=True, state="bacterial",
              labs=("cbc",), imaging=("sa_bung",), ward_drugs=("cefuroxim", "paracetamol"),
              discharge_drugs=("paracetamol",)),
    Admission("K80.1", 2, "K19", (6, 2), ages=(35, 120), child_department=None, imaging=("sa_bung",),
              ward_drugs=("cefuroxim", "paracetamol"), discharge_drugs=("paracetamol",)),
    Admission("A97.1", 1, "K11", (5, 2), ages=(3, 70), child_department=None, season="rainy", fever=True,
              state="dengue", daily_labs=("cbc",), ward_drugs=("paracetamol", "oresol")),
    Admission("S72.0", 0, "K24", (12, 5), ages=(65, 120), child_department=None, imaging=("xq_hang",),
              ward_drugs=("paracetamol",), discharge_drugs=("paracetamol",)),
    Admission("S82.2", 0, "K24", (7, 3), ages=(15, 70), child_department=None, imaging=("xq_cangchan",),
              ward_drugs=("paracetamol",), discharge_drugs=("paracetamol",)),
    Admission("S06.0", 0, "K19", (4, 2), ages=(10, 80), child_department=None, labs=("cbc",),
              ward_drugs=("paracetamol",)),
    Admission("S52.5", 0, "K24", (4, 2), ages=(8, 90), child_department=None, labs=("cbc",),
              ward_drugs=("paracetamol",)),
    Admission("N20.0", 0, "K19", (4, 2), ages=(20, 80), child_department=None, imaging=("sa_bung",),
              ward_drugs=("paracetamol",)),
    Admission("R07.4", 0, "K04", (3, 1), ages=(30, 120), child_department=None, imaging=("ecg",)),
    Admission("A09", 1, "K18", (4, 2), ages=(0, 12), fever=True, state="bacterial", labs=("cbc",),
              ward_drugs=("oresol",)),
    Admission("N39.0", 1.5, "K03", (5, 2), ages=(16, 120), child_department=None, sex="female", fever=True,
              state="bacterial", ward_drugs=("ciprofloxacin",), discharge_drugs=("ciprofloxacin",)),
    Admission("O80", 0, "K27", (3, 1), ages=(18, 42), sex="female", child_department=None, labs=("cbc",),
              imaging=("sa_thai",), ward_drugs=("paracetamol", "sat_folic"), discharge_drugs=("sat_folic",)),
    Admission("O82", 0, "K27", (5, 1.5), ages=(18, 42), sex="female", child_department=None, labs=("cbc",),
              imaging=("sa_thai",), ward_drugs=("cefuroxim", "paracetamol"), discharge_drugs=("sat_folic",)),
    Admission("R50.9", 0, "K03", (3, 1), fever=True, state="viral", labs=("cbc",), ward_drugs=("paracetamol",)),
    Admission("T78.4", 0, "K03", (2, 1), ward_drugs=("cetirizin",)),
)}
BIRTH_CAESAREAN_SHARE = 0.38  # caesarean share of births in Vietnam, MICS 2020-2021 (about 36-38%); approximate

_SEASON = {
    "cool": (1.4, 1.4, 1.3, 1.0, 0.7, 0.7, 0.7, 0.7, 0.8, 1.0, 1.3, 1.4),
    "rainy": (0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 1.6, 2.4, 2.6, 2.4, 1.6, 0.6),
}
def season_factor(season: str | None, month: int) -> float:
    return 1.0 if season is None else _SEASON[season][month - 1]


def _fits(case: Case | Admission, age: int, sex: str) -> bool:
    return case.ages[0] <= age <= case.ages[1] and (case.sex is None or case.sex == sex)


@cache
def _mix(kind: str, age: int, sex: str, month: int) -> Weighted[Any]:
    if kind == "admission":
        pool: tuple[Any, ...] = tuple(a for a in ADMISSIONS.values() if a.weight > 0)
    else:
        pool = ACUTE if kind == "acute" else EMERGENCY
    return Weighted((c, c.weight * season_factor(c.season, month)) for c in pool if _fits(c, age, sex))


def draw_case(rng: random.Random, kind: str, age: int, sex: str, month: int) -> Any:
    """A Case (acute, emergency) or Admission (direct admission) fitting the patient and month."""
    return _mix(kind, min(age, 100), sex, month).pick(rng)


def display(code: str) -> str:
    return data.icd10()[code]


def coding(code: str) -> dict[str, Any]:
    return {"coding": [{"system": ICD10, "code": code, "display": display(code)}], "text": display(code)}


def choose_regimen(rng: random.Random, regimens: Regimens) -> tuple[str, ...]:
    if not regimens:
        return ()
    options = [r for r, _ in regimens]
    return tuple(rng.choices(options, weights=[w for _, w in regimens])[0])
