"""Saying plainly when prices are older than the exchange's last trading day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import streamlit as st

from core.data.calendar import is_stale, last_trading_day
from ui.format import day
from ui.text import plain


def today() -> date:
    return datetime.now(UTC).date()


def stale_since(ticker: str, last_bar: date) -> str:
    """'' when the last bar is the exchange's last trading day or newer, else a short 'stale' label."""
    last_bar = pd.Timestamp(last_bar).date()
    return f"stale: last bar {day(last_bar)}" if is_stale(last_bar, today(), ticker) else ""


def warn_if_stale(ticker: str, last_bar: date, what: str) -> bool:
    """A warning above something computed from old prices, naming the last bar; True when shown."""
    last_bar = pd.Timestamp(last_bar).date()
    if not is_stale(last_bar, today(), ticker):
        return False
    expected = last_trading_day(today(), ticker)
    st.warning(
        f"{plain(what)} uses prices of {plain(ticker)} up to {plain(day(last_bar))}; the exchange has traded since "
        f"(last trading day {plain(day(expected))}). Fetch newer prices, or upload a newer file, on the Tickers page.",
        icon=":material/schedule:",
    )
    return True
