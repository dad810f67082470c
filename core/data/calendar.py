"""Trading-day arithmetic for freshness: which business day's prices should the cache have by now."""

from __future__ import annotations

from datetime import date

import pandas as pd
from pandas.tseries.offsets import BDay


def last_business_day(today: date) -> date:
    """The most recent weekday before today: its close is the newest one that must exist."""
    return (pd.Timestamp(today) - BDay(1)).date()


def is_stale(last_date: date, today: date) -> bool:
    """Stale when the newest cached day is before the last business day (holidays aside)."""
    return last_date < last_business_day(today)
