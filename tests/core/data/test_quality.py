"""The data-quality report on a file with gaps, zero volumes, an outlier, a split and a stale end."""

import json
from datetime import UTC, date, datetime
from fractions import Fraction

import pandas as pd

from core.data.quality import quality_report, ticker_quality
from core.data.service import import_prices
from db.repositories.actor import Actor
from db.repositories.users import create_user
from tests.fixtures import GSPC_2018, gspc_2018_bytes


def bars() -> pd.DataFrame:
    frame = pd.read_csv(GSPC_2018, parse_dates=["Date"]).rename(columns=str.lower)
    return frame.rename(columns={"adj close": "adjusted_close"})


def test_a_clean_year_has_no_problems_but_is_stale_later():
    report = quality_report(bars(), ticker="^GSPC", today=date(2019, 1, 2))
    assert (report.first_day, report.last_day, report.rows) == (date(2018, 1, 2), date(2018, 12, 31), 251)
    assert report.problems() == []
    later = quality_report(bars(), ticker="^GSPC", today=date(2019, 1, 10))
    assert later.problems() == ["stale: the last bar is 2018-12-31, the exchange last traded on 2019-01-09"]


def test_staleness_is_judged_at_the_exchange_s_close_of_the_day():
    # Wednesday 2019-01-02 closed at 21:00 UTC: from then on the 31st's bar is no longer the newest due.
    before = quality_report(bars(), ticker="^GSPC", today=datetime(2019, 1, 2, 20, 59, tzinfo=UTC))
    assert (before.last_trading_day, before.stale) == (date(2018, 12, 31), False)
    after = quality_report(bars(), ticker="^GSPC", today=datetime(2019, 1, 2, 21, 0, tzinfo=UTC))
    assert after.problems() == ["stale: the last bar is 2018-12-31, the exchange last traded on 2019-01-02"]


def test_a_file_with_gaps_zero_volumes_an_outlier_and_a_split():
    frame = bars()
    frame = frame.drop(index=[10, 11, 200]).reset_index(drop=True)  # 2018-01-17, -18 and 2018-10-17 gone
    frame.loc[50, "volume"] = 0
    frame.loc[100:, ["open", "high", "low", "close", "adjusted_close"]] /= 2  # a 2:1 split no column adjusts for
    frame.loc[150, "adjusted_close"] *= 1.8  # one absurd day in the adjusted series, near no split factor
    frame.loc[160, "open"] = frame.loc[160, "high"] * 1.2
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2))
    assert report.missing_days == [date(2018, 1, 17), date(2018, 1, 18), date(2018, 10, 17)]
    assert report.zero_volume_days == [frame.loc[50, "date"].date()]
    # The split's -69 % day is told as a split, not also as an outlier.
    assert [day for day, _ in report.outliers] == [frame.loc[150, "date"].date(), frame.loc[151, "date"].date()]
    assert [(c.date, c.label) for c in report.split_candidates] == [(frame.loc[100, "date"].date(), "2:1")]
    assert report.ohlc_unrepaired == [frame.loc[160, "date"].date()]
    assert len(report.problems()) == 5
    assert report.problems()[0] == ("3 days missing against the XNYS calendar: 2018-01-17, 2018-01-18, 2018-10-17")
    assert json.loads(json.dumps(report.to_dict()))["split_candidates"][0]["split"] == "2:1"


def test_the_report_of_stored_prices(session):
    actor = Actor.of(create_user(session=session, username="quality", email="quality@example.com", password_hash="x"))
    import_prices(
        session=session, data=gspc_2018_bytes(), ticker="QA", date_format=None, skip_bad_rows=False, owner=actor
    )
    report = ticker_quality(session=session, actor=actor, ticker="QA", today=date(2019, 1, 2))
    assert (report.rows, report.stale, report.problems()) == (251, False, [])


def test_a_split_the_source_reported_is_not_asked_about_again():
    frame = bars()
    frame.loc[100:, ["open", "high", "low", "close"]] /= 2
    day = frame.loc[100, "date"].date()
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2), reported=[(day, Fraction(2))])
    assert report.split_candidates == []
    assert report.problems() == [f"1 split reported by the source: {day} (2:1); the adjusted close accounts for them"]


def test_a_raw_close_that_halves_beside_an_adjusted_close_that_runs_through_is_no_split_to_confirm():
    # Confirming it would divide an adjusted close that already accounts for the split a second time.
    frame = bars()
    frame.loc[100:, ["open", "high", "low", "close"]] /= 2
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2))
    assert (report.split_candidates, report.outliers, report.problems()) == ([], [], [])


def test_a_reported_split_left_in_the_adjusted_close_is_not_said_to_be_accounted_for():
    frame = bars()
    frame.loc[100:, ["open", "high", "low", "close", "adjusted_close"]] /= 2
    day = frame.loc[100, "date"].date()
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2), reported=[(day, Fraction(2))])
    assert (report.reported_splits, [c.date for c in report.unadjusted_splits]) == ([], [day])
    assert report.problems() == [
        f"1 split reported by the source but left in the adjusted close: {day} (2:1); "
        "returns jump on those days until prices that account for them are loaded"
    ]


def test_days_the_exchange_did_not_trade_are_reported():
    # A Saturday and New Year's Day 2018 in a New York ticker: often dates written in another time zone.
    frame = bars()
    extra = frame.iloc[[0, 4]].assign(date=pd.to_datetime(["2018-01-01", "2018-01-06"]))
    frame = pd.concat([frame, extra]).sort_values("date").reset_index(drop=True)
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2))
    assert report.off_calendar_days == [date(2018, 1, 1), date(2018, 1, 6)]
    assert report.problems() == ["2 days the XNYS calendar has no session on: 2018-01-01, 2018-01-06"]
    assert json.loads(json.dumps(report.to_dict()))["off_calendar_days"] == ["2018-01-01", "2018-01-06"]


def test_a_crypto_pair_trades_on_weekends():
    days = pd.date_range("2018-01-01", "2018-12-31")
    close = 100 + pd.Series(range(len(days))) % 7
    frame = pd.DataFrame({"date": days, "open": close, "high": close + 1, "low": close - 1, "close": close})
    frame = frame.assign(adjusted_close=close, volume=1.0)
    report = quality_report(frame, ticker="BTC-USD", today=date(2019, 1, 1))
    assert (report.exchange, report.off_calendar_days, report.missing_days, report.problems()) == ("24/7", [], [], [])


def test_a_close_that_stopped_moving_is_reported():
    # A suspended or delisted stock, or a vendor that repeats the last price: a model learns nothing from it.
    frame = bars()
    frame.loc[200:209, ["close", "adjusted_close"]] = frame.loc[199, "close"]
    frame.loc[200:209, ["open", "high", "low"]] = frame.loc[199, "close"]
    report = quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2))
    first, last = frame.loc[199, "date"].date(), frame.loc[209, "date"].date()
    assert report.unchanged_closes == (first, last, 11)
    assert report.problems() == [f"close unchanged for 11 days in a row, {first} to {last}"]


def test_a_few_unchanged_closes_are_no_finding():
    frame = bars()
    frame.loc[200:202, "adjusted_close"] = frame.loc[199, "adjusted_close"]
    assert quality_report(frame, ticker="^GSPC", today=date(2019, 1, 2)).unchanged_closes is None
