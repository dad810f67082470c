"""Exchange calendars: which days a ticker trades, which day's close is the newest that must exist.

The calendar comes from `exchange_calendars` (holidays and early closes maintained upstream), chosen
by the ticker's Yahoo spelling: a market index (^GDAXI, ^N225), an exchange suffix (VOD.L, 2222.SR), a
crypto pair (BTC-USD, every day) or a currency pair (EURUSD=X, every weekday). Tickers with none of
these, US indices (^GSPC, ^DJI) among them, and indices or suffixes not listed here trade on the New
York Stock Exchange's calendar.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from common.errors import BadInput

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

DEFAULT_EXCHANGE = "XNYS"
# Yahoo's suffix of each exchange that exchange_calendars has a calendar for; anything else falls back to New York.
# Athens (.AT), Bucharest (.RO) and Tel Aviv (.TA) are left out: exchange_calendars 4.13.2 cannot build their
# calendars under pandas 3.1 (Orthodox Easter; Tel Aviv's Sunday sessions before 2026).
EXCHANGE_BY_SUFFIX = {
    "L": "XLON",
    "TO": "XTSE",
    "V": "XTSE",
    "DE": "XETR",
    "F": "XFRA",
    "PA": "XPAR",
    "AS": "XAMS",
    "BR": "XBRU",
    "MI": "XMIL",
    "MC": "XMAD",
    "SW": "XSWX",
    "ST": "XSTO",
    "CO": "XCSE",
    "HE": "XHEL",
    "OL": "XOSL",
    "IR": "XDUB",
    "LS": "XLIS",
    "VI": "XWBO",
    "HK": "XHKG",
    "T": "XTKS",
    "AX": "XASX",
    "NZ": "XNZE",
    "SS": "XSHG",
    "SZ": "XSHG",
    "KS": "XKRX",
    "BO": "XBOM",
    "NS": "XBOM",
    "SA": "BVMF",
    "MX": "XMEX",
    "JO": "XJSE",
    "IL": "XLON",  # London's international order book
    "DU": "XDUS",
    "HM": "XHAM",
    "SG": "XSTU",
    # Berlin and Munich have no calendar upstream; like Duesseldorf they trade 8:00-22:00 on Germany's exchange days.
    "BE": "XDUS",
    "MU": "XDUS",
    "WA": "XWAR",
    "PR": "XPRA",
    "BD": "XBUD",
    "IS": "XIST",
    "IC": "XICE",
    "TL": "XTAL",
    "RG": "XRIS",
    "VS": "XLIT",
    "ME": "XMOS",
    "SR": "XSAU",
    "KQ": "XKRX",  # KOSDAQ, on the Korea Exchange's calendar
    "TW": "XTAI",
    "TWO": "XTAI",  # Taipei Exchange, on Taiwan's calendar
    "SI": "XSES",
    "KL": "XKLS",
    "BK": "XBKK",
    "JK": "XIDX",
    "PS": "XPHS",
    "BA": "XBUE",
    "SN": "XSGO",
    "CL": "XBOG",
    "LM": "XLIM",
}
# Yahoo spells an index ^NAME with no suffix: the calendar of the exchange it is computed on.
EXCHANGE_BY_INDEX = {
    **dict.fromkeys(("^GDAXI", "^MDAXI", "^SDAXI", "^TECDAX"), "XETR"),
    **dict.fromkeys(("^FTSE", "^FTMC", "^FTAS"), "XLON"),
    "^N225": "XTKS",
    **dict.fromkeys(("^HSI", "^HSCE"), "XHKG"),
    **dict.fromkeys(("^FCHI", "^N100"), "XPAR"),
    # STOXX computes its indices on Eurex's trading days (Whit Monday included, unlike Xetra).
    **dict.fromkeys(("^STOXX50E", "^STOXX"), "XEUR"),
    **dict.fromkeys(("^AXJO", "^AORD"), "XASX"),
    "^NZ50": "XNZE",
    **dict.fromkeys(("^GSPTSE", "^TX60"), "XTSE"),
    "^BVSP": "BVMF",
    "^MXX": "XMEX",
    "^MERV": "XBUE",
    "^IPSA": "XSGO",
    **dict.fromkeys(("^KS11", "^KQ11"), "XKRX"),
    "^TWII": "XTAI",
    **dict.fromkeys(("^NSEI", "^BSESN", "^NSEBANK", "^CNXIT"), "XBOM"),
    "^STI": "XSES",
    "^JKSE": "XIDX",
    "^KLSE": "XKLS",
    "^SSMI": "XSWX",
    "^AEX": "XAMS",
    "^BFX": "XBRU",
    "^IBEX": "XMAD",
    "^OMX": "XSTO",
    "^OMXC25": "XCSE",
    "^OMXH25": "XHEL",
    "^OSEAX": "XOSL",
    "^ATX": "XWBO",
    "^ISEQ": "XDUB",
}
# Yahoo names a crypto pair coin-currency (BTC-USD); a share class is one letter (BRK-B), never a currency.
CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|CHF|CNY|KRW|INR|BTC|ETH)$")
EVERY_DAY, EVERY_WEEKDAY = "24/7", "24/5"
# Days a year by which daily figures are annualised, by the convention of each kind of market.
DAYS_A_YEAR = {EVERY_DAY: 365, EVERY_WEEKDAY: 260}
EXCHANGE_DAYS_A_YEAR = 252
# Price histories here start in the 1990s; the library's default start is only 20 years back.
CALENDAR_START = "1990-01-01"


def exchange_for(ticker: str) -> str:
    """The exchange calendar code of a ticker, from its Yahoo spelling (VOD.L -> XLON, BTC-USD -> 24/7)."""
    symbol = ticker.upper()
    if CRYPTO_PAIR.match(symbol):
        return EVERY_DAY
    if symbol.endswith("=X"):
        return EVERY_WEEKDAY
    if symbol in EXCHANGE_BY_INDEX:
        return EXCHANGE_BY_INDEX[symbol]
    _, dot, suffix = symbol.rpartition(".")
    return EXCHANGE_BY_SUFFIX.get(suffix, DEFAULT_EXCHANGE) if dot else DEFAULT_EXCHANGE


@cache
def _calendar(code: str) -> ExchangeCalendar:
    import exchange_calendars  # about a second to import: only where dates are computed

    with warnings.catch_warnings():
        # exchange_calendars 4.13.2 (the newest) reads Series.values of its own schedule, which pandas 3.1
        # deprecates; the values it takes are UTC nanoseconds either way. One warning per calendar in
        # every log otherwise, about code that is not ours.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray", module="pandas")
        # Hong Kong's calendar reads DatetimeIndex.weekday, deprecated likewise.
        warnings.filterwarnings("ignore", message="DatetimeIndex.weekday is deprecated", module="exchange_calendars")
        try:
            return exchange_calendars.get_calendar(code, start=CALENDAR_START)
        except ValueError:
            # Tokyo, Mumbai, Shanghai and Riyadh publish holidays only from a later year (1991 to 2021).
            earliest = type(exchange_calendars.get_calendar(code)).bound_min()
            return exchange_calendars.get_calendar(code, start=_first_new_year(earliest))


def _first_new_year(day: pd.Timestamp) -> pd.Timestamp:
    """1 January of the day's year, or of the next year: calendars record holidays by whole years."""
    return day if day.day_of_year == 1 else pd.Timestamp(year=day.year + 1, month=1, day=1)


