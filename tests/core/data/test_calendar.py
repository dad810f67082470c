"""Exchange calendars: holidays are skipped, the exchange follows the ticker's suffix, staleness counts sessions."""

import warnings
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from common.errors import BadInput
from core.data.calendar import exchange_for, is_stale, session_end, trading_days_after


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def last_closed_session(now: datetime, ticker: str) -> date:
    from core.data.calendar import last_closed_session

    return last_closed_session(now, ticker)


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
    assert last_closed_session(utc("2018-12-31 00:00"), "BTC-USD") == date(2018, 12, 30)
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
    # Before Wednesday 2019-01-02's close the newest close that must exist is Monday's: Tuesday was New Year's Day.
    assert last_closed_session(utc("2019-01-02 12:00"), "^GSPC") == date(2018, 12, 31)
    assert not is_stale(date(2018, 12, 31), utc("2019-01-02 12:00"), "^GSPC")
    assert is_stale(date(2018, 12, 28), utc("2019-01-02 12:00"), "^GSPC")
    assert last_closed_session(utc("2018-12-31 12:00"), "^GSPC") == date(2018, 12, 28)  # Monday after a weekend


def test_tokyo_s_monday_bar_is_due_once_tokyo_closed_though_the_utc_day_is_not_over():
    # Monday 2026-12-07: Tokyo closed at 15:30 JST, 06:30 UTC; Friday's bar is no longer the newest due.
    assert last_closed_session(utc("2026-12-07 13:21"), "7203.T") == date(2026, 12, 7)
    assert is_stale(date(2026, 12, 4), utc("2026-12-07 13:21"), "7203.T")
    assert not is_stale(date(2026, 12, 4), utc("2026-12-07 06:29"), "7203.T")


def test_new_york_s_monday_bar_is_due_from_its_close_at_21_utc():
    assert is_stale(date(2026, 12, 4), utc("2026-12-07 22:00"), "AAPL")
    assert is_stale(date(2026, 12, 4), utc("2026-12-07 21:00"), "AAPL"), "due at the close itself"
    assert not is_stale(date(2026, 12, 4), utc("2026-12-07 20:59"), "AAPL")
    assert last_closed_session(utc("2026-12-07 20:59"), "AAPL") == date(2026, 12, 4)


def test_an_early_close_makes_the_day_s_bar_due_at_that_close():
    # Friday 2026-11-27, the day after Thanksgiving: New York closes at 13:00 EST, 18:00 UTC.
    assert last_closed_session(utc("2026-11-27 18:30"), "AAPL") == date(2026, 11, 27)
    assert is_stale(date(2026, 11, 25), utc("2026-11-27 18:30"), "AAPL")
    assert not is_stale(date(2026, 11, 25), utc("2026-11-27 17:59"), "AAPL")


def test_a_crypto_day_is_due_at_midnight_utc():
    # 24/7: each day's session ends at 00:00 UTC of the next, as session_end says.
    assert session_end(date(2026, 12, 6), "BTC-USD") == utc("2026-12-07 00:00")
    assert last_closed_session(utc("2026-12-07 13:21"), "BTC-USD") == date(2026, 12, 6)
    assert last_closed_session(utc("2026-12-07 00:00"), "BTC-USD") == date(2026, 12, 6)
    assert last_closed_session(utc("2026-12-06 23:59"), "BTC-USD") == date(2026, 12, 5)
    assert not is_stale(date(2026, 12, 6), utc("2026-12-07 13:21"), "BTC-USD")
    assert is_stale(date(2026, 12, 5), utc("2026-12-07 13:21"), "BTC-USD")


def test_past_the_published_calendar_the_last_session_is_the_weekday_before():
    from core.data.calendar import calendar_for

    beyond = calendar_for("AAPL").last_session + pd.Timedelta(days=30)
    monday = beyond + pd.Timedelta(days=(7 - beyond.day_of_week) % 7)
    now = monday.tz_localize(UTC) + pd.Timedelta(hours=23)
    assert last_closed_session(now.to_pydatetime(), "AAPL") == (monday - pd.Timedelta(days=3)).date()


def test_staleness_is_judged_at_an_instant_never_at_a_bare_day():
    with pytest.raises(TypeError, match="timezone-aware"):
        is_stale(date(2026, 12, 4), date(2026, 12, 7), "AAPL")
    with pytest.raises(TypeError, match="timezone-aware"):
        is_stale(date(2026, 12, 4), datetime(2026, 12, 7, 22), "AAPL")


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


@pytest.mark.parametrize(
    ("ticker", "exchange"),
    [
        ("^GDAXI", "XETR"), ("^FTSE", "XLON"), ("^N225", "XTKS"), ("^HSI", "XHKG"), ("^FCHI", "XPAR"),
        ("^STOXX50E", "XEUR"), ("^AXJO", "XASX"), ("^GSPTSE", "XTSE"), ("^BVSP", "BVMF"), ("^KS11", "XKRX"),
        ("^TWII", "XTAI"), ("^NSEI", "XBOM"), ("^BSESN", "XBOM"), ("^gdaxi", "XETR"),
        ("^GSPC", "XNYS"), ("^DJI", "XNYS"), ("^IXIC", "XNYS"), ("^RUT", "XNYS"), ("^VIX", "XNYS"),
    ],
)  # fmt: skip
def test_an_index_follows_the_calendar_of_its_exchange(ticker, exchange):
    assert exchange_for(ticker) == exchange


