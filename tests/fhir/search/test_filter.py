"""``_filter`` (R4 search_filter.html): every supported operator on Vietnamese data, the same results as the
equivalent ordinary parameters, and/or/not/parentheses, 400s for malformed input and unsupported constructs,
and a property test against a brute-force evaluation of random expressions."""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benhan.fhir.dates import date_range
from benhan.fhir.errors import FhirError
from benhan.fhir.search.filter_expr import Compare, Logical, Not, parse
from benhan.fhir.text import normalize

from .conftest import BASE, CCCD, VN_PATIENTS, find, observation, patient, run, store

ICD = "http://hl7.org/fhir/sid/icd-10"


def fq(expr: str) -> str:
    """The query string of one ``_filter`` value."""
    return "_filter=" + quote(expr, safe="")


def filtered(engine: Any, rtype: str | None, expr: str, extra: str = "", **kwargs: Any) -> set[str]:
    return find(engine, rtype, fq(expr) + (f"&{extra}" if extra else ""), **kwargs)


def error(engine: Any, rtype: str | None, expr: str) -> FhirError:
    with pytest.raises(FhirError) as info:
        run(engine, rtype, fq(expr))
    return info.value


OBSERVATIONS = [
    observation("o1", "Patient/anh", "8480-6", value=120, date="2024-05-17T08:30:00+07:00"),
    observation("o2", "Patient/dao", "8480-6", value=99.5, date="2024-05-18"),
    observation("o3", "Patient/dao", "8462-4", value=80, date="2023-12-31"),
    observation("o4", "Patient/hoa", "29463-7", value=54.5, unit="kg"),
]


@pytest.fixture
def data(vn):
    store(vn, *OBSERVATIONS)
    return vn


# ---- parser ------------------------------------------------------------------------------------

def test_parse_tree_and_precedence():
    tree = parse('name co "anh" and birthdate ge 1990 or not (gender eq male)')
    assert isinstance(tree, Logical) and tree.op == "or"
    left, right = tree.items
    assert isinstance(left, Logical) and left.op == "and"  # "and" binds tighter than "or"
    assert isinstance(right, Not) and isinstance(right.item, Compare)
    first = left.items[0]
    assert isinstance(first, Compare) and first.path == ("name",) and first.op == "co" and first.value == "anh"
    chained = parse("subject.name SW \"Trần\"")
    assert isinstance(chained, Compare) and chained.path == ("subject", "name") and chained.op == "sw"
    escaped = parse(r'name eq "a \"b\" \\ c\u00e1,d"')
    assert isinstance(escaped, Compare) and escaped.value == 'a "b" \\ cá,d'
    assert isinstance(parse("((gender eq male))"), Compare)
    assert isinstance(parse("not(gender eq male)"), Not)
    with pytest.raises(FhirError) as info:
        parse("   ")  # the search itself treats a blank _filter like any empty value: no restriction
    assert "character 4" in info.value.issues[0].en and "empty" in info.value.issues[0].en


# ---- operators, each against the equivalent ordinary query --------------------------------------

