"""``_text`` (narrative) and ``_content`` (whole resource): full-text search on both engines.

Vietnamese data throughout: matching ignores case and diacritics like string search (``Nguyễn`` =
``nguyen``, ``Đỗ`` = ``Do``). The last test compares random queries with a brute-force evaluation written
here from the R4/OData rules, over strings folded by :func:`benhan.fhir.text.normalize`.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from benhan.fhir.errors import FhirError
from benhan.fhir.repository import Repository
from benhan.fhir.special_tables import idx_text
from benhan.fhir.text import normalize

from .conftest import BASE, VN_PATIENTS, find, ids, run, store

XHTML = "http://www.w3.org/1999/xhtml"


def narrative(*paragraphs: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">' + "".join(f"<p>{p}</p>" for p in paragraphs)
            + "</div>"}


def condition(cid: str, patient: str, code_text: str, *paragraphs: str, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{patient}"},
                           "code": {"text": code_text}}
    if paragraphs:
        res["text"] = narrative(*paragraphs)
    res.update(extra)
    return res


CONDITIONS = [
    condition("c1", "anh", "Ung thư gan", "Bệnh nhân <b>Nguyễn Văn Ánh</b>: di căn xương và gan.",
              "Đau đầu, sốt nhẹ."),
    condition("c2", "dao", "Viêm phổi", "Di căn <i>phổi</i>; không đau đầu.", "Ho kéo dài"),
    condition("c3", "duc", "Gãy xương đùi", "Do ngã xe máy. Đau xương đùi trái."),
    condition("c4", "hoa", "Tăng huyết áp"),  # no narrative
    condition("c5", "hoa", "Sốt xuất huyết", "Sốt cao 39,5, đau<br/>đầu",
              note=[{"text": "Theo dõi tiểu cầu; bác sĩ Đỗ Thị Hoa"}]),
]


@pytest.fixture
def clinic(engine):
    store(engine, *VN_PATIENTS, *CONDITIONS)
    return engine


def test_content_is_case_and_diacritics_insensitive(clinic):
    assert find(clinic, "Patient", "_content=nguyen") == {"anh"}
    assert find(clinic, "Patient", "_content=NGUYỄN") == {"anh"}
    assert find(clinic, "Patient", "_content=Đặng") == {"duc"}
    assert find(clinic, "Patient", "_content=dang") == {"duc"}
    assert find(clinic, "Patient", "_content=DN4010123456789") == {"anh"}  # identifier values are content
    assert find(clinic, "Condition", "_content=xuong") == {"c1", "c3"}  # narrative and code.text
    assert find(clinic, "Condition", "_content=tieu cau") == {"c5"}  # an Annotation
    assert find(clinic, "Patient", "_content=nguy") == set()  # whole words, not prefixes


def test_text_searches_the_narrative_only(clinic):
    assert find(clinic, "Condition", "_text=gan") == {"c1"}
    assert find(clinic, "Condition", "_text=xuong") == {"c1", "c3"}
    assert find(clinic, "Condition", "_text=huyet") == set()  # only in code.text: content, not narrative
    assert find(clinic, "Condition", "_content=huyet") == {"c4", "c5"}
    assert find(clinic, "Condition", "_text=tieu") == set()  # only in a note
    assert find(clinic, "Condition", "_text=Đỗ") == {"c3"}  # "Do ngã xe máy": Đỗ is Do without diacritics
    assert find(clinic, "Condition", "_content=do") == {"c3", "c5"}  # and Đỗ Thị Hoa in c5's note
    assert find(clinic, "Condition", "_text=nguyen van anh") == {"c1"}  # inline <b> does not split words
    assert find(clinic, "Patient", "_text=nguyen") == set()  # patients have no narrative here


def test_or_and_not_and_the_r4_example(clinic):
    # R4's example, in Vietnamese: "(bone OR liver) and metastases"
    assert find(clinic, "Condition", "_text=(xuong OR gan) and di can") == {"c1"}
    assert find(clinic, "Condition", "_text=(xuong OR phoi) AND di can") == {"c1", "c2"}
    assert find(clinic, "Condition", "_text=xuong or phoi") == {"c1", "c2", "c3"}
    assert find(clinic, "Condition", "_text=dau dau") == {"c1", "c2", "c3", "c5"}  # two words: AND
    assert find(clinic, "Condition", "_text=sot,ho") == {"c1", "c2", "c5"}  # commas OR
    assert find(clinic, "Condition", "_text=sot&_text=ho") == set()  # repeated parameters AND
    assert find(clinic, "Condition", "_text=dau&_text=di can") == {"c1", "c2"}
    assert find(clinic, "Condition", "_text=dau NOT sot") == {"c2", "c3"}
    # NOT also matches resources without any narrative (c4): they do not contain the word
    assert find(clinic, "Condition", "_text=NOT sot") == {"c2", "c3", "c4"}
    assert find(clinic, "Condition", "_text=not (sot or ho)") == {"c3", "c4"}
    assert find(clinic, "Condition", '_text="and"') == set()  # a quoted keyword is a word


def test_phrases_match_adjacent_words_within_one_value(clinic):
    assert find(clinic, "Condition", '_text="di can xuong"') == {"c1"}
    assert find(clinic, "Condition", '_text="dau dau"') == {"c1", "c2"}  # c5: "đau<br/>đầu" are two lines
    assert find(clinic, "Condition", "_text=dau dau") >= {"c5"}  # as words, c5 has both
    assert find(clinic, "Condition", '_text="xuong dui"') == {"c3"}
    assert find(clinic, "Condition", '_text="dui xuong"') == set()  # order matters
    # the two narrative paragraphs of c1 are two values: a phrase never runs from one into the next
    assert find(clinic, "Condition", '_text="gan dau"') == set()
    assert find(clinic, "Condition", "_text=gan dau") == {"c1"}
    # a term with punctuation is a phrase of its words: "39-5" is "39 5", as "39,5" is written
    assert find(clinic, "Condition", "_text=39-5") == {"c5"}
    assert find(clinic, "Condition", "_text=5-39") == set()


def test_content_includes_narrative_and_contained_resources(engine):
    order = {"resourceType": "MedicationRequest", "id": "toa-7", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/anh"}, "medicationReference": {"reference": "#m1"},
             "contained": [{"resourceType": "Medication", "id": "m1", "code": {"text": "Paracetamol 500 mg"}}],
             "text": narrative("Đơn thuốc hạ sốt")}
    store(engine, *VN_PATIENTS, order)
    assert find(engine, "MedicationRequest", "_content=paracetamol") == {"toa-7"}  # the whole resource
    assert find(engine, "MedicationRequest", "_content=ha sot") == {"toa-7"}  # its narrative too
    assert find(engine, "MedicationRequest", "_text=paracetamol") == set()
    assert find(engine, "Medication", "_content=paracetamol") == set()  # contained: not a stored Medication
    assert find(engine, "Medication", "_content=paracetamol&_contained=true") == {"toa-7"}
    bundle = run(engine, "Medication", "_content=paracetamol&_contained=true&_containedType=contained")
    assert [e["fullUrl"] for e in bundle["entry"]] == [f"{BASE}/MedicationRequest/toa-7#m1"]
    assert find(engine, "MedicationRequest", "_content=active") == {"toa-7"}  # codes are content
    for machinery in ("toa", "m1", "anh", "medicationrequest"):  # ids, references, resourceType: not content
        assert find(engine, "MedicationRequest", f"_content={machinery}") == set(), machinery


def test_update_and_delete_keep_the_index_current(clinic):
    store(clinic, condition("c1", "anh", "Viêm gan B", "Viêm gan siêu vi B mạn"))
    assert find(clinic, "Condition", "_text=xuong") == {"c3"}  # the old narrative no longer matches
    assert find(clinic, "Condition", "_text=sieu vi") == {"c1"}
    assert find(clinic, "Condition", "_content=ung thu") == set()
    with clinic.begin() as conn:
        Repository(conn, base_url=BASE).delete("Condition", "c3")
    assert find(clinic, "Condition", "_text=xuong") == set()
    with clinic.connect() as conn:  # the deleted version's row is gone; one row per current resource
        keys = conn.execute(select(idx_text.c.res_pk, idx_text.c.res_type)).all()
    assert len(keys) == len(VN_PATIENTS) + len(CONDITIONS) - 1
    store(clinic, condition("c4", "hoa", "Tăng huyết áp", "Huyết áp 160/100"))  # gains a narrative
    assert find(clinic, "Condition", "_text=huyet ap") == {"c4"}
    assert find(clinic, "Condition", "_text:missing=true") == set()
    store(clinic, condition("c4", "hoa", "Tăng huyết áp"))  # and loses it
    assert find(clinic, "Condition", "_text:missing=true") == {"c4"}


def test_paging_and_totals(engine):
    store(engine, *VN_PATIENTS, *[condition(f"s{i:02d}", "anh", "Sốt", f"Sốt ngày {i}") for i in range(23)],
          condition("other", "anh", "Ho", "Ho khan"))
    first = run(engine, "Condition", "_text=sot&_count=10&_total=accurate")
    assert first["total"] == 23 and len(ids(first)) == 10
    seen, bundle = [], first
    while True:
        seen += ids(bundle)
        nxt = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not nxt:
            break
        bundle = run(engine, "Condition", nxt[0].split("?", 1)[1])
    assert sorted(seen) == [f"s{i:02d}" for i in range(23)]
    assert run(engine, "Condition", "_text=sot&_summary=count")["total"] == 23
    assert run(engine, "Condition", "_text=sot ngay 7&_summary=count")["total"] == 1


def test_missing_chains_and_system_searches(clinic):
    assert find(clinic, "Condition", "_text:missing=true") == {"c4"}
    assert find(clinic, "Condition", "_text:missing=false") == {"c1", "c2", "c3", "c5"}
    assert find(clinic, "Patient", "_content:missing=false") == {p["id"] for p in VN_PATIENTS}
    assert find(clinic, "Condition", "subject:Patient._content=nguyen") == {"c1"}  # a chain ending in _content
    assert find(clinic, "Patient", "_has:Condition:subject:_text=di can") == {"anh", "dao"}
    assert find(clinic, None, "_content=nguyen") == {"anh", "c1"}  # system level: any type
    assert find(clinic, None, "_type=Patient,Condition&_content=hoa") == {"hoa", "c5"}


@pytest.mark.parametrize("query", [
    "_text=(xuong", "_text=xuong)", '_text="di can', "_text=xuong OR", "_text=AND", "_text=NOT", "_text=()",
    "_text=-", "_text=***", "_content=a OR OR b", "_text=" + "x " * 40, "_text=" + "(" * 20 + "x" + ")" * 20,
])
def test_malformed_queries_answer_400(clinic, query):
    with pytest.raises(FhirError) as err:
        run(clinic, "Condition", query)
    issue = err.value.issues[0]
    assert err.value.status == 400 and issue.expression == query.split("=")[0]
    assert issue.location == f"http.{query.split('=')[0]}"


@pytest.mark.parametrize("modifier", ["exact", "contains", "not", "text", "below"])
def test_unsupported_modifiers_answer_400(clinic, modifier):
    for param in ("_text", "_content"):
        with pytest.raises(FhirError) as err:
            run(clinic, "Condition", f"{param}:{modifier}=gan")
        assert err.value.status == 400 and err.value.issues[0].code == "not-supported"


def test_strict_handling_and_what_stays_unsupported(clinic):
    assert find(clinic, "Condition", "_text=gan", strict=True) == {"c1"}  # supported: no warning, no 400
    with pytest.raises(FhirError) as err:  # Condition has no named query of that name (named/)
        run(clinic, "Condition", "_text=gan&_query=x")
    assert err.value.status == 400
    with pytest.raises(FhirError) as err:
        run(clinic, "Condition", "_sort=_text")
    assert err.value.status == 400
    with pytest.raises(FhirError):  # not allowed inside _filter (not a comparison on an element)
        run(clinic, "Condition", '_filter=_text eq "gan"')
    assert find(clinic, "Bundle", "_content=x") == set()  # _content is on every resource type
    bundle = run(clinic, "Bundle", "_text=x")  # _text only on DomainResources: unknown on Bundle, reported
    assert any(e["search"]["mode"] == "outcome" for e in bundle["entry"])


def test_http_errors_and_capability_statement(client):
    resp = client.get("Condition?_text=(gan")
    assert resp.status_code == 400
    issue = resp.json()["issue"][0]
    assert issue["location"] == ["http._text"] and issue["expression"] == ["_text"]
    statement = client.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    params = {p["name"]: p for p in resources["Condition"]["searchParam"]}
    assert params["_text"]["definition"] == "http://hl7.org/fhir/SearchParameter/DomainResource-text"
    assert params["_content"]["definition"] == "http://hl7.org/fhir/SearchParameter/Resource-content"
    assert "_query" not in params
    assert "_content" in {p["name"] for p in resources["Bundle"]["searchParam"]}
    assert "_text" not in {p["name"] for p in resources["Bundle"]["searchParam"]}
    created = client.post("Condition", {**CONDITIONS[2], "subject": {"reference": "urn:benhan-test:x"}})
    assert created.status_code == 201
    found = client.get("Condition?_text=ngã xe").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created.json()["id"]]


# ---- brute force -------------------------------------------------------------------------------

VOCABULARY = ["Nguyễn", "nguyen", "Đỗ", "Do", "đau", "đầu", "sốt", "ho", "gan", "xương", "di", "căn", "phổi",
              "Ánh", "anh", "huyết", "áp", "39", "8480-6"]


def _brute_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", normalize(text))


def make_conditions(seed: int = 11) -> list[dict[str, Any]]:
    rnd = random.Random(seed)

    def sentence() -> str:
        return " ".join(rnd.choice(VOCABULARY) for _ in range(rnd.randint(1, 5))) + rnd.choice(["", ".", ",", " —"])

    out = []
    for i in range(40):
        paragraphs = [sentence() for _ in range(rnd.randint(0, 3))]
        notes = [{"text": sentence()} for _ in range(rnd.randint(0, 2))]
        out.append(condition(f"r{i}", "anh", sentence(), *paragraphs, **({"note": notes} if notes else {})))
    return out


RANDOM_CONDITIONS = make_conditions()


def _values(res: dict[str, Any], param: str) -> list[list[str]]:
    """The values (as word lists) that ``param`` searches, read from the resource as generated."""
    div = res.get("text", {}).get("div", "")
    paragraphs = re.findall(r"<p>(.*?)</p>", div)
    if param == "_text":
        return [_brute_words(p) for p in paragraphs]
    strings = [*paragraphs, res["code"]["text"], *(n["text"] for n in res.get("note", []))]
    return [_brute_words(s) for s in strings]


def _holds(tree: Any, values: list[list[str]]) -> bool:
    kind = tree[0]
    if kind == "term":
        wanted = _brute_words(tree[1])
        return any(v[i:i + len(wanted)] == wanted for v in values for i in range(len(v)))
    if kind == "not":
        return not _holds(tree[1], values)
    results = [_holds(item, values) for item in tree[1]]
    return all(results) if kind == "and" else any(results)


def _render(tree: Any, rnd: random.Random) -> str:
    kind = tree[0]
    if kind == "term":
        return f'"{tree[1]}"' if " " in tree[1] or tree[1].upper() in ("AND", "OR", "NOT") else tree[1]
    if kind == "not":
        return f"{rnd.choice(['NOT', 'not', 'Not'])} ({_render(tree[1], rnd)})"
    joiner = {"and": rnd.choice([" ", " AND ", " and "]), "or": rnd.choice([" OR ", " or "])}[kind]
    return "(" + joiner.join(_render(item, rnd) for item in tree[1]) + ")"


term = st.one_of(st.sampled_from(VOCABULARY),
                 st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(VOCABULARY)).map(" ".join))
trees = st.recursive(
    term.map(lambda t: ("term", t)),
    lambda inner: st.one_of(inner.map(lambda t: ("not", t)),
                            st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=2, max_size=3))),
    max_leaves=6,
)


def test_random_queries_equal_a_brute_force_evaluation(engine):
    store(engine, *VN_PATIENTS, *RANDOM_CONDITIONS)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(param=st.sampled_from(["_text", "_content"]), queries=st.lists(trees, min_size=1, max_size=2),
           seed=st.integers(0, 1000))
    def check(param, queries, seed):
        rnd = random.Random(seed)
        value = ",".join(_render(q, rnd) for q in queries)
        expected = {res["id"] for res in RANDOM_CONDITIONS if any(_holds(q, _values(res, param)) for q in queries)}
        assert find(engine, "Condition", f"{param}={value}") == expected, value

    check()