@pytest.mark.parametrize(
    ("ticker", "exchange"),
    [
        ("PKO.WA", "XWAR"), ("THYAO.IS", "XIST"), ("247540.KQ", "XKRX"), ("2330.TW", "XTAI"), ("D05.SI", "XSES"),
        ("2222.SR", "XSAU"), ("BBCA.JK", "XIDX"), ("PTT.BK", "XBKK"), ("CEZ.PR", "XPRA"),
    ],
)  # fmt: skip
def test_more_exchange_suffixes_are_known(ticker, exchange):
    assert exchange_for(ticker) == exchange


def test_every_mapped_exchange_has_a_calendar_that_builds_and_reaches_today():
    from core.data.calendar import EXCHANGE_BY_INDEX, EXCHANGE_BY_SUFFIX, calendar_for_exchange

    today = pd.Timestamp.today().normalize()
    for code in sorted(set(EXCHANGE_BY_SUFFIX.values()) | set(EXCHANGE_BY_INDEX.values())):
        calendar = calendar_for_exchange(code)
        assert calendar.first_session < today < calendar.last_session, code


def test_tokyo_whose_calendar_starts_after_1990_still_gives_its_next_session():
    # 2018-12-28 is Tokyo's last session of the year; it reopens on 4 January.
    assert iso(trading_days_after(date(2018, 12, 28), 1, "7203.T")) == ["2019-01-04"]


def test_frankfurt_is_closed_on_christmas_eve_where_new_york_trades():
    assert iso(trading_days_after(date(2026, 12, 23), 1, "^GDAXI")) == ["2026-12-28"]
    assert iso(trading_days_after(date(2026, 12, 23), 1, "^GSPC")) == ["2026-12-24"]


def test_berlin_and_munich_keep_the_german_exchanges_holidays_and_hours():
    # Neither has a calendar of its own upstream; they trade 8:00-22:00 on Germany's exchange days.
    for ticker in ("SAP.BE", "SAP.MU"):
        assert iso(trading_days_after(date(2026, 12, 23), 1, ticker)) == ["2026-12-28"]
        assert session_end(date(2026, 12, 28), ticker) == pd.Timestamp("2026-12-28 21:00", tz="UTC")


def test_riyadh_trades_sunday_to_thursday():
    # Thursday 2026-03-05: the Saudi exchange's next sessions are Sunday and Monday, never the Friday.
    assert iso(trading_days_after(date(2026, 3, 5), 2, "2222.SR")) == ["2026-03-08", "2026-03-09"]
    assert last_closed_session(utc("2026-03-08 11:00"), "2222.SR") == date(2026, 3, 5)
    assert last_closed_session(utc("2026-03-08 12:00"), "2222.SR") == date(2026, 3, 8)


def test_a_session_ends_at_its_exchange_close_and_a_crypto_day_at_midnight_utc():
    from core.data.calendar import session_end

    # Thursday 2026-03-05: New York closes at 16:00 EST, Tokyo at 15:30 JST, Riyadh at 15:00 AST.
    assert session_end(date(2026, 3, 5), "AAPL") == pd.Timestamp("2026-03-05 21:00", tz="UTC")
    assert session_end(date(2026, 3, 5), "7203.T") == pd.Timestamp("2026-03-05 06:30", tz="UTC")
    assert session_end(date(2026, 3, 5), "2222.SR") == pd.Timestamp("2026-03-05 12:00", tz="UTC")
    assert session_end(date(2026, 3, 7), "BTC-USD") == pd.Timestamp("2026-03-08 00:00", tz="UTC")
    assert session_end(date(2026, 3, 5), "EURUSD=X") == pd.Timestamp("2026-03-06 00:00", tz="UTC")


def test_a_bar_on_a_day_without_a_session_ends_at_local_midnight():
    from core.data.calendar import session_end

    # Saturday in New York: no close is published, so the bar is final once the day is over there.
    assert session_end(date(2026, 3, 7), "AAPL") == pd.Timestamp("2026-03-08 05:00", tz="UTC")


@pytest.mark.parametrize(
    ("ticker", "last", "message"),
    [
        ("MSFT", date(1989, 12, 29), "MSFT's trading days after 1989-12-29 are unknown: the calendar of its exchange "
         "(XNYS) starts on 1990-01-02. Forecasts need prices that reach 1990-01-02 or later."),
        ("2222.SR", date(2019, 12, 31), "calendar of its exchange (XSAU) starts on 2021-01-03"),
        ("7203.T", date(1995, 12, 29), "calendar of its exchange (XTKS) starts on 1997-01-06"),
    ],
)  # fmt: skip
def test_a_day_before_the_exchange_s_calendar_is_refused_in_words_of_ours(ticker, last, message):
    # exchange_calendars' own words reached the user: "Parameter `start` receieved as '1989-12-30 00:00:00'".
    with pytest.raises(BadInput) as refused:
        trading_days_after(last, 3, ticker)
    assert message in str(refused.value)
    assert "Parameter" not in str(refused.value)