@pytest.mark.parametrize(("expr", "ordinary", "expected"), [
    ('name co "anh"', "name:contains=anh", {"anh"}),
    ('name co "ÁNH"', "name:contains=ÁNH", {"anh"}),  # case- and diacritics-insensitive
    ('name sw "Đỗ"', "name=Đỗ", {"hoa"}),
    ('name sw "do"', "name=do", {"hoa"}),
    ("name sw tran", "name=tran", {"dao"}),
    ('name co "thi"', "name:contains=thi", {"dao", "hoa"}),
    ("family co ng", "family:contains=ng", {"anh", "duc"}),
    ("gender eq male", "gender=male", {"anh", "duc"}),
    ("gender ne male", "gender:not=male", {"dao", "hoa"}),
    (f'identifier eq "{CCCD}|001090000001"', f"identifier={CCCD}|001090000001", {"anh"}),
    ("identifier eq 079185000002", "identifier=079185000002", {"dao"}),
    (f"identifier eq {CCCD}|", f"identifier={CCCD}|", {"anh", "dao", "duc"}),
    ("active eq true", "active=true", {"anh", "dao"}),
    ("birthdate eq 1990-05-17", "birthdate=eq1990-05-17", {"anh"}),
    ("birthdate ne 1990-05-17", "birthdate=ne1990-05-17", {"dao", "duc", "hoa"}),
    ("birthdate ge 1990-01-01", "birthdate=ge1990-01-01", {"anh", "duc"}),
    ("birthdate gt 1990", "birthdate=gt1990", {"duc"}),
    ("birthdate le 1985-12", "birthdate=le1985-12", {"dao", "hoa"}),
    ("birthdate lt 1985-12-01", "birthdate=lt1985-12-01", {"hoa"}),
    ("birthdate sa 1990", "birthdate=sa1990", {"duc"}),
    ("birthdate eb 1985", "birthdate=eb1985", {"hoa"}),
    ("birthdate ap 1990-05-17", "birthdate=ap1990-05-17", {"anh"}),
    ("birthdate pr true", "birthdate:missing=false", {"anh", "dao", "duc", "hoa"}),
    ("_id eq dao", "_id=dao", {"dao"}),
    ("_id ne dao", "_id:not=dao", {"anh", "duc", "hoa"}),
    ("_lastUpdated ge 2000", "_lastUpdated=ge2000", {"anh", "dao", "duc", "hoa"}),
    ("_lastUpdated lt 2000", "_lastUpdated=lt2000", set()),
    ("_lastUpdated pr true", None, {"anh", "dao", "duc", "hoa"}),
    ('address pr false', "address:missing=true", {"anh", "dao", "duc", "hoa"}),
])
def test_patient_operators_equal_ordinary_queries(data, expr, ordinary, expected):
    assert filtered(data, "Patient", expr) == expected, expr
    if ordinary is not None:
        assert find(data, "Patient", ordinary) == expected, ordinary


@pytest.mark.parametrize(("expr", "expected"), [
    ('name eq "nguyen"', {"anh"}),  # a whole name part, not a prefix
    ('name eq "NGUYỄN VĂN ÁNH"', {"anh"}),  # the whole name, any case and accents
    ('name eq "ngu"', set()),
    ('name eq "đào"', {"dao"}),
    ('name ne "thi"', {"anh", "duc"}),  # no part equal to "thi"
    ('name ew "ao"', {"dao"}),
    ('name ew "ĐỨC"', {"duc"}),
    ('name ew "c"', {"duc"}),
    ('name ew "%"', set()),  # LIKE wildcards are literal
    ('name co "_"', set()),
    ('name eq "a,b"', set()),  # commas inside a filter value are not ORs
    ("birthdate po 1990", {"anh"}),
    ("birthdate po 1985-12-01", {"dao"}),
    ("birthdate po 2000-06-15", {"duc"}),  # the year 2000 overlaps that day
    ("birthdate po 1975-03-31T10:00:00Z", {"hoa"}),
    ("birthdate po 1991", set()),
])
def test_string_equality_ends_with_and_overlaps(data, expr, expected):
    assert filtered(data, "Patient", expr) == expected, expr


@pytest.mark.parametrize(("expr", "ordinary", "expected"), [
    ("subject eq Patient/dao", "subject=Patient/dao", {"o2", "o3"}),
    ("subject re Patient/dao", "subject=Patient/dao", {"o2", "o3"}),
    (f"subject re {BASE}/Patient/anh", f"subject={BASE}/Patient/anh", {"o1"}),
    ("subject ne Patient/dao", None, {"o1", "o4"}),
    ('subject.name co "đào"', "subject.name:contains=đào", {"o2", "o3"}),
    ("subject.gender eq female", "subject.gender=female", {"o2", "o3", "o4"}),
    ("subject.birthdate lt 1980", "subject.birthdate=lt1980", {"o4"}),
    ("value-quantity gt 100", "value-quantity=gt100", {"o1"}),
    ("value-quantity le 99.5", "value-quantity=le99.5", {"o2", "o3", "o4"}),
    ("value-quantity eq 54.5|http://unitsofmeasure.org|kg", "value-quantity=54.5|http://unitsofmeasure.org|kg",
     {"o4"}),
    ("value-quantity ap 100", "value-quantity=ap100", {"o2"}),
    ("value-quantity ne 120", "value-quantity=ne120", {"o2", "o3", "o4"}),
    ("date ge 2024-05-17", "date=ge2024-05-17", {"o1", "o2"}),
    ("date po 2024-05", None, {"o1", "o2"}),
    ("date pr false", "date:missing=true", {"o4"}),
    ("code eq http://loinc.org|8480-6", "code=http://loinc.org|8480-6", {"o1", "o2"}),
    ("code ne 8480-6", "code:not=8480-6", {"o3", "o4"}),
    ("code-value-quantity pr true", None, {"o1", "o2", "o3", "o4"}),
])
def test_observation_operators_equal_ordinary_queries(data, expr, ordinary, expected):
    assert filtered(data, "Observation", expr) == expected, expr
    if ordinary is not None:
        assert find(data, "Observation", ordinary) == expected, ordinary


