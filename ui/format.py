"""How numbers, dates and column names read on every page: one place, so every table agrees.

Prices read as a quote does: two decimals and thousands separators from 1 up, about four significant
digits below (price_decimals), so a coin at 0.05 or a token at 0.0000229 does not read 0.00. Shares of one
read as percentages, timestamps show in the browser's time zone without an offset, and column names are
words, not identifiers.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import streamlit as st

from core.forecasting.evaluation import MASE_SPEC
from ui.tables import MISSING, show_table

# Below 1, a price shows this many significant digits: 0.050137 -> 0.05014, -0.001313 -> -0.001313.
PRICE_DIGITS = 4
# Past this many decimals a value is float noise about zero (a MACD histogram at a crossing), not a price.
MAX_PRICE_DECIMALS = 12
COUNT_FORMAT = "%,d"
PERCENT_FORMAT = "%.2f %%"
SIGNED_PERCENT_FORMAT = "%+.2f %%"
MASE_FORMAT = f"%{MASE_SPEC}"
# Four decimals: at three, p = 0.0496 read 0.050 beside "beats persistence (p = 0.0496)".
P_VALUE_FORMAT = "%.4f"
MINUS = "\u2212"

# Names that no rule below would turn into words.
LABELS = {
    "ticker": "Ticker",
    "date": "Date",
    "close": "Close",
    "open": "Open",
    "high": "High",
    "low": "Low",
    "adjusted_close": "Adjusted close",
    "volume": "Volume",
    "obv": "On-balance volume",
    "macd": "MACD",
    "macd_signal": "MACD signal",
    "macd_hist": "MACD histogram",
    "bb_upper": "Bollinger upper",
    "bb_middle": "Bollinger middle",
    "bb_lower": "Bollinger lower",
    "model": "Model",
    "prediction_date": "Made on",
    "target_date": "Target day",
    "base_close": "Close when made",
    "predicted_value": "Predicted",
    "lower": "Interval low",
    "upper": "Interval high",
    "actual_value": "Actual",
    "actual_close": "Actual as traded",
    "matured_at": "Matured",
    "error": "Error",
    "inside": "Inside interval",
    "predictions": "Predictions",
    "mae": "MAE",
    "persistence_mae": "MAE of tomorrow = today",
    "mase": "MASE",
    "one_day_mase": "MASE, one-day",
    "move": "Move from last close",
    "rmse": "RMSE",
    "mape": "MAPE",
    "hit_rate": "Direction right",
    "hit_p_value": "p-value of direction",
    "dm_pvalue": "p-value against tomorrow = today",
    "dm_days": "One-day forecasts tested",
    "verdict": "Verdict",
    "coverage": "Interval coverage",
    "total_return": "Total return",
    "cagr": "Yearly growth",
    "max_drawdown": "Largest drop",
    "moving_average": "Moving average",
    "dropped_rows": "Dropped rows",
    "last_close": "Last close",
    "day_change": "Day change",
    "recent": "Last 60 closes",
    "stale": "Prices",
}
# The ledger's scoreboard (core.predictions.scoreboard) scores two sets of forecasts: every matured day of
# every run, and each run's first day alone, the forecasts its verdict tests. Unmarked, a MASE of every
# horizon of 2.41 stood beside "beats persistence" and read as a contradiction.
SCOREBOARD_LABELS = {
    "predictions": "Predictions, all horizons",
    "mae": "MAE, all horizons",
    "persistence_mae": "MAE of tomorrow = today, all horizons",
    "mase": "MASE, all horizons",
    "coverage": "Interval coverage, all horizons",
    "hit_rate": "Direction right, one-day",
    "hit_p_value": "p-value of direction, one-day",
    "dm_pvalue": "p-value against tomorrow = today, one-day",
    "one_day_mase": LABELS["one_day_mase"],
    "verdict": "Verdict, one-day",
}
_NUMBERED = {
    "rsi": "RSI {}",
    "ema": "EMA {}",
    "sma": "SMA {}",
    "atr": "ATR {}",
    "hv": "Volatility {} d",
}
PRICE_COLUMNS = {
    "open", "high", "low", "close", "adjusted_close", "base_close", "predicted_value", "lower", "upper",
    "actual_value", "actual_close", "error", "bb_upper", "bb_middle", "bb_lower", "last_close", "mae",
    "persistence_mae", "rmse",
}  # fmt: skip
PERCENT_COLUMNS = {"hit_rate", "coverage", "total_return", "cagr", "max_drawdown", "day_change", "mape", "move"}
SIGNED_COLUMNS = {"day_change", "move"}  # changes from a close: a rise shows its +, as quotes do
COUNT_COLUMNS = {"volume", "obv", "predictions", "dm_days", "dropped_rows"}
P_VALUE_COLUMNS = {"hit_p_value", "dm_pvalue", "p_value"}
MASE_COLUMNS = {"mase", "one_day_mase"}


def label(name: str) -> str:
    """The words a column is shown under: rsi_14 -> 'RSI 14', total_return -> 'Total return'."""
    if name in LABELS:
        return LABELS[name]
    match = re.fullmatch(r"([a-z]+)_(\d+)", name)
    if match and match.group(1) in _NUMBERED:
        return _NUMBERED[match.group(1)].format(match.group(2))
    return name.replace("_", " ").capitalize()


def _kind(name: str) -> str:
    if name in PRICE_COLUMNS or re.fullmatch(r"(ema|sma|atr)_\d+", name):
        return "price"
    # Volatility is annualised and shown in percent, as its chart pane and every quote site show it.
    if name in PERCENT_COLUMNS or re.fullmatch(r"hv_\d+", name):
        return "percent"
    if name in COUNT_COLUMNS:
        return "count"
    if name in MASE_COLUMNS:
        return "mase"
    if name in P_VALUE_COLUMNS:
        return "p-value"
    return "plain"


def browser_zone() -> ZoneInfo | None:
    """The viewer's time zone as the browser reports it; None outside a browser session."""
    try:
        name = st.context.timezone
    except Exception:  # noqa: BLE001 - no request context (bare mode, tests)
        return None
    try:
        return ZoneInfo(name) if name else None
    except (KeyError, ValueError):
        return None


