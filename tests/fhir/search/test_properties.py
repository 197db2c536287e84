"""Property-based tests: search results equal a brute-force Python filter over the stored data.

The dataset is generated once per test (seeded), stored, and then many random queries are checked
against an independent implementation of the R4 matching rules written for this test.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benhan.fhir.dates import date_range
from benhan.fhir.text import normalize

from .conftest import LOINC, find, observation, patient, store

# Identifier systems of our own: these properties are about search semantics, so the values need not be
# valid CCCD/BHYT numbers (which the write path checks for the national systems; see tests/vn).
ID_A = "urn:benhan-test:id-a"
ID_B = "urn:benhan-test:id-b"

FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Đỗ", "Vũ", "Bùi", "Hoàng", "Ngô"]
GIVENS = ["Văn", "Thị", "Minh", "Ánh", "Đào", "Đức", "Hoa", "Anh", "Dũng", "Hương", "Tuấn"]
CODES = ["8480-6", "8462-4", "8867-4", "29463-7"]
DATES = ["1970", "1985-12", "1990-05-17", "1990-05", "2000", "2000-01-01", "2000-12-31", "2024-05-17T08:30:00Z",
         "2024-05", "2024-05-17", "1999-12-31T23:59:59Z"]
PREFIXES = ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def make_dataset(seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rnd = random.Random(seed)
    patients = []
    for i in range(30):
        given = rnd.sample(GIVENS, rnd.randint(1, 2))
        extra: dict[str, Any] = {}
        if rnd.random() < 0.8:
            extra["birth"] = rnd.choice(DATES[:7])
        idents = []
        if rnd.random() < 0.7:
            idents.append({"system": ID_A, "value": f"0010{rnd.randint(0, 5)}"})
        if rnd.random() < 0.5:
            idents.append({"system": ID_B, "value": f"DN{rnd.randint(0, 5)}"})
        if idents:
            extra["identifier"] = idents
        patients.append(patient(f"p{i}", rnd.choice(FAMILIES), given,
                                gender=rnd.choice(["male", "female", None]), **extra))
    observations = []
    for i in range(60):
        value = rnd.choice([None, 99.5, 100, 100.4, 100.5, 120, 80, 0.5, 1.25])
        obs = observation(f"o{i}", f"Patient/p{rnd.randrange(30)}", rnd.choice(CODES), value=value,
                          unit=rnd.choice(["mm[Hg]", "kg"]))
        when = rnd.random()
        if when < 0.5:
            obs["effectiveDateTime"] = rnd.choice(DATES)
        elif when < 0.8:
            start, end = sorted(rnd.sample(DATES, 2), key=lambda d: date_range(d)[0])
            if date_range(start)[0] <= date_range(end)[1]:
                obs["effectivePeriod"] = {"start": start, "end": end}
        observations.append(obs)
    return patients, observations


PATIENTS, OBSERVATIONS = make_dataset()
BY_ID = {p["id"]: p for p in PATIENTS}


# ---- brute force -----------------------------------------------------------------------------

def name_strings(p: dict[str, Any]) -> list[str]:
    out = []
    for n in p.get("name", []):
        out += [n["family"], *n["given"], " ".join([*n["given"], n["family"]]), " ".join([n["family"], *n["given"]])]
    return out


def string_match(p: dict[str, Any], q: str, modifier: str) -> bool:
    if modifier == "exact":
        return q in name_strings(p)
    norm = normalize(q)
    values = [normalize(s) for s in name_strings(p)]
    if modifier == "contains":
        return any(norm in v for v in values)
    return any(v.startswith(norm) for v in values)


def token_match(p: dict[str, Any], q: str) -> bool:
    idents = [(i["system"], i["value"]) for i in p.get("identifier", [])]
    if "|" not in q:
        return any(v == q for _, v in idents)
    system, value = q.split("|")
    return any(s == system and (not value or v == value) for s, v in idents)


def date_match(low: int, high: int, prefix: str, q: str, *, ranged: bool = False) -> bool:
    lo, hi = date_range(q)
    inside = lo <= low and high <= hi
    return {"": inside, "eq": inside, "ne": not inside, "gt": high > hi, "lt": low < lo,
            "ge": high > hi or inside, "le": low < lo or inside, "sa": low > hi, "eb": high < lo}[prefix]


def obs_dates(o: dict[str, Any]) -> list[tuple[int, int]]:
    if "effectiveDateTime" in o:
        return [date_range(o["effectiveDateTime"])]
    if "effectivePeriod" in o:
        p = o["effectivePeriod"]
        return [(date_range(p["start"])[0], date_range(p["end"])[1])]
    return []


def number_match(value: float, prefix: str, q: str) -> bool:
    dec = Decimal(q)
    exponent = dec.as_tuple().exponent
    assert isinstance(exponent, int)
    half = Decimal(5).scaleb(exponent - 1)
    lo, hi, x = float(dec - half), float(dec + half), float(dec)
    inside = lo <= value < hi
    return {"": inside, "eq": inside, "ne": not inside, "gt": value > x, "lt": value < x, "ge": value >= x,
            "le": value <= x, "sa": value > x, "eb": value < x}[prefix]


# ---- strategies --------------------------------------------------------------------------------

name_query = st.one_of(
    st.sampled_from(FAMILIES + GIVENS).map(lambda s: s[: max(1, len(s) // 2)]),
    st.sampled_from(FAMILIES + GIVENS),
    st.tuples(st.sampled_from(GIVENS), st.sampled_from(FAMILIES)).map(" ".join),
    st.text(alphabet="aăâdđeêoôơuưinhgtv ", min_size=1, max_size=4).filter(str.strip),
)
identifier_query = st.one_of(
    st.integers(0, 6).map(lambda i: f"0010{i}"),
    st.tuples(st.sampled_from([ID_A, ID_B]), st.integers(0, 6)).map(lambda t: f"{t[0]}|0010{t[1]}"),
    st.tuples(st.sampled_from([ID_A, ID_B]), st.integers(0, 6)).map(lambda t: f"{t[0]}|DN{t[1]}"),
    st.sampled_from([ID_A, ID_B]).map(lambda s: f"{s}|"),
)


def test_patient_string_token_date_properties(engine):
    store(engine, *PATIENTS)

    @SETTINGS
    @given(names=st.lists(name_query, min_size=1, max_size=3), modifier=st.sampled_from(["", "exact", "contains"]),
           idents=st.lists(identifier_query, max_size=2), prefix=st.sampled_from(PREFIXES),
           date=st.sampled_from([*DATES[:7], None]), gender=st.sampled_from([None, "male", "female"]))
    def check(names, modifier, idents, prefix, date, gender):
        mod = f":{modifier}" if modifier else ""
        escaped = [n.replace(",", "\\,") for n in names]
        parts = [f"name{mod}={','.join(escaped)}"]
        parts += [f"identifier={i}" for i in idents]  # repeated = AND
        if date:
            parts.append(f"birthdate={prefix}{date}")
        if gender:
            parts.append(f"gender={gender}")
        expected = set()
        for p in PATIENTS:
            ok = any(string_match(p, n, modifier) for n in names)
            ok = ok and all(token_match(p, i) for i in idents)
            if date:
                ok = ok and "birthDate" in p and date_match(*date_range(p["birthDate"]), prefix, date)
            if gender:
                ok = ok and p.get("gender") == gender
            if ok:
                expected.add(p["id"])
        assert find(engine, "Patient", "&".join(parts)) == expected, "&".join(parts)

    check()


def test_observation_reference_quantity_date_properties(engine):
    store(engine, *PATIENTS, *OBSERVATIONS)

    @SETTINGS
    @given(subjects=st.lists(st.integers(0, 31), max_size=3), codes=st.lists(st.sampled_from(CODES), max_size=2),
           qprefix=st.sampled_from(PREFIXES), qvalue=st.sampled_from(["100", "100.0", "99.5", "1e2", "120", "0.5"]),
           unit=st.sampled_from([None, "|http://unitsofmeasure.org|kg", "||mm[Hg]"]),
           use_quantity=st.booleans(), dprefix=st.sampled_from(PREFIXES), date=st.sampled_from([*DATES, None]),
           chain=st.sampled_from([None, *FAMILIES[:5]]))
    def check(subjects, codes, qprefix, qvalue, unit, use_quantity, dprefix, date, chain):
        parts = []
        if subjects:
            parts.append("subject=" + ",".join(f"Patient/p{s}" for s in subjects))
        if codes:
            parts.append("code=" + ",".join(f"{LOINC}|{c}" for c in codes))
        if use_quantity:
            parts.append(f"value-quantity={qprefix}{qvalue}{unit or ''}")
        if date:
            parts.append(f"date={dprefix}{date}")
        if chain:
            parts.append(f"subject:Patient.name={chain}")
        expected = set()
        for o in OBSERVATIONS:
            subject = o["subject"]["reference"].split("/")[1]
            ok = not subjects or subject in {f"p{s}" for s in subjects}
            ok = ok and (not codes or o["code"]["coding"][0]["code"] in codes)
            if use_quantity:
                q = o.get("valueQuantity")
                ok = ok and q is not None and number_match(q["value"], qprefix, qvalue)
                if ok and unit:
                    ok = q["code"] == unit.rsplit("|", 1)[1]
            if date:
                ok = ok and any(date_match(lo, hi, dprefix, date) for lo, hi in obs_dates(o))
            if chain:
                ok = ok and subject in BY_ID and string_match(BY_ID[subject], chain, "")
            if ok:
                expected.add(o["id"])
        query = "&".join(parts)
        assert find(engine, "Observation", query) == expected, query

    check()


def test_has_and_not_properties(engine):
    store(engine, *PATIENTS, *OBSERVATIONS)

    @SETTINGS
    @given(code=st.sampled_from(CODES), gender=st.sampled_from(["male", "female"]), negate=st.booleans())
    def check(code, gender, negate):
        having = {o["subject"]["reference"].split("/")[1] for o in OBSERVATIONS
                  if o["code"]["coding"][0]["code"] == code}
        gmod = ":not" if negate else ""
        expected = {p["id"] for p in PATIENTS if p["id"] in having
                    and ((p.get("gender") != gender) if negate else p.get("gender") == gender)}
        assert find(engine, "Patient", f"_has:Observation:subject:code={code}&gender{gmod}={gender}") == expected

    check()