def days_a_year(tickers: list[str] | tuple[str, ...]) -> int:
    """The trading days a year that daily returns of these tickers, on the days they all trade, are annualised by.

    The markets' conventions: 365 for a coin, which trades every day (252 understated a coin's annual
    volatility by a quarter and its return more), 260 for a currency pair, 252 for an exchange. Days
    several tickers share are those of the one trading least.
    """
    return min(DAYS_A_YEAR.get(exchange_for(ticker), EXCHANGE_DAYS_A_YEAR) for ticker in tickers)


def calendar_for(ticker: str) -> ExchangeCalendar:
    return _calendar(exchange_for(ticker))


def calendar_for_exchange(code: str) -> ExchangeCalendar:
    return _calendar(code)


class BeforeCalendarError(BadInput):
    """A day before the first session of the ticker's exchange calendar: the sessions after it are unknown."""


def trading_days_after(last: date | pd.Timestamp, count: int, ticker: str) -> pd.DatetimeIndex:
    """The next `count` sessions of the ticker's exchange after `last`, holidays skipped.

    Past the calendar's published horizon (a year ahead) the days continue on the calendar's weekdays.
    Before its first session they are unknown: BeforeCalendarError.
    """
    calendar = calendar_for(ticker)
    start = pd.Timestamp(last).normalize().tz_localize(None)
    first = start + pd.Timedelta(days=1)
    if first < calendar.first_session:
        # Weekdays would guess, and the guess would become the ledger's target days; the library's own
        # error ("Parameter `start` receieved as ...") means nothing to the user who pressed Predict.
        opens = f"{calendar.first_session:%Y-%m-%d}"
        raise BeforeCalendarError(
            f"{ticker}'s trading days after {start:%Y-%m-%d} are unknown: the calendar of its exchange "
            f"({calendar.name}) starts on {opens}. Forecasts need prices that reach {opens} or later."
        )
    days = (
        list(calendar.sessions_in_range(first, calendar.last_session)[:count]) if first <= calendar.last_session else []
    )
    if len(days) < count:
        weekdays = _weekdays(calendar)
        tail_start = (days[-1] if days else max(start, calendar.last_session)) + weekdays
        days += list(pd.date_range(tail_start, periods=count - len(days), freq=weekdays))
    return pd.DatetimeIndex(days)


