"""FHIR date/dateTime/instant values as inclusive microsecond ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benhan.fhir.dates import MAX_TIME, MIN_TIME, date_range

US = 1_000_000


def micros(text: str) -> int:
    """Microseconds since the epoch of an ISO datetime written with its zone."""
    moment = datetime.fromisoformat(text)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2024", "2024-01-01T00:00:00+00:00", "2024-12-31T23:59:59.999999+00:00"),
        ("2024-05", "2024-05-01T00:00:00+00:00", "2024-05-31T23:59:59.999999+00:00"),
        ("2024-02", "2024-02-01T00:00:00+00:00", "2024-02-29T23:59:59.999999+00:00"),
        ("2023-02", "2023-02-01T00:00:00+00:00", "2023-02-28T23:59:59.999999+00:00"),
        ("2024-12", "2024-12-01T00:00:00+00:00", "2024-12-31T23:59:59.999999+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00", "2024-05-01T23:59:59.999999+00:00"),
        ("2024-05-01T10:00", "2024-05-01T10:00:00+00:00", "2024-05-01T10:00:59.999999+00:00"),
        ("2024-05-01T10:00Z", "2024-05-01T10:00:00+00:00", "2024-05-01T10:00:59.999999+00:00"),
        ("2024-05-01T10:00:05Z", "2024-05-01T10:00:05+00:00", "2024-05-01T10:00:05.999999+00:00"),
        ("2024-05-01T10:00:05+07:00", "2024-05-01T03:00:05+00:00", "2024-05-01T03:00:05.999999+00:00"),
        ("2024-05-01T01:00:00+07:00", "2024-04-30T18:00:00+00:00", "2024-04-30T18:00:00.999999+00:00"),
        ("2024-05-01T22:30:00-05:30", "2024-05-02T04:00:00+00:00", "2024-05-02T04:00:00.999999+00:00"),
        ("2024-05-01T10:00:05.5Z", "2024-05-01T10:00:05.5+00:00", "2024-05-01T10:00:05.599999+00:00"),
        ("2024-05-01T10:00:05.123Z", "2024-05-01T10:00:05.123+00:00", "2024-05-01T10:00:05.123999+00:00"),
        ("2024-05-01T10:00:05.123456Z", "2024-05-01T10:00:05.123456+00:00",
         "2024-05-01T10:00:05.123456+00:00"),
        ("2024-05-01T10:00:05.123456789Z", "2024-05-01T10:00:05.123456+00:00",
         "2024-05-01T10:00:05.123456+00:00"),
        ("1969-12-31", "1969-12-31T00:00:00+00:00", "1969-12-31T23:59:59.999999+00:00"),
        ("1900-02", "1900-02-01T00:00:00+00:00", "1900-02-28T23:59:59.999999+00:00"),
        ("2000-02-29", "2000-02-29T00:00:00+00:00", "2000-02-29T23:59:59.999999+00:00"),
        ("0001", "0001-01-01T00:00:00+00:00", "0001-12-31T23:59:59.999999+00:00"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59.999999+00:00"),
    ],
)
def test_ranges(value: str, low: str, high: str) -> None:
    assert date_range(value) == (micros(low), micros(high))


def test_values_without_zone_are_utc() -> None:
    assert date_range("2024-05-01T10:00:00") == date_range("2024-05-01T10:00:00Z")
    assert date_range("2024-05-01T10:00:00") == date_range("2024-05-01T10:00:00+00:00")
    assert date_range("2024-05-01T10:00:00")[0] - date_range("2024-05-01T10:00:00+07:00")[0] == 7 * 3600 * US


@pytest.mark.parametrize(
    "value",
    ["", "24", "2024-1", "2024-13", "2024-00", "2023-02-29", "2024-04-31", "2024-05-00", "0000",
     "2024-05-01T", "2024-05-01T24:00", "2024-05-01T10:60", "2024-05-01T10:00:60Z", "2024-05-01T10",
     "2024-05-01T10:00:00+15:00", "2024-05-01T10:00:00+07:60", "2024-05-01T10:00:00.Z",
     "2024-05-01 10:00:00", "20240501", "2024-05-01T10:00:00+0700", " 2024", "2024-05-01Z", "abc",
     "２０２４"],
)
def test_malformed_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a FHIR date"):
        date_range(value)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ValueError):
        date_range(2024)  # type: ignore[arg-type]


def test_open_ends_fit_bigint() -> None:
    assert MIN_TIME == -(2**63) and MAX_TIME == 2**63 - 1
    assert date_range("0001")[0] > MIN_TIME and date_range("9999")[1] < MAX_TIME


moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-5, minutes=-30)),
                               timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]),
)


@given(moments)
def test_round_trip_of_instants(moment: datetime) -> None:
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    text = moment.isoformat(timespec="microseconds")
    assert date_range(text) == (expected, expected)
    seconds = moment.replace(microsecond=0)
    low, high = date_range(seconds.isoformat(timespec="seconds"))
    assert high - low == US - 1
    assert low <= expected <= high


@given(moments)
def test_refinements_are_contained(moment: datetime) -> None:
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.year < 1 or utc.year > 9999:
        return
    texts = [
        f"{utc.year:04d}",
        f"{utc.year:04d}-{utc.month:02d}",
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}",
        utc.strftime("%Y-%m-%dT%H:%M") if utc.year >= 1000 else f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M"),
    ]
    texts.append(texts[-1] + f":{utc.second:02d}")
    texts.append(texts[-1] + f".{utc.microsecond:06d}"[:4])
    texts.append(texts[-2] + f".{utc.microsecond:06d}")
    ranges = [date_range(text) for text in texts]
    for (outer_low, outer_high), (inner_low, inner_high) in pairwise(ranges):
        assert outer_low <= inner_low <= inner_high <= outer_high
    exact = (utc - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    assert ranges[-1] == (exact, exact)


@given(st.integers(1, 9999), st.integers(1, 12), st.integers(0, 23), st.integers(0, 59))
def test_low_never_exceeds_high(year: int, month: int, hour: int, minute: int) -> None:
    for text in (f"{year:04d}", f"{year:04d}-{month:02d}", f"{year:04d}-{month:02d}-01T{hour:02d}:{minute:02d}Z",
                 f"{year:04d}-{month:02d}-01T{hour:02d}:{minute:02d}:00.1+07:00"):
        low, high = date_range(text)
        assert low <= high


@given(st.integers(1, 9998), st.integers(1, 12))
def test_consecutive_months_touch(year: int, month: int) -> None:
    following = f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    assert date_range(f"{year:04d}-{month:02d}")[1] + 1 == date_range(following)[0]
