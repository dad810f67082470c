"""From prices to model inputs: daily features and sliding windows over them.

Row t of the feature table holds only what is known at the close of day t. A window ending on day t
is features t-window+1..t, so no window sees its own future.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from common.errors import Refusal
from core.indicators import compute_all


class DatasetError(Refusal, ValueError):
    """The prices cannot train or evaluate a model; the message says why."""


def adjusted_close(prices: pd.DataFrame) -> pd.Series:
    """The split- and dividend-adjusted close where the prices carry one, else the close."""
    close = prices["close"].astype(float)
    if "adjusted_close" not in prices:
        return close
    return prices["adjusted_close"].astype(float).fillna(close)


def feature_table(prices: pd.DataFrame, features: tuple[str, ...]) -> pd.DataFrame:
    """The chosen features per day, from a frame with date, open, high, low, close, (adjusted_close,) volume.

    Returns and price-shaped indicators come from the adjusted close: a split is not a crash.
    """
    close = adjusted_close(prices)
    columns: dict[str, pd.Series] = {}
    needs_indicators = {"hv_20", "rsi_14", "macd_hist"} & set(features)
    indicators = (
        compute_all(prices.assign(close=close).astype({c: float for c in ("high", "low", "close", "volume")}))
        if needs_indicators
        else None
    )
    for name in features:
        if name == "log_return":
            columns[name] = np.log(close / close.shift(1))
        elif name == "close":
            columns[name] = close
        elif name == "volume_change":
            volume = prices["volume"].astype(float)
            columns[name] = np.log((volume + 1) / (volume.shift(1) + 1))
        elif name == "range":
            columns[name] = (prices["high"] - prices["low"]) / prices["close"].astype(float)
        elif name == "macd_hist":
            columns[name] = indicators["macd_hist"] / close
        else:
            columns[name] = indicators[name]
    return pd.DataFrame(columns, index=prices.index)


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