@pytest.mark.parametrize(("expr", "expected"), [
    ('gender eq female and name sw "tran"', {"dao"}),
    ('gender eq female or name sw "dang"', {"dao", "duc", "hoa"}),
    ('gender eq male and birthdate ge 1995 or name eq "hoa"', {"duc", "hoa"}),
    ('gender eq male and (birthdate ge 1995 or name eq "hoa")', {"duc"}),
    ("not (gender eq male)", {"dao", "hoa"}),
    ("not (gender eq male or active eq true)", {"hoa"}),
    ("not (not (gender eq male))", {"anh", "duc"}),
    ('NOT (gender EQ male) AND name CO "thi"', {"dao", "hoa"}),
    ('(name sw "Nguyễn" or name sw "Đặng") and not (active eq false)', {"anh"}),
])
def test_logical_combinations(data, expr, expected):
    assert filtered(data, "Patient", expr) == expected, expr


def test_anded_with_other_parameters_and_repeated(data):
    assert filtered(data, "Patient", "gender eq female", "birthdate=lt1980") == {"hoa"}
    assert find(data, "Patient", fq("gender eq female") + "&" + fq('name co "dao"')) == {"dao"}
    assert filtered(data, "Patient", "gender eq female", "_filter=") == {"dao", "hoa"}  # empty: no restriction
    bundle = run(data, "Patient", fq("gender eq male") + "&_sort=-birthdate&_total=accurate")
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["duc", "anh"] and bundle["total"] == 2
    assert not any(e["search"]["mode"] == "outcome" for e in bundle["entry"])  # nothing reported as ignored
    # on a system-level search the common parameters work
    assert filtered(data, None, "_id eq dao or _id eq o1") == {"dao", "o1"}


def test_terminology_operators(term_engine):
    conds = [{"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p"},
              "code": {"coding": [{"system": ICD, "code": code}]}}
             for cid, code in [("i10", "I10"), ("i11", "I11"), ("i11-0", "I11.0"), ("m01", "M01")]]
    store(term_engine, patient("p", "Lê", ["Văn", "Tám"], gender="male"), *conds)
    pairs = [(f"code ss {ICD}|I11", f"code:below={ICD}|I11", {"i11", "i11-0"}),
             (f"code sb {ICD}|I11.0", f"code:above={ICD}|I11.0", {"i11", "i11-0"}),
             ("code in urn:benhan:fhir:ValueSet:icd-10-vn", "code:in=urn:benhan:fhir:ValueSet:icd-10-vn",
              {"i10", "i11", "i11-0", "m01"}),
             (f"code ni urn:benhan:fhir:ValueSet:icd-10-vn or code eq {ICD}|M01",
              f"code={ICD}|M01", {"m01"})]
    for expr, ordinary, expected in pairs:
        assert filtered(term_engine, "Condition", expr) == expected, expr
        assert find(term_engine, "Condition", ordinary) == expected, ordinary
    assert filtered(term_engine, "Patient", "gender in http://hl7.org/fhir/ValueSet/administrative-gender") == {"p"}


# ---- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "where"), [
    ('name eq "anh', "character 9"),  # the opening quote
    ("(gender eq male", "closing the '(' at character 1"),
    ("gender eq male)", "character 15"),
    ("gender xx male", "character 8"),
    ("gender eq", "character 10"),
    ("gender eq ", "character 11"),
    ("gender", "character 7"),
    ("gender eq male and", "character 19"),
    ("gender eq male gender eq female", "character 16"),
    ("= male", "character 1"),
    ("gender:not eq male", "character 7"),
    (r'name eq "a\qb"', "character 11"),
    ('name eq a"b', "character 10"),
    ("not gender eq male", "character 5"),  # "not" needs parentheses
])
def test_malformed_filters_are_400_naming_the_place(vn, expr, where):
    err = error(vn, "Patient", expr)
    issue = err.issues[0]
    assert err.status == 400 and issue.code == "invalid" and issue.expression == "_filter"
    assert where in issue.en and issue.vi.startswith("_filter không hợp lệ"), (expr, issue.en)


