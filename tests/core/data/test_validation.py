"""Every validation rule, its count, and the first offending rows with their line numbers."""

import math

import pandas as pd
import pytest

from core.data.validation import EXAMPLE_ROWS, validate_prices

GOOD = {
    "ticker": "X",
    "date": "2024-01-02",
    "open": 10.0,
    "high": 11.0,
    "low": 9.0,
    "close": 10.5,
    "adjusted_close": 10.4,
    "volume": 100.0,
}


def frame(*changes: dict) -> pd.DataFrame:
    rows = []
    for number, change in enumerate(changes):
        day = pd.Timestamp("2024-01-02") + pd.Timedelta(days=number)
        rows.append(GOOD | {"date": day, "line": number + 2} | change)
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"date": pd.NaT}, "unparseable date"),
        ({"open": -1.0}, "price not above zero"),
        ({"adjusted_close": 0.0}, "price not above zero"),
        ({"high": 8.0}, "high below low"),
        ({"open": 12.0}, "open outside low-high"),
        ({"close": 8.5}, "close outside low-high"),
        ({"volume": -5.0}, "negative volume"),
        ({"close": math.nan}, "missing or infinite number"),
        ({"volume": math.inf}, "missing or infinite number"),
        ({"volume": 1e19}, "volume too large to store"),
        ({"date": "0001-01-01"}, "date before 1800"),
        ({"date": "1799-12-31"}, "date before 1800"),
        ({"date": "9999-12-31"}, "date after today"),
        ({"date": pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=3)}, "date after today"),
    ],
)
def test_each_rule(change, rule):
    report, valid = validate_prices(frame({}, change, {}))
    assert rule in report.counts
    assert report.invalid_rows == 1
    assert list(valid) == [True, False, True]
    assert report.examples[0].line == 3
    assert rule in report.examples[0].rules


def test_duplicates_flag_the_repeats_not_the_first():
    data = frame({}, {}, {})
    data.loc[2, "date"] = data.loc[0, "date"]
    report, valid = validate_prices(data)
    assert report.counts == {"duplicate ticker and date": 1}
    assert list(valid) == [True, True, False]


def test_the_earliest_and_latest_days_a_market_can_have_pass():
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    # Tomorrow too: east of Greenwich a market's day has begun while UTC's has not.
    report, valid = validate_prices(
        frame({"date": "1800-01-02"}, {"date": today}, {"date": today + pd.Timedelta(days=1)})
    )
    assert report.ok, report.lines()
    assert valid.all()


def test_same_date_for_two_tickers_is_fine():
    data = frame({}, {"ticker": "Y"})
    data.loc[1, "date"] = data.loc[0, "date"]
    assert validate_prices(data)[0].ok


def test_a_clean_frame_passes():
    report, valid = validate_prices(frame({}, {}, {}))
    assert report.ok
    assert report.summary() == "3 rows, all valid"
    assert valid.all()


def test_counts_per_rule_and_at_most_twenty_examples():
    data = frame(*([{"open": -1.0}] * 30 + [{"high": 1.0}] * 3))
    report, _ = validate_prices(data)
    assert report.counts["price not above zero"] == 30
    assert report.counts["high below low"] == 3
    assert len(report.examples) == EXAMPLE_ROWS
    assert report.summary().startswith("33 of 33 rows invalid")
    assert report.lines()[1].startswith("  line 2: price not above zero, open outside low-high")


def test_report_is_json_ready():
    import json

    report, _ = validate_prices(frame({"volume": math.nan}))
    stored = json.loads(json.dumps(report.to_dict()))
    assert stored["examples"][0]["values"]["volume"] is None
