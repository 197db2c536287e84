"""``_list`` (R4 search.html "_list"): the resources a List's entries refer to, ANDed with other criteria; a List
the caller may not see reveals nothing; functional lists answer 400."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import or_

from benhan.fhir.errors import FhirError
from tests.security.conftest import put, secure, seed_two_departments  # noqa: F401  (secure: a fixture)

from .conftest import BASE, find, observation, run, store


def a_list(lid: str, *items: str, subject: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "List", "id": lid, "status": "current", "mode": "working",
                           "title": "Danh sách bệnh nhân theo dõi",
                           "entry": [{"item": {"reference": ref}} for ref in items]}
    if subject:
        res["subject"] = {"reference": subject}
    return res


@pytest.fixture
def lists(vn):
    store(vn, observation("o1", "Patient/anh", "8480-6", value=120),
          observation("o2", "Patient/dao", "8480-6", value=99.5),
          a_list("theo-doi", "Patient/anh", "Patient/dao", "Observation/o1"),
          a_list("khoa-noi", "Patient/dao", f"{BASE}/Patient/hoa"),
          a_list("ngoai", "http://other.example/fhir/Patient/duc"),  # another server's duc is not ours
          a_list("rong", "Observation/o2"))
    return vn


@pytest.mark.parametrize(("rtype", "query", "expected"), [
    ("Patient", "_list=theo-doi", {"anh", "dao"}),
    ("Patient", "_list=List/theo-doi", {"anh", "dao"}),
    ("Observation", "_list=theo-doi", {"o1"}),
    ("Patient", "_list=khoa-noi", {"dao", "hoa"}),  # an absolute URL under our base is local
    ("Patient", "_list=ngoai", set()),
    ("Patient", "_list=rong", set()),
    ("Patient", "_list=khong-co", set()),  # no such List
    ("Patient", "_list=theo-doi,khoa-noi", {"anh", "dao", "hoa"}),  # values are ORed
    ("Patient", "_list=theo-doi&_list=khoa-noi", {"dao"}),  # repetitions are ANDed
    ("Patient", "_list=theo-doi&gender=female", {"dao"}),
    ("Patient", "_list=khoa-noi&name=đỗ", {"hoa"}),
    ("Patient", "_list=theo-doi&_filter=not%20(gender%20eq%20female)", {"anh"}),
    ("Observation", "_list=theo-doi,rong&subject.name=trần", {"o2"}),
    (None, "_list=theo-doi", {"anh", "dao", "o1"}),  # system level
    (None, "_type=Patient,Observation&_list=theo-doi", {"anh", "dao", "o1"}),  # one branch per type
    (None, "_type=Observation&_list=theo-doi", {"o1"}),
    (None, "_type=Patient,Observation&_filter=_id%20eq%20o1%20or%20_id%20eq%20anh", {"anh", "o1"}),
    ("Patient", "_list=", {"anh", "dao", "duc", "hoa"}),  # an empty value does not restrict
])
def test_list_members(lists, rtype, query, expected):
    assert find(lists, rtype, query) == expected, query


def test_list_members_follow_the_current_list(lists):
    store(lists, a_list("theo-doi", "Patient/duc"))  # a new version replaces the entries
    assert find(lists, "Patient", "_list=theo-doi") == {"duc"}
    with lists.begin() as conn:
        from benhan.fhir.repository import Repository
        Repository(conn, base_url=BASE).delete("List", "theo-doi")
    assert find(lists, "Patient", "_list=theo-doi") == set()  # a deleted List has no members
    page = run(lists, "Patient", "_list=khoa-noi&_count=1&_total=accurate")
    assert page["total"] == 2 and len(page["entry"]) == 1 and any(link["relation"] == "next" for link in page["link"])


def test_functional_lists_and_bad_values_are_400(lists):
    for value in ("$current-allergies", "$current-problems"):
        with pytest.raises(FhirError) as info:
            run(lists, "Patient", f"_list={value}")
        issue = info.value.issues[0]
        assert info.value.status == 400 and issue.code == "not-supported" and issue.expression == "_list"
        assert value in issue.en and value in issue.vi
    for query in ("_list=Patient/anh", "_list:exact=theo-doi"):
        with pytest.raises(FhirError) as info:
            run(lists, "Patient", query)
        assert info.value.status == 400
    assert not any(e["search"]["mode"] == "outcome" for e in run(lists, "Patient", "_list=theo-doi")["entry"])


class HideLists:
    """An access filter hiding some Lists (everything else visible), as FhirGuard's search side would."""

    def __init__(self, *hidden: str) -> None:
        self.hidden = list(hidden)

    def search_conditions(self, r: Any, rtype: str | None) -> list[Any]:
        return [or_(r.c.type != "List", r.c.id.not_in(self.hidden))]

    def after_search(self, conn: Any, rtype: str | None, params: Any, rows: list[Any], included: list[Any],
                     compartment: Any = None) -> list[Any]:
        return included


def test_hidden_list_reveals_no_members(lists):
    hide = HideLists("theo-doi")
    assert find(lists, "Patient", "_list=theo-doi", access=hide) == set()
    assert find(lists, "Patient", "_list=theo-doi,khoa-noi", access=hide) == {"dao", "hoa"}
    assert find(lists, None, "_list=theo-doi", access=hide) == set()
    assert find(lists, "Patient", "_list=theo-doi", access=HideLists("khoa-noi")) == {"anh", "dao"}
    # the same List through a reverse chain is hidden the same way
    assert find(lists, "Patient", "_has:List:item:_id=theo-doi", access=hide) == set()


def test_restricted_user_sees_members_of_visible_lists_only(secure):  # noqa: F811
    seed_two_departments(secure.admin)
    put(secure.admin, a_list("l1", "Patient/p1", "Encounter/e1", subject="Patient/p1"))
    put(secure.admin, a_list("l2", "Patient/p1", "Patient/p2", subject="Patient/p2"))  # in p2's record
    admin = {e["resource"]["id"] for e in secure.admin.get("Patient?_list=l2").json()["entry"]}
    assert admin == {"p1", "p2"}
    doctor = secure.as_user("bs.binh", ["doctor"], departments=["khoa-noi"])
    assert doctor.get("List/l2").status_code == 403
    seen = doctor.get("Patient?_list=l2").json()
    assert [e for e in seen.get("entry", []) if e["search"]["mode"] == "match"] == []  # p1 is visible, l2 is not
    assert {e["resource"]["id"] for e in doctor.get("Patient?_list=l1").json()["entry"]} == {"p1"}
    assert {e["resource"]["id"] for e in doctor.get("Encounter?_list=l1").json()["entry"]} == {"e1"}
