"""Rendered price series: any date range is the right slice of records; the store keeps what fits, by version."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from core.data.rendered_prices import RenderedPrices, RenderedSeries

DAYS = [date(2024, 1, 1) + timedelta(days=3 * i) for i in range(40)]


def records(days: list[date]) -> list[str]:
    return [json.dumps({"date": day.isoformat(), "close": 100 + i / 7}) for i, day in enumerate(days)]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (DAYS[0], DAYS[-1]),
        (DAYS[5], DAYS[5]),
        (DAYS[5] + timedelta(days=1), DAYS[9] - timedelta(days=1)),
        (DAYS[5] + timedelta(days=1), DAYS[6] - timedelta(days=1)),
        (None, DAYS[3]),
        (DAYS[37], None),
        (date(1990, 1, 1), date(1990, 12, 31)),
        (date(2030, 1, 1), None),
        (DAYS[9], DAYS[5]),
    ],
)
def test_a_range_is_the_records_of_exactly_its_days(start, end):
    series = RenderedSeries.of(DAYS, records(DAYS))
    count, text = series.between(start, end)
    expected = [
        json.loads(record)
        for day, record in zip(DAYS, records(DAYS), strict=True)
        if (start is None or day >= start) and (end is None or day <= end)
    ]
    assert json.loads(text) == expected
    assert count == len(expected)


def test_an_empty_series_reads_as_an_empty_array():
    assert RenderedSeries.of([], []).between(None, None) == (0, "[]")


def test_a_series_is_kept_only_for_the_versions_it_was_rendered_at():
    store = RenderedPrices(max_chars=10_000)
    series = RenderedSeries.of(DAYS, records(DAYS))
    shared, own = uuid.uuid4(), uuid.uuid4()
    store.put(("SPX", None), {None: shared}, series)
    assert store.get(("SPX", None), {None: shared}) is series
    assert store.get(("SPX", None), {None: uuid.uuid4()}) is None
    assert store.get(("SPX", None), {None: shared, own: uuid.uuid4()}) is None
    assert store.get(("SPX", own), {None: shared}) is None


def test_the_least_recently_read_series_goes_first_and_an_oversized_one_is_not_kept():
    one = RenderedSeries.of(DAYS[:10], records(DAYS[:10]))
    store = RenderedPrices(max_chars=one.size * 2 + 1)
    versions = {None: uuid.uuid4()}
    store.put(("A", None), versions, one)
    store.put(("B", None), versions, one)
    assert store.get(("A", None), versions) is one  # A is now the more recently read
    store.put(("C", None), versions, one)
    assert store.get(("B", None), versions) is None
    assert store.get(("A", None), versions) is one
    assert store.get(("C", None), versions) is one
    store.put(("BIG", None), versions, RenderedSeries.of(DAYS, records(DAYS)))
    assert store.get(("BIG", None), versions) is None
    assert len(store) == 2
