"""Exchange calendars: which days a ticker trades, which day's close is the newest that must exist.

The calendar comes from `exchange_calendars` (holidays and early closes maintained upstream), chosen
by the ticker's Yahoo spelling: an exchange suffix (VOD.L), a crypto pair (BTC-USD, every day) or a
currency pair (EURUSD=X, every weekday); tickers without one trade on the New York Stock Exchange.
"""

from __future__ import annotations

import re
import warnings
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from exchange_calendars import ExchangeCalendar

DEFAULT_EXCHANGE = "XNYS"
# Yahoo's suffixes for the exchanges analysts ask for most; anything else falls back to New York.
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
}
# Yahoo names a crypto pair coin-currency (BTC-USD); a share class is one letter (BRK-B), never a currency.
CRYPTO_PAIR = re.compile(r"^[A-Z0-9]{2,12}-(USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|CHF|CNY|KRW|INR|BTC|ETH)$")
EVERY_DAY, EVERY_WEEKDAY = "24/7", "24/5"
# Price histories here start in the 1990s; the library's default start is only 20 years back.
CALENDAR_START = "1990-01-01"


def exchange_for(ticker: str) -> str:
    """The exchange calendar code of a ticker, from its Yahoo spelling (VOD.L -> XLON, BTC-USD -> 24/7)."""
    symbol = ticker.upper()
    if CRYPTO_PAIR.match(symbol):
        return EVERY_DAY
    if symbol.endswith("=X"):
        return EVERY_WEEKDAY
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
        return exchange_calendars.get_calendar(code, start=CALENDAR_START)


def calendar_for(ticker: str) -> ExchangeCalendar:
    return _calendar(exchange_for(ticker))


def calendar_for_exchange(code: str) -> ExchangeCalendar:
    return _calendar(code)


def trading_days_after(last: date | pd.Timestamp, count: int, ticker: str) -> pd.DatetimeIndex:
    """The next `count` sessions of the ticker's exchange after `last`, holidays skipped.

    Past the calendar's published horizon (a year ahead) the days continue on the calendar's weekdays.
    """
    calendar = calendar_for(ticker)
    start = pd.Timestamp(last).normalize().tz_localize(None)
    first = start + pd.Timedelta(days=1)
    days = (
        list(calendar.sessions_in_range(first, calendar.last_session)[:count]) if first <= calendar.last_session else []
    )
    if len(days) < count:
        weekdays = _weekdays(calendar)
        tail_start = (days[-1] if days else max(start, calendar.last_session)) + weekdays
        days += list(pd.date_range(tail_start, periods=count - len(days), freq=weekdays))
    return pd.DatetimeIndex(days)


def last_trading_day(today: date, ticker: str = "") -> date:
    """The newest session strictly before today: its close is the newest one that must exist by now."""
    calendar = calendar_for(ticker)
    yesterday = pd.Timestamp(today) - pd.Timedelta(days=1)
    if yesterday > calendar.last_session:
        return _weekdays(calendar).rollback(yesterday).date()
    return calendar.date_to_session(yesterday, direction="previous").date()


def _weekdays(calendar: ExchangeCalendar) -> pd.offsets.CustomBusinessDay:
    """One day of the calendar's trading week (Monday to Friday, or every day), holidays unknown."""
    return pd.offsets.CustomBusinessDay(weekmask=calendar.weekmask)


def is_stale(last_date: date, today: date, ticker: str = "") -> bool:
    """Stale when the newest stored day is before the exchange's last completed session."""
    return last_date < last_trading_day(today, ticker)
