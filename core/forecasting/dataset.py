"""From prices to model inputs: daily features and sliding windows over them.

Row t of the feature table holds only what is known at the close of day t. A window ending on day t
is features t-window+1..t, so no window sees its own future.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from common.errors import BadInput
from core.forecasting.features import FEATURES


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
    return pd.DataFrame({name: FEATURES[name].compute(prices, close) for name in features}, index=prices.index)


def warm_up_days(features: tuple[str, ...]) -> int:
    """The days before the first on which every one of the features has a value."""
    return max(FEATURES[name].warm_up_days for name in features)


def sliding_windows(values: np.ndarray, window: int) -> np.ndarray:
    """All windows of consecutive rows, shaped (rows - window + 1, window, features).

    Window i holds rows i .. i + window - 1.
    """
    return np.lib.stride_tricks.sliding_window_view(values, window, axis=0).transpose(0, 2, 1)


def data_hash(prices: pd.DataFrame) -> str:
    """SHA-256 of the dates and prices a model was trained on, the adjusted closes its returns come from included."""
    adjusted = ["adjusted_close"] if "adjusted_close" in prices else []
    columns = ["date", "open", "high", "low", "close", *adjusted, "volume"]
    text = prices[columns].to_csv(index=False, float_format="%.10g", date_format="%Y-%m-%d")
    return hashlib.sha256(text.encode()).hexdigest()
