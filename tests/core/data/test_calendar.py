"""Exchange calendars: holidays are skipped, the exchange follows the ticker's suffix, staleness counts sessions."""

import warnings
from datetime import date

import pandas as pd
import pytest

from core.data.calendar import exchange_for, is_stale, last_trading_day, trading_days_after


def iso(days: pd.DatetimeIndex) -> list[str]:
    return [day.date().isoformat() for day in days]


def test_new_year_and_weekends_are_skipped_in_new_york():
    assert iso(trading_days_after(pd.Timestamp("2018-12-28"), 3, "^GSPC")) == ["2018-12-31", "2019-01-02", "2019-01-03"]


def test_good_friday_and_independence_day_are_holidays():
    assert iso(trading_days_after(date(2018, 3, 29), 1, "AAPL")) == ["2018-04-02"]
    assert iso(trading_days_after(date(2018, 7, 3), 1, "AAPL")) == ["2018-07-05"]


@pytest.mark.parametrize(
    ("ticker", "exchange"),
    [
        ("AAPL", "XNYS"), ("^GSPC", "XNYS"), ("VOD.L", "XLON"), ("7203.T", "XTKS"), ("BRK.B", "XNYS"),
        ("BRK-B", "XNYS"), ("BTC-USD", "24/7"), ("ETH-EUR", "24/7"), ("EURUSD=X", "24/5"), ("JPY=X", "24/5"),
    ],
)  # fmt: skip
def test_the_suffix_picks_the_exchange(ticker, exchange):
    assert exchange_for(ticker) == exchange


def test_crypto_trades_every_day_and_currencies_every_weekday():
    # Friday 2018-12-28: bitcoin's next day is Saturday; a currency pair's is Monday, New Year's Eve.
    assert iso(trading_days_after(date(2018, 12, 28), 2, "BTC-USD")) == ["2018-12-29", "2018-12-30"]
    assert iso(trading_days_after(date(2018, 12, 28), 2, "EURUSD=X")) == ["2018-12-31", "2019-01-01"]
    assert last_trading_day(date(2018, 12, 31), "BTC-USD") == date(2018, 12, 30)
    far = pd.Timestamp.today().normalize() + pd.Timedelta(days=800)
    assert len({day.day_of_week for day in trading_days_after(far, 7, "BTC-USD")}) == 7


def test_london_closes_on_boxing_day_while_new_york_trades():
    assert iso(trading_days_after(date(2018, 12, 24), 1, "AAPL")) == ["2018-12-26"]
    assert iso(trading_days_after(date(2018, 12, 24), 1, "VOD.L")) == ["2018-12-27"]


def test_days_past_the_published_calendar_continue_on_weekdays():
    far = pd.Timestamp.today().normalize() + pd.Timedelta(days=800)
    days = trading_days_after(far, 5, "AAPL")
    assert len(days) == 5
    assert all(day.day_of_week < 5 for day in days)
    assert days.is_monotonic_increasing
    assert days[0] > far


def test_a_holiday_does_not_make_prices_stale():
    # On Wednesday 2019-01-02 the newest close that must exist is Monday's: Tuesday was New Year's Day.
    assert last_trading_day(date(2019, 1, 2), "^GSPC") == date(2018, 12, 31)
    assert not is_stale(date(2018, 12, 31), date(2019, 1, 2), "^GSPC")
    assert is_stale(date(2018, 12, 28), date(2019, 1, 2), "^GSPC")
    assert last_trading_day(date(2018, 12, 31), "^GSPC") == date(2018, 12, 28)  # Monday after a weekend


def test_building_a_calendar_leaves_no_deprecation_warning_of_the_library_in_the_logs(monkeypatch):
    from core.data import calendar

    # Another start than any earlier test asked for: the library builds this calendar anew, not from its cache.
    monkeypatch.setattr(calendar, "CALENDAR_START", "1991-01-02")
    calendar._calendar.cache_clear()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert len(trading_days_after(date(2018, 12, 31), 3, "VOD.L")) == 3
    finally:
        calendar._calendar.cache_clear()
    assert [str(w.message)[:60] for w in caught] == []
