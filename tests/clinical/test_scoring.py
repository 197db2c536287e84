"""The duplicate scorer on labelled pairs: spelling variants, swapped dates, typos, twins, namesakes."""

from __future__ import annotations

import pytest

from benhan.clinical.mpi.scoring import LIKELY, POSSIBLE, PersonKey, normalize_phone, score


def key(name: str, born: str | None = "1985-03-12", gender: str | None = "male", phone: str | None = None,
        commune: str | None = None, cccd: str | None = None, bhxh: str | None = None) -> PersonKey:
    phones = frozenset({normalize_phone(phone)}) if phone else frozenset()
    return PersonKey(name, born, gender, phones, commune, cccd, bhxh)


# (new, existing, same person?) — the labelled set whose precision docs/registration.md reports.
SAME = [
    (key("Nguyen Van An"), key("Nguyễn Văn An")),  # no diacritics
    (key("NGUYỄN VĂN AN"), key("Nguyễn Văn An")),  # capitals
    (key("Nguyễn Văn An", "1985-12-03"), key("Nguyễn Văn An")),  # day/month swapped
    (key("Nguyen Van An", "1985-12-03"), key("Nguyễn Văn An")),  # both
    (key("Nguyễn Văn Ann"), key("Nguyễn Văn An")),  # typo in given name
    (key("Nguyễn Vn An"), key("Nguyễn Văn An")),  # typo in middle name
    (key("Nguyn Văn An"), key("Nguyễn Văn An")),  # typo in family name
    (key("Nguyễn Văn An", "1985"), key("Nguyễn Văn An")),  # year-only birth date
    (key("Nguyễn Văn An", "1985-03"), key("Nguyễn Văn An")),  # year-month
    (key("Trần Thị Ngọc", "1990-05-06", "female"), key("Trần Thị Bích Ngọc", "1990-05-06", "female")),
    (key("Lê Văn Tám", "1958-07-08"), key("Lê Văn Tám", "1985-07-08", phone="0912000111"),),  # year typo
    (key("Phạm Thị Hương", "1970-01-02", "female", phone="0912345678"),
     key("Pham Thi Huong", "1970-01-02", "female", phone="+84912345678")),
    (key("Hoàng Văn Minh", "2001-09-10", phone="0988000111", commune="26743"),
     key("Hoang Van Minh", "2001-09-11", phone="0988000111", commune="26743")),  # day typo + phone + commune
    (key("Văn An Nguyễn"), key("Nguyễn Văn An")),  # written given-name first
    (key("Đỗ Thị Lan", "1960", "female", commune="00001"), key("Do Thi Lan", "1960-04-05", "female",
                                                              commune="00001")),
    (key("Tôn Nữ Thị Hà", "1995-02-03", "female"), key("Tôn Nữ Thị Hà", "1995-03-02", "female")),
    (key("Võ Minh Khôi", "2015-11-12"), key("Vo Minh Khoi", "2015-12-11")),
    (key("Bùi Đức Thắng", "1980-06-07", phone="0903111222"), key("Bui Duc Thang", "1980-06-07")),
]
DIFFERENT = [
    # twins: same family, middle, birth date, phone and commune; different given names
    (key("Nguyễn Văn Bình", "2010-04-05", phone="0912345678", commune="26743"),
     key("Nguyễn Văn An", "2010-04-05", phone="0912345678", commune="26743")),
    (key("Nguyễn Thị Hoa", "2010-04-05", "female", phone="0912345678"),
     key("Nguyễn Thị Hồng", "2010-04-05", "female", phone="0912345678")),
    # twins whose names are one letter apart, told apart by their CCCDs
    (key("Nguyễn Văn An", "2000-04-05", cccd="079200000001"), key("Nguyễn Văn Anh", "2000-04-05",
                                                                   cccd="079200000002")),
    # namesakes: common name, different birth dates
    (key("Nguyễn Văn An", "1990-01-01"), key("Nguyễn Văn An", "1985-03-12")),
    (key("Nguyễn Văn An", "1985-03-12", "female"), key("Nguyễn Thị An", "1985-03-12", "female")),
    (key("Trần Văn Hùng", "1975-05-05"), key("Trần Văn Dũng", "1975-05-05")),
    (key("Lê Thị Mai", "1988-08-08", "female"), key("Lê Văn Mai", "1988-08-08", "male")),
    (key("Phạm Văn Long", "1966"), key("Phạm Văn Long", "1969-02-03")),
    (key("Hoàng Thị Thu", "1992-10-11", "female"), key("Đặng Thị Thu", "1993-11-10", "female")),
    (key("Mother Nguyễn Thị Lan", "1960-01-01", "female", phone="0912345678"),
     key("Nguyễn Văn Nam", "1990-01-01", "male", phone="0912345678")),  # family phone
    (key("Nguyễn Văn An", bhxh="7900000001"), key("Nguyễn Văn An", bhxh="7900000002", born="1985-12-03")),
]


def test_labelled_pairs_precision_and_recall() -> None:
    flagged_same = [score(a, b).score >= POSSIBLE for a, b in SAME]
    flagged_diff = [score(a, b).score >= POSSIBLE for a, b in DIFFERENT]
    tp, fn = sum(flagged_same), len(SAME) - sum(flagged_same)
    fp = sum(flagged_diff)
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    assert precision == 1.0, [(a.name, b.name, score(a, b)) for a, b in DIFFERENT if score(a, b).score >= POSSIBLE]
    assert recall == 1.0, [(a.name, b.name, score(a, b)) for a, b in SAME if score(a, b).score < POSSIBLE]


def test_likely_level_precision() -> None:
    likely_diff = [score(a, b) for a, b in DIFFERENT if score(a, b).score >= LIKELY]
    assert not likely_diff


def test_twins_with_different_cccd_score_zero() -> None:
    match = score(key("Nguyễn Văn An", cccd="079200000001"), key("Nguyễn Văn An", cccd="079200000002"))
    assert match.score == 0 and match.reasons[0].code == "national_id_differs"
    assert "CCCD" in match.reasons[0].vi and "CCCD" in match.reasons[0].en


@pytest.mark.parametrize(("a", "b", "code"), [
    ("1985-03-12", "1985-03-12", "birth_same"),
    ("1985-12-03", "1985-03-12", "birth_swapped"),
    ("1985", "1985-03-12", "birth_partial"),
    ("1958-03-12", "1985-03-12", "birth_year_typo"),
    ("1985-03-13", "1985-03-12", "birth_near"),
    ("1990-07-01", "1985-03-12", "birth_differs"),
    ("1984", "1985-03-12", "birth_differs"),
])
def test_birth_date_reasons(a: str, b: str, code: str) -> None:
    codes = [r.code for r in score(key("X Y Z", a), key("X Y Z", b)).reasons]
    assert code in codes


def test_reasons_are_bilingual_and_sum_to_the_score() -> None:
    match = score(key("Nguyen Van An", "1985-12-03", phone="0912345678", commune="1"),
                  key("Nguyễn Văn An", phone="0912345678", commune="1"))
    assert match.score == min(100, sum(r.points for r in match.reasons))
    assert {r.code for r in match.reasons} == {"name_same", "birth_swapped", "gender_same", "phone_same",
                                               "commune_same"}
    assert all(r.vi and r.en and r.vi != r.en for r in match.reasons)
    assert match.level == "likely"
    assert match.reasons[0].vi == "Trùng họ tên khi bỏ dấu"


def test_phone_normalisation() -> None:
    assert normalize_phone("+84 912 345 678") == normalize_phone("0912.345.678") == "0912345678"