def local_naive(values: pd.Series) -> pd.Series:
    """Timestamps in the viewer's zone without an offset (UTC where the zone is unknown)."""
    stamps = pd.to_datetime(values, utc=True)
    zone = browser_zone()
    return (stamps.dt.tz_convert(zone) if zone else stamps).dt.tz_localize(None)


def in_local_time(
    rows: list[dict], columns: list[str], moments: Iterable[str], *, seconds: bool = False
) -> tuple[pd.DataFrame, dict]:
    """Rows as a table whose moment columns read in the viewer's zone, to the minute as every table shows
    moments (to the second for a log, whose order within a minute matters), and the column_config that formats
    them; a column with no moment yet stays a moment column."""
    frame = pd.DataFrame(rows, columns=columns)
    shown_as = "YYYY-MM-DD HH:mm:ss" if seconds else "YYYY-MM-DD HH:mm"
    config = {}
    for column in moments:
        frame[column] = local_naive(frame[column])
        config[column] = st.column_config.DatetimeColumn(format=shown_as)
    return frame, config


def local_moment(value: datetime | pd.Timestamp | None) -> pd.Timestamp | None:
    """One stored UTC moment in the viewer's zone, without an offset to read past."""
    if value is None or value is pd.NaT:
        return None
    return local_naive(pd.Series([value])).iloc[0]


def minute(value: datetime | pd.Timestamp | None) -> str:
    """A stored UTC moment as the viewer's clock read it: 2019-01-02 17:05; empty for none."""
    moment = local_moment(value)
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def minutes(values: Iterable[datetime | pd.Timestamp | None]) -> list[str]:
    """minute() of each stored UTC moment, converted as one column: a list of jobs paid for each row's own
    conversion, about a millisecond apiece."""
    moments = local_naive(pd.Series(list(values), dtype=object))
    return moments.dt.strftime("%Y-%m-%d %H:%M").fillna("").tolist()


