"""From prices to model inputs: daily features and sliding windows over them.

Row t of the feature table holds only what is known at the close of day t. A window ending on day t
is features t-window+1..t, so no window sees its own future.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import talib

from common.errors import BadInput
from core.indicators import historical_volatility

MACD_DAYS = 26 + 9 - 1  # the slow EMA and the signal line's warm-up
# The rows each feature has no value on, from the first day of prices: a return needs the day before it.
WARM_UP_DAYS = {
    "log_return": 1,
    "hv_20": 20,
    "rsi_14": 14,
    "macd_hist": MACD_DAYS - 1,
    "volume_change": 1,
    "range": 0,
    "close": 0,
}


class DatasetError(BadInput, ValueError):
    """The prices cannot train or evaluate a model; the message says why."""


def adjusted_close(prices: pd.DataFrame) -> pd.Series:
    """The split- and dividend-adjusted close where the prices carry one, else the close."""
    close = prices["close"].astype(float)
    if "adjusted_close" not in prices:
        return close
    return prices["adjusted_close"].astype(float).fillna(close)


def feature_table(prices: pd.DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    """The chosen features per day, from a frame with date, open, high, low, close, (adjusted_close,) volume.

    Returns and price-shaped indicators come from the adjusted close: a split is not a crash. Each
    indicator is computed alone, on arrays: a forecast computes this table once per day ahead.
    """
    close = adjusted_close(prices).to_numpy(dtype=float)
    days = len(close)
    missing = np.full(days, np.nan)

    def previous(values: np.ndarray) -> np.ndarray:
        return np.concatenate([[np.nan], values[:-1]])

    columns: dict[str, np.ndarray] = {}
    for name in features:
        if name == "log_return":
            columns[name] = np.log(close / previous(close))
        elif name == "close":
            columns[name] = close
        elif name == "volume_change":
            volume = prices["volume"].to_numpy(dtype=float)
            columns[name] = np.log((volume + 1) / (previous(volume) + 1))
        elif name == "range":
            columns[name] = (prices["high"].to_numpy(float) - prices["low"].to_numpy(float)) / prices["close"].to_numpy(
                float
            )
        elif name == "macd_hist":
            columns[name] = talib.MACD(close, 12, 26, 9)[2] / close if days >= MACD_DAYS else missing
        elif name == "rsi_14":
            columns[name] = talib.RSI(close, timeperiod=14) if days > 14 else missing
        else:  # hv_20
            columns[name] = historical_volatility(pd.Series(close), 20).to_numpy() if days > 20 else missing
    return pd.DataFrame(columns, index=prices.index)


def warm_up_days(features: tuple[str, ...]) -> int:
    """The days before the first on which every one of the features has a value."""
    return max(WARM_UP_DAYS[name] for name in features)


def sliding_windows(values: np.ndarray, window: int) -> np.ndarray:
    """All windows of consecutive rows, shaped (rows - window + 1, window, features).

    Window i holds rows i .. i + window - 1.
    """
    return np.lib.stride_tricks.sliding_window_view(values, window, axis=0).transpose(0, 2, 1)


def data_hash(prices: pd.DataFrame) -> str:
    """SHA-256 of the dates and prices a model was trained on."""
    columns = ["date", "open", "high", "low", "close", "volume"]
    text = prices[columns].to_csv(index=False, float_format="%.10g", date_format="%Y-%m-%d")
    return hashlib.sha256(text.encode()).hexdigest()
