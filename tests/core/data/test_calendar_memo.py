"""last_closed_session is worked out once per exchange and minute, with the answers of the walk it replaces.

The Tickers page's Freshness column, the screener and the watchlist ask it for every ticker on every run:
at about a millisecond each, 400 tickers cost 0.4 s of each run for answers shared by whole exchanges.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import exchange_calendars
import pandas as pd
import pytest

from core.data.calendar import calendar_for, is_stale, last_closed_session, session_end


def walked(now: datetime, ticker: str) -> date:
    """The answer as last_closed_session gave it before it was kept: every call walked back from today."""
    calendar = calendar_for(ticker)
    moment = pd.Timestamp(now).tz_convert("UTC")
    today = moment.tz_localize(None).normalize()
    if today - pd.Timedelta(days=1) > calendar.last_session:
        weekdays = pd.offsets.CustomBusinessDay(weekmask=calendar.weekmask)
        return weekdays.rollback(today - pd.Timedelta(days=1)).date()
    session = calendar.date_to_session(min(today, calendar.last_session), direction="previous")
    while session_end(session.date(), ticker) > moment:
        session = calendar.previous_session(session)
    return session.date()


# New York, London, Tokyo, Auckland (whose early closes fall on the UTC day before), Riyadh (Sunday
# sessions), Xetra by its index, a coin and a currency pair.
TICKERS = ["AAPL", "VOD.L", "7203.T", "AIR.NZ", "2222.SR", "^GDAXI", "BTC-USD", "EURUSD=X"]


def instants_around_closes(ticker: str, first: str, last: str) -> list[datetime]:
    """Just before, at and just after each close between two days, and the last instant of its minute."""
    calendar = calendar_for(ticker)
    moments = []
    for session in calendar.sessions_in_range(first, last):
        close = session_end(session.date(), ticker).to_pydatetime()
        for offset in (-timedelta(seconds=60), -timedelta(microseconds=1), timedelta(0), timedelta(microseconds=1)):
            moments.append(close + offset)
        moments.append(close + timedelta(seconds=59, microseconds=999_999))
    return moments


@pytest.mark.parametrize("ticker", TICKERS)
def test_the_same_answers_as_the_walk_around_every_close(ticker):
    # Late November to mid-December 2026: New York's early close on the day after Thanksgiving among them.
    moments = instants_around_closes(ticker, "2026-11-20", "2026-12-15")
    # And every 7 minutes and 13 seconds through the period, whatever falls between the closes.
    start = datetime(2026, 11, 20, tzinfo=UTC)
    moments += [start + timedelta(seconds=433 * step) for step in range(0, 26 * 24 * 3600 // 433)]
    for moment in moments:
        assert last_closed_session(moment, ticker) == walked(moment, ticker), (ticker, moment)


@pytest.mark.parametrize("ticker", ["AAPL", "7203.T", "AIR.NZ"])
def test_the_same_answers_in_another_time_zone_and_past_the_calendar_s_horizon(ticker):
    tokyo = ZoneInfo("Asia/Tokyo")
    for moment in instants_around_closes(ticker, "2026-12-01", "2026-12-04"):
        local = moment.astimezone(tokyo)
        assert last_closed_session(local, ticker) == walked(moment, ticker), (ticker, local)
    beyond = calendar_for(ticker).last_session.to_pydatetime().replace(tzinfo=UTC)
    for days in range(0, 10):
        for hours in (0, 5, 23):
            moment = beyond + timedelta(days=days, hours=hours, minutes=17, seconds=3)
            assert last_closed_session(moment, ticker) == walked(moment, ticker), (ticker, moment)


def test_a_naive_instant_is_still_refused():
    with pytest.raises(TypeError, match="timezone-aware"):
        last_closed_session(datetime(2026, 12, 7, 22), "AAPL")


def test_hundreds_of_tickers_on_three_exchanges_walk_each_exchange_s_calendar_once(monkeypatch):
    # The Tickers page's Freshness column: one instant, a ticker per row.
    walks = []
    real = exchange_calendars.ExchangeCalendar.date_to_session

    def counted(self, *args, **kwargs):
        walks.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(exchange_calendars.ExchangeCalendar, "date_to_session", counted)
    moment = datetime(2026, 12, 2, 15, 41, 27, tzinfo=UTC)  # an instant no other test asks about
    tickers = [f"T{n:03d}" for n in range(300)] + [f"V{n:03d}.L" for n in range(50)] + [f"{n}.T" for n in range(50)]
    answers = {ticker: last_closed_session(moment, ticker) for ticker in tickers}
    assert len(walks) <= 3, f"{len(walks)} walks for {len(tickers)} tickers"
    # Wednesday 15:41 UTC: Tokyo's session closed at 06:30, London's and New York's have not yet.
    assert (answers["T000"], answers["V000.L"], answers["1.T"]) == (
        date(2026, 12, 1),
        date(2026, 12, 1),
        date(2026, 12, 2),
    )
    # is_stale, which the Freshness column calls per row, asks the same kept answers.
    walks.clear()
    assert [is_stale(date(2026, 12, 1), moment, ticker) for ticker in tickers].count(True) == 50
    assert walks == []