def count(value: float | None) -> str:
    """A whole number as every table prints one: 1,005; empty for none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.0f}"


def duration(seconds: float) -> str:
    """A wait in the units a person counts it in: 5 s, 1 min 40 s, 1 h 2 min (seconds dropped past the hour)."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def time_since(moment: datetime | pd.Timestamp) -> str:
    """How long ago a stored moment was, as duration() reads it; a moment without a zone is UTC, as stored."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return duration((pd.Timestamp.now(tz="UTC") - stamp).total_seconds())


def readable(frame: pd.DataFrame, *, keep: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The frame with word column names and local naive timestamps, and the column_config that formats it.

    keep maps a raw column to a label of the caller's choosing; every other name goes through label().
    """
    shown = frame.copy()
    config: dict[str, Any] = {}
    names = {}
    for column in shown.columns:
        raw = str(column)
        title = (keep or {}).get(raw) or label(raw)
        names[column] = title
        series = shown[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            shown[column] = local_naive(series)
            config[title] = st.column_config.DatetimeColumn(title, format="YYYY-MM-DD HH:mm")
        elif pd.api.types.is_datetime64_any_dtype(series) or _holds_dates(series):
            config[title] = st.column_config.DateColumn(title, format="YYYY-MM-DD")
        elif pd.api.types.is_bool_dtype(series):
            config[title] = st.column_config.CheckboxColumn(title)
        elif pd.api.types.is_numeric_dtype(series):
            kind = _kind(raw)
            if kind == "percent":
                # Shown in percent units with a fixed two decimals: 0.80 %, never 0.8% beside 0.14%.
                shown[column] = series * 100
                signed = raw in SIGNED_COLUMNS
                config[title] = st.column_config.NumberColumn(
                    title, format=SIGNED_PERCENT_FORMAT if signed else PERCENT_FORMAT
                )
            elif kind == "count":
                config[title] = st.column_config.NumberColumn(title, format=COUNT_FORMAT)
            elif kind in ("mase", "p-value"):
                config[title] = st.column_config.NumberColumn(
                    title, format=MASE_FORMAT if kind == "mase" else P_VALUE_FORMAT
                )
            else:
                config[title] = st.column_config.NumberColumn(title, format=price_format(series))
    shown = shown.rename(columns=names)
    return shown, config


def percent_points(table: pd.DataFrame, columns: Iterable[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fraction columns in percent units with readable()'s fixed two decimals, and their column_config.

    For tables whose columns are named by hand; Streamlit's "percent" preset drops trailing zeros, so
    51 % would stand beside 53.03 % in one column.
    """
    shown = table.copy()
    config = {}
    for name in columns:
        shown[name] = pd.to_numeric(shown[name], errors="coerce") * 100
        config[name] = st.column_config.NumberColumn(name, format=PERCENT_FORMAT)
    return shown, config


def _holds_dates(series: pd.Series) -> bool:
    first = series.dropna().head(1)
    return not first.empty and isinstance(first.iloc[0], date) and not isinstance(first.iloc[0], datetime)


def price_decimals(magnitude: float) -> int:
    """The decimals a price of this size is shown with: two from 1 up (2,506.85), PRICE_DIGITS significant
    digits below (0.05014, 0.00002290), as quote sites show a coin's price."""
    size = abs(float(magnitude))
    if not math.isfinite(size) or size == 0 or size >= 1:
        return 2
    return min(max(2, PRICE_DIGITS - 1 - math.floor(math.log10(size))), MAX_PRICE_DECIMALS)


def _sizes(values: pd.Series) -> pd.Series:
    sizes = pd.to_numeric(values, errors="coerce").abs()
    return sizes[np.isfinite(sizes) & (sizes > 0)]


def price_format(values: pd.Series) -> str:
    """A table column's printf format: the decimals of its smallest value, so every row (one ticker each) reads
    and the column's numbers line up ('%,.2f' for stocks; '%,.8f' for a column holding a token at 0.0000229)."""
    sizes = _sizes(values)
    return f"%,.{price_decimals(sizes.min() if not sizes.empty else 0.0)}f"


def typical_price_decimals(values: pd.Series) -> int:
    """The decimals of a series' typical (median) size: one ticker's prices over time, as a chart hovers them."""
    sizes = _sizes(values)
    return price_decimals(sizes.median() if not sizes.empty else 0.0)


def price(value: float | None) -> str:
    """2,498.94; 0.05014; 0.0000229; 0 for zero (never -0.00); an empty string for a missing value.

    Below 1, zeros after the cents are dropped, as the value alone sets its decimals.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    places = price_decimals(value)
    if round(float(value), places) == 0:
        return "0"
    text = f"{value:,.{places}f}"
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def percent(share: float | None, *, signed: bool = False) -> str:
    """A share of one as a percentage: 0.0123 -> '1.23 %' ('+1.23 %' when signed)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return ""
    return f"{share * 100:+.2f} %" if signed else f"{share * 100:.2f} %"


def day(value: date | datetime | pd.Timestamp | None) -> str:
    """A calendar day as 2019-01-02; timestamps are read in the viewer's zone first."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = local_moment(stamp)
    return f"{stamp:%Y-%m-%d}"


def show_readable(frame: pd.DataFrame, *, keep: dict[str, str] | None = None, **options: Any) -> None:
    """show_table of the readable frame, without the index, sized to its content rather than scrolling."""
    shown, config = readable(frame, keep=keep)
    config |= options.pop("column_config", {})
    show_table(shown, hide_index=True, column_config=config, **options)


def readable_value(name: str, value: Any) -> str:
    """One value as its column's kind reads: a price, a percentage, a count or a plain number.

    A negative number starts with the minus sign (U+2212), as quotes print it: show_table would take a
    leading hyphen for a formula and show '-65.63.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return str(value)
    kind = _kind(name)
    if kind == "percent":
        text = percent(float(value))
    elif kind == "count":
        text = f"{value:,.0f}"
    else:
        text = price(float(value))
    return MINUS + text[1:] if text.startswith("-") else text


def as_rows(values: pd.Series) -> pd.DataFrame:
    """One record turned on its side (name, value), so a wide record never scrolls sideways."""
    return pd.DataFrame(
        {
            "Indicator": [label(str(name)) for name in values.index],
            "Value": [readable_value(str(n), v) for n, v in values.items()],
        }
    )
