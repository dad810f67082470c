"""Saying plainly when prices are older than the exchange's newest closed session."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from core.data.calendar import is_stale, last_closed_session
from ui.format import day
from ui.text import plain


def now() -> datetime:
    """The pages' clock (tests replace it): staleness is judged at this instant, in UTC."""
    return datetime.now(UTC)


def stale_since(ticker: str, last_bar: date) -> str:
    """'' when the last bar is the exchange's newest closed session or newer, else a short 'stale' label."""
    last_bar = pd.Timestamp(last_bar).date()
    return f"stale: last bar {day(last_bar)}" if is_stale(last_bar, now(), ticker) else ""


def warn_if_stale(ticker: str, last_bar: date, what: str) -> bool:
    """A warning above something computed from old prices, naming the last bar; True when shown."""
    last_bar = pd.Timestamp(last_bar).date()
    moment = now()
    if not is_stale(last_bar, moment, ticker):
        return False
    expected = last_closed_session(moment, ticker)
    st.warning(
        f"{plain(what)} uses prices of {plain(ticker)} up to {plain(day(last_bar))}; the exchange has traded since "
        f"(last trading day {plain(day(expected))}). Fetch newer prices, or upload a newer file, on the Tickers page.",
        icon=":material/schedule:",
    )
    return True