@pytest.mark.parametrize(("expr", "fragment"), [
    ('name gt "a"', "operator 'gt' is not supported for the string parameter 'name'"),
    ("gender co m", "operator 'co' is not supported for the token parameter 'gender'"),
    ("organization co x", "operator 'co' is not supported for the reference parameter 'organization'"),
    ("_id co a", "operator 'co' is not supported for the token parameter '_id'"),
    ("birthdate ss 2000", "operator 'ss' is not supported for the date parameter 'birthdate'"),
    ("link[type eq seealso].other pr true", "filters on the parts of a parameter ('link[...]')"),
    ("_list eq 1", "'_list' cannot be used inside _filter"),
    ("_has eq 1", "'_has' cannot be used inside _filter"),
])
def test_unsupported_constructs_are_400_not_supported(vn, expr, fragment):
    err = error(vn, "Patient", expr)
    issue = err.issues[0]
    assert err.status == 400 and issue.code == "not-supported" and issue.expression == "_filter", issue
    assert fragment in issue.en and issue.vi.startswith("_filter"), issue.en


def test_unknown_parameter_and_bad_values_are_400(vn):
    # without Prefer: handling=strict too: ignoring one side of an "or" would change the answer
    err = error(vn, "Patient", 'gender eq male or bhyt eq "x"')
    assert err.status == 400 and err.issues[0].expression == "_filter"
    assert "comparison 'bhyt eq \"x\"' (character 19)" in err.issues[0].en and "bhyt" in err.issues[0].vi
    bad_date = error(vn, "Patient", "birthdate ge 1990-13")
    assert bad_date.issues[0].code == "invalid" and "'birthdate ge 1990-13'" in bad_date.issues[0].en
    assert error(vn, "Patient", "birthdate pr maybe").issues[0].code == "invalid"
    assert error(vn, "Patient", 'name eq ""').issues[0].en.endswith("the value is empty")
    assert error(vn, "Patient", "birthdate po ge2000").issues[0].code == "invalid"
    assert error(vn, "Patient", "gender eq male and " * 70 + "gender eq male").issues[0].code == "not-supported"
    with pytest.raises(FhirError) as info:
        run(vn, "Patient", "_filter:exact=gender%20eq%20male")
    assert info.value.issues[0].code == "not-supported"


def test_http_and_capability_statement(client):
    for p in VN_PATIENTS[:2]:
        assert client.put(f"Patient/{p['id']}", p).status_code in (200, 201)
    resp = client.get("Patient?" + fq('name co "đào" or gender eq male'))
    assert resp.status_code == 200
    assert {e["resource"]["id"] for e in resp.json()["entry"]} == {"anh", "dao"}
    bad = client.get("Patient?" + fq("name co"))
    assert bad.status_code == 400 and bad.json()["issue"][0]["expression"] == ["_filter"]
    cs = client.get("metadata").json()
    params = {p["name"]: p for p in next(r for r in cs["rest"][0]["resource"] if r["type"] == "Patient")["searchParam"]}
    assert params["_filter"]["type"] == "special" and params["_list"]["type"] == "special"


# ---- property: random expressions equal a brute-force evaluation -------------------------------

FAMILIES = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Đỗ"]
GIVENS = ["Văn", "Thị", "Minh", "Ánh", "Đào", "Đức", "Hoa", "Anh"]
BIRTHS = ["1970", "1985-12", "1990-05-17", "1990-05", "2000", "2000-01-01"]
SYSTEM = "urn:benhan-test:filter-id"


def _dataset() -> list[dict[str, Any]]:
    rnd = random.Random(11)
    out = []
    for i in range(24):
        extra: dict[str, Any] = {}
        if rnd.random() < 0.8:
            extra["birth"] = rnd.choice(BIRTHS)
        if rnd.random() < 0.6:
            extra["identifier"] = [{"system": SYSTEM, "value": f"ID{rnd.randint(0, 3)}"}]
        out.append(patient(f"f{i}", rnd.choice(FAMILIES), rnd.sample(GIVENS, rnd.randint(1, 2)),
                           gender=rnd.choice(["male", "female", None]), **extra))
    return out


PEOPLE = _dataset()


def _names(p: dict[str, Any]) -> list[str]:
    n = p["name"][0]
    return [normalize(x) for x in (n["family"], *n["given"], " ".join([*n["given"], n["family"]]),
                                   " ".join([n["family"], *n["given"]]))]