def last_closed_session(now: datetime, ticker: str) -> date:
    """The newest session of the ticker's exchange that has closed by `now`: its bar is the newest that must exist.

    `now` is an instant (a timezone-aware datetime): Tokyo's Monday bar is due from 06:30 UTC, New York's
    from 21:00 UTC (18:00 on an early close), a coin's at midnight UTC; see session_end. Past the calendar's
    published horizon the session is the weekday before now's day in UTC, close times unknown.
    """
    code = exchange_for(ticker)
    moment = _instant(now)
    # Pages ask for every ticker on every run (the Tickers page's Freshness column, the screener): the walk
    # costs up to a millisecond, and its answer is the exchange's. So it is kept per exchange and minute: the
    # answer changes only at a close or a UTC midnight, and none falls between an instant and its whole minute.
    step = _close_step(code)
    return _last_closed_session_of(code, moment.floor(step) if step else moment)


@lru_cache(maxsize=4096)
def _last_closed_session_of(code: str, moment: pd.Timestamp) -> date:
    calendar = _calendar(code)
    today = moment.tz_localize(None).normalize()
    if today - pd.Timedelta(days=1) > calendar.last_session:
        return _weekdays(calendar).rollback(today - pd.Timedelta(days=1)).date()
    # A session closes on the UTC day it is named after or later: none named after today has closed.
    session = calendar.date_to_session(min(today, calendar.last_session), direction="previous")
    while _session_end_on(calendar, session) > moment:
        session = calendar.previous_session(session)
    return session.date()


@cache
def _close_step(code: str) -> pd.Timedelta | None:
    """A minute when every close of the exchange's calendar falls on a whole minute (all of them do), else None.

    Flooring an instant to it then moves it past no close and no midnight, so the floored instant has the
    same newest closed session as the instant itself.
    """
    closes = pd.DatetimeIndex(_calendar(code).closes)
    return pd.Timedelta(minutes=1) if (closes == closes.floor("min")).all() else None


def _instant(now: datetime) -> pd.Timestamp:
    """`now` in UTC; a bare day or a naive datetime is refused: which sessions have closed depends on the hour."""
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise TypeError(f"staleness is judged at a timezone-aware instant, not {now!r}")
    return pd.Timestamp(now).tz_convert("UTC")


def session_end(day: date, ticker: str) -> pd.Timestamp:
    """When the ticker's session of `day` closes, in UTC (a 24/7 or 24/5 day ends at midnight UTC).

    A day the calendar has no session for (a bar the provider dates on a holiday) ends at midnight
    where the exchange is: no close is published for it.
    """
    return _session_end_on(calendar_for(ticker), pd.Timestamp(day))


def _session_end_on(calendar: ExchangeCalendar, session: pd.Timestamp) -> pd.Timestamp:
    if calendar.first_session <= session <= calendar.last_session and calendar.is_session(session):
        return calendar.session_close(session)
    return (session + pd.Timedelta(days=1)).tz_localize(calendar.tz).tz_convert("UTC")


def _weekdays(calendar: ExchangeCalendar) -> pd.offsets.CustomBusinessDay:
    """One day of the calendar's trading week (Monday to Friday, or every day), holidays unknown."""
    return pd.offsets.CustomBusinessDay(weekmask=calendar.weekmask)


def is_stale(last_date: date, now: datetime, ticker: str) -> bool:
    """Stale when the newest stored day is before the exchange's newest session closed by `now` (aware)."""
    return last_date < last_closed_session(now, ticker)


def as_instant(when: date | datetime) -> datetime:
    """An aware datetime as it is; a bare day as its first instant in UTC, before any session of that day closed."""
    if isinstance(when, datetime):
        return when
    return datetime(when.year, when.month, when.day, tzinfo=UTC)
