"""Vietnamese personal names as HumanName."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.vn.errors import InvalidValue
from benhan.vn.names import clean, format_name, split_name


def test_split_three_words() -> None:
    assert split_name("Nguyễn Văn An") == {"use": "official", "text": "Nguyễn Văn An", "family": "Nguyễn",
                                           "given": ["Văn", "An"]}


def test_extra_spaces_are_collapsed() -> None:
    name = split_name("  Trần   Thị\tBích  Ngọc ")
    assert name["text"] == "Trần Thị Bích Ngọc"
    assert name["family"] == "Trần" and name["given"] == ["Thị", "Bích", "Ngọc"]


def test_decomposed_diacritics_become_composed() -> None:
    name = split_name(unicodedata.normalize("NFD", "Lê Thị Hồng"))
    assert name["text"] == "Lê Thị Hồng" and unicodedata.is_normalized("NFC", name["text"])


def test_case_is_kept_as_written() -> None:
    assert split_name("NGUYỄN VĂN AN")["family"] == "NGUYỄN"


def test_single_word_is_a_given_name() -> None:
    assert split_name("Minh") == {"use": "official", "text": "Minh", "given": ["Minh"]}


def test_two_words() -> None:
    assert split_name("Lê Lợi") == {"use": "official", "text": "Lê Lợi", "family": "Lê", "given": ["Lợi"]}


@pytest.mark.parametrize(("text", "family", "given"), [
    ("Tôn Thất Thuyết", "Tôn Thất", ["Thuyết"]),
    ("Tôn Nữ Thị Ninh", "Tôn Nữ", ["Thị", "Ninh"]),
    ("Công Tằng Tôn Nữ Thị Hà", "Công Tằng Tôn Nữ", ["Thị", "Hà"]),
    ("Công Huyền Tôn Nữ Lan", "Công Huyền Tôn Nữ", ["Lan"]),
    ("Âu Dương Phong", "Âu Dương", ["Phong"]),
    ("ÂU DƯƠNG Phong", "ÂU DƯƠNG", ["Phong"]),
    ("Âu Dương", "Âu", ["Dương"]),  # two words: surname Âu, given name Dương
    ("Tôn Thất", "Tôn", ["Thất"]),
    ("Nguyễn Phúc An", "Nguyễn", ["Phúc", "An"]),  # Phúc is far more often a middle name
    ("Tôn Văn Đức", "Tôn", ["Văn", "Đức"]),
])
def test_compound_family_names(text: str, family: str, given: list[str]) -> None:
    name = split_name(text)
    assert (name["family"], name["given"]) == (family, given)


def test_family_words_override() -> None:
    assert split_name("Trương Nguyễn Minh Anh", family_words=2)["family"] == "Trương Nguyễn"
    assert split_name("Y Ngông Niê Kdăm", family_words=0) == {"use": "official", "text": "Y Ngông Niê Kdăm",
                                                             "given": ["Y", "Ngông", "Niê", "Kdăm"]}
    assert "given" not in split_name("Nguyễn", family_words=1)
    with pytest.raises(ValueError):
        split_name("Nguyễn An", family_words=3)


def test_use_can_be_chosen() -> None:
    assert split_name("Bé Na", use="usual")["use"] == "usual"


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_name(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        split_name(text)
    assert caught.value.rule == "name.empty" and caught.value.code == "required"


def test_format_name() -> None:
    assert format_name({"family": "Nguyễn", "given": ["Văn", "An"]}) == "Nguyễn Văn An"
    assert format_name({"family": "Nguyễn", "given": ["Văn", "An"]}, upper=True) == "NGUYỄN VĂN AN"
    titled = {"prefix": ["BS."], "family": "Lê", "given": ["Hoa"], "suffix": ["CKII"]}
    assert format_name(titled) == "BS. Lê Hoa CKII"
    assert format_name({"text": " Nguyễn  Văn An "}) == "Nguyễn Văn An"
    assert format_name({"prefix": ["Ông"], "text": "Nguyễn An"}) == "Nguyễn An"
    assert format_name({"given": ["Minh"]}) == "Minh"
    assert format_name({}) == ""


syllable = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạếềểễệốồổỗộớờởỡợ", min_size=1, max_size=7)
written = st.lists(st.tuples(syllable, st.sampled_from([" ", "  ", "\t", " \u00a0"])), min_size=1, max_size=6)


@given(written)
def test_format_of_split_gives_back_the_cleaned_text(parts: list[tuple[str, str]]) -> None:
    text = "".join(word.capitalize() + gap for word, gap in parts)
    name = split_name(text)
    assert format_name(name) == name["text"] == clean(text)
    assert " ".join([name.get("family", ""), *name.get("given", [])]).strip() == clean(text)


@given(st.text(min_size=1).filter(str.strip))
def test_split_never_fails_on_non_empty_text(text: str) -> None:
    name = split_name(text)
    assert format_name(name) == name["text"]
