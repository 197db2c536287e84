"""The documents behind ``_text``/``_content`` (fhir/textindex.py) and the positions behind ``near`` (fhir/geo.py)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from benhan.fhir.geo import bounding_box, chord2_limit, haversine_km, position_row, unit_vector
from benhan.fhir.indexing import extract_index
from benhan.fhir.text import fold, normalize
from benhan.fhir.textindex import (
    MAX_DOCUMENT,
    MAX_WORD,
    SEPARATOR,
    _is_date,
    document,
    narrative_blocks,
    text_row,
    words,
)

DATA = Path(__file__).parent.parent / "data"


def test_words_fold_like_string_search():
    assert words("Nguyễn Văn Ánh") == ["nguyen", "van", "anh"]
    assert words("ĐỖ THỊ HOA") == ["do", "thi", "hoa"]
    assert words("8480-6; HbA1c — “đường huyết”") == ["8480", "6", "hba1c", "duong", "huyet"]
    assert words("Hà Nội, Việt Nam") == words("ha noi viet nam")
    assert words("北京 Straße") == ["北京", "strasse"]
    assert words("-- … ·") == []
    assert document(["a\tb\nc", "d\r\ne", "", "--"]) == "a b c | d e"  # line breaks inside a value: spaces
    assert document(["Huyết áp", "huyet ap", "2024-05-17", "2024-05-17T08:30:00+07:00", "08:30:00", "2024",
                     "tái khám 2024-05-17"]) == "huyet ap | 2024 | tai kham 2024 05 17"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30), max_size=6))
def test_document_is_the_words_of_each_value(values):
    """The fast paths (ASCII via bytes, folded Vietnamese) give exactly the words of :func:`words`, which are
    those of string search's :func:`normalize` (letters and digits only); dates out, repeated values once."""
    doc = document(values)
    expected = [" ".join(found) for v in values if not _is_date(v) and (found := words(v))]
    assert doc == SEPARATOR.join(dict.fromkeys(expected))
    for v in values:
        assert words(v) == [w[:MAX_WORD] for w in re.findall(r"[^\W_]+", normalize(v))]
        assert fold(v).split() == normalize(v).split()


def test_narrative_blocks_and_inline_markup():
    div = ('<div xmlns="http://www.w3.org/1999/xhtml"><p>Bệnh nhân <b>Ng</b>uyễn,\n  đau đầu</p>'
           '<table><tr><td>Mạch</td><td>80&#160;lần/phút</td></tr></table>sốt<br/>ho &amp; khó thở<!-- x --></div>')
    assert narrative_blocks(div) == ["Bệnh nhân Nguyễn,   đau đầu", "Mạch", "80\xa0lần/phút", "sốt", "ho & khó thở"]
    assert document(narrative_blocks(div)) == "benh nhan nguyen dau dau | mach | 80 lan phut | sot | ho kho tho"


def test_text_row_skips_the_machinery():
    patient = {"resourceType": "Patient", "id": "anh", "meta": {"versionId": "3", "lastUpdated": "2026-11-23T00:00:00Z",
                                                                 "tag": [{"system": "urn:x", "code": "vip"}]},
               "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Nguyễn Văn Ánh</div>'},
               "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                              "valueAddress": {"city": "Huế"}}],
               "identifier": [{"system": "http://fhir.ehealth.gov.vn/core/sid/national_id", "value": "001090000001"}],
               "name": [{"family": "Nguyễn", "given": ["Văn", "Ánh"]}], "gender": "male", "birthDate": "1990-05-17",
               "multipleBirthInteger": 2, "active": True,
               "photo": [{"contentType": "image/png", "data": "iVBORw0KGgo=", "hash": "2jmj7l5rSw0="}],
               "managingOrganization": {"reference": "Organization/bv-bach-mai", "display": "Bệnh viện Bạch Mai"}}
    narrative, content = text_row(patient)  # type: ignore[misc]
    assert narrative == "nguyen van anh"
    # birthDate is a date (date parameters search it); "Nguyễn" from the name is kept once
    assert content == "nguyen van anh | hue | 001090000001 | nguyen | van | anh | male | image png | benh vien bach mai"
    assert text_row({**patient, "gender": "Nguyễn"})[1] == content.replace(" | male", "")  # type: ignore[index]
    assert text_row({"resourceType": "Basic", "id": "x", "meta": {"versionId": "1"}}) is None
    empty_narrative = {"resourceType": "Basic", "text": {"status": "empty", "div": "<div></div>"},
                       "code": {"text": "x"}}
    assert text_row(empty_narrative) == (None, "x")


def test_long_words_and_documents_are_cut():
    long = "a" * (MAX_WORD + 50)
    assert words(long) == ["a" * MAX_WORD]
    assert document([f"x {long} y"]) == f"x {'a' * MAX_WORD} y"
    huge = document(["từ " * 60_000])
    assert len(huge) <= MAX_DOCUMENT and huge.endswith(" tu") and set(huge.split()) == {"tu"}


def test_synthea_documents_match_the_schema():
    total = 0
    for path in sorted((DATA / "synthea").glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]:
            index = extract_index(entry["resource"])
            assert index.text is not None
            narrative, content = index.text
            assert content and "  " not in content and not content.startswith(" ")
            assert narrative is None or narrative in content  # the narrative is content too
            assert all(len(w) <= MAX_WORD for w in content.split(" "))
            total += 1
    assert total > 2500


def test_positions():
    assert position_row({"resourceType": "Location"}) is None
    assert position_row({"position": {"latitude": 91, "longitude": 0}}) is None  # not a place on Earth
    assert position_row({"position": {"latitude": True, "longitude": 0}}) is None
    lat, lon, x, y, z = position_row({"position": {"latitude": 21.0285, "longitude": 465.8542}})  # type: ignore[misc]
    assert (lat, round(lon, 9)) == (21.0285, 105.8542)  # the same meridian, in [-180, 180)
    assert math.isclose(x * x + y * y + z * z, 1.0)
    antimeridian = extract_index({"resourceType": "Location", "position": {"latitude": 0, "longitude": 180}})
    assert antimeridian.position is not None and antimeridian.position[1] == -180
    assert extract_index({"resourceType": "Patient", "position": {"latitude": 0, "longitude": 0}}).position is None


@settings(max_examples=500, deadline=None)
@given(st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(0, 21000))
def test_chords_and_boxes_agree_with_haversine(lat1, lon1, lat2, lon2, distance):
    d = haversine_km(lat1, lon1, lat2, lon2)
    a, b = unit_vector(lat1, lon1), unit_vector(lat2, lon2)
    chord2 = sum((p - q) ** 2 for p, q in zip(a, b, strict=True))
    limit = chord2_limit(distance)
    if abs(d - distance) > 1e-6:
        assert (limit is None or chord2 <= limit) == (d <= distance)
    if d <= distance:  # the box never leaves a point of the circle out
        low, high, spans = bounding_box(lat1, lon1, distance)
        assert low <= lat2 <= high
        lon = (lon2 + 180) % 360 - 180
        assert spans is None or any(west <= lon <= east for west, east in spans)