def _date_holds(p: dict[str, Any], op: str, value: str) -> bool:
    if "birthDate" not in p:
        return False
    low, high = date_range(p["birthDate"])
    lo, hi = date_range(value)
    inside = lo <= low and high <= hi
    return {"eq": inside, "ne": not inside, "gt": high > hi, "lt": low < lo, "ge": high > hi or inside,
            "le": low < lo or inside, "sa": low > hi, "eb": high < lo, "po": low <= hi and high >= lo}[op]


def _holds(p: dict[str, Any], param: str, op: str, value: str) -> bool:
    if param == "name":
        v, names = normalize(value), _names(p)
        return {"eq": v in names, "ne": v not in names, "co": any(v in n for n in names),
                "sw": any(n.startswith(v) for n in names), "ew": any(n.endswith(v) for n in names)}[op]
    if param == "gender":
        if op == "pr":
            return ("gender" in p) == (value == "true")
        return (p.get("gender") == value) == (op == "eq")  # ne = no such code (like :not)
    if param == "identifier":
        has = any(i["value"] == value.split("|")[-1] for i in p.get("identifier", []))
        return has if op == "eq" else not has
    if op == "pr":
        return ("birthDate" in p) == (value == "true")
    return _date_holds(p, op, value)


comparison = st.one_of(
    st.tuples(st.just("name"), st.sampled_from(["eq", "ne", "co", "sw", "ew"]),
              st.one_of(st.sampled_from(FAMILIES + GIVENS),
                        st.sampled_from(FAMILIES + GIVENS).map(lambda s: s[-2:].upper()),
                        st.sampled_from(FAMILIES + GIVENS).map(lambda s: normalize(s)[:2]))),
    st.tuples(st.just("gender"), st.sampled_from(["eq", "ne"]), st.sampled_from(["male", "female"])),
    st.tuples(st.just("gender"), st.just("pr"), st.sampled_from(["true", "false"])),
    st.tuples(st.just("identifier"), st.sampled_from(["eq", "ne"]),
              st.sampled_from(["ID0", "ID1", f"{SYSTEM}|ID2", "ID3"])),
    st.tuples(st.just("birthdate"), st.sampled_from(["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "po"]),
              st.sampled_from(BIRTHS)),
    st.tuples(st.just("birthdate"), st.just("pr"), st.sampled_from(["true", "false"])),
)


def _leaf(c: tuple[str, str, str]) -> tuple[str, Any]:
    param, op, value = c
    text = f'{param} {op} "{value}"' if param == "name" else f"{param} {op} {value}"
    return text, lambda p: _holds(p, param, op, value)


def _combine(children: Any) -> Any:
    def build(kind: str, parts: list[tuple[str, Any]]) -> tuple[str, Any]:
        if kind == "not":
            text, f = parts[0]
            return f"not ({text})", lambda p: not f(p)
        joiner = f" {kind} "
        fs = [f for _, f in parts]
        text = joiner.join(f"({t})" for t, _ in parts)
        return text, (lambda p: all(f(p) for f in fs)) if kind == "and" else (lambda p: any(f(p) for f in fs))
    return st.one_of(
        st.tuples(st.just("not"), st.lists(children, min_size=1, max_size=1)),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)),
    ).map(lambda t: build(*t))


expressions = st.recursive(comparison.map(_leaf), _combine, max_leaves=6)
# flat chains without parentheses exercise the precedence of "and" over "or"
flat = st.lists(comparison.map(_leaf), min_size=2, max_size=4).flatmap(
    lambda leaves: st.lists(st.sampled_from(["and", "or"]), min_size=len(leaves) - 1,
                            max_size=len(leaves) - 1).map(lambda ops: _flat(leaves, ops)))


def _flat(leaves: list[tuple[str, Any]], ops: list[str]) -> tuple[str, Any]:
    groups: list[list[Any]] = [[leaves[0][1]]]  # OR of ANDs
    text = leaves[0][0]
    for op, (t, f) in zip(ops, leaves[1:], strict=True):
        text += f" {op} {t}"
        if op == "and":
            groups[-1].append(f)
        else:
            groups.append([f])
    return text, lambda p: any(all(f(p) for f in g) for g in groups)


def test_random_filters_equal_brute_force(engine):
    store(engine, *PEOPLE)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(expr=st.one_of(expressions, flat))
    def check(expr):
        text, holds = expr
        expected = {p["id"] for p in PEOPLE if holds(p)}
        assert filtered(engine, "Patient", text) == expected, text

    check()
