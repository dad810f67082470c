"""The daily features a network can read: the name a person sees, what each means, and how it is computed.

Row t of a feature holds only what is known at the close of day t. Each feature says how many first days
of prices it has no value on, beside the computation that leaves them empty, so that a submit counting
days and a fit reading the table agree on the first complete window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import talib

from core.indicators import historical_volatility

MACD_SLOW, MACD_SIGNAL = 26, 9


@dataclass(frozen=True)
class Feature:
    label: str
    description: str
    warm_up_days: int  # the first rows without a value: a return needs the day before it
    compute: Callable[[pd.DataFrame, np.ndarray], np.ndarray]  # (prices, adjusted close) -> one value a day


def _previous(values: np.ndarray) -> np.ndarray:
    return np.concatenate([[np.nan], values[:-1]])


def _log_return(_prices: pd.DataFrame, close: np.ndarray) -> np.ndarray:
    return np.log(close / _previous(close))


def _volume_change(prices: pd.DataFrame, _close: np.ndarray) -> np.ndarray:
    volume = prices["volume"].to_numpy(dtype=float)
    return np.log((volume + 1) / (_previous(volume) + 1))


def _range(prices: pd.DataFrame, _close: np.ndarray) -> np.ndarray:
    # High, low and close of one day share its scale, so the raw prices need no adjusting here.
    raw = prices[["high", "low", "close"]].to_numpy(dtype=float)
    return (raw[:, 0] - raw[:, 1]) / raw[:, 2]


def _macd_hist(_prices: pd.DataFrame, close: np.ndarray) -> np.ndarray:
    if len(close) < MACD_SLOW + MACD_SIGNAL - 1:
        return np.full(len(close), np.nan)
    return talib.MACD(close, 12, MACD_SLOW, MACD_SIGNAL)[2] / close


def _rsi_14(_prices: pd.DataFrame, close: np.ndarray) -> np.ndarray:
    return talib.RSI(close, timeperiod=14) if len(close) > 14 else np.full(len(close), np.nan)


def _hv_20(_prices: pd.DataFrame, close: np.ndarray) -> np.ndarray:
    return historical_volatility(pd.Series(close), 20).to_numpy() if len(close) > 20 else np.full(len(close), np.nan)


FEATURES: dict[str, Feature] = {
    "log_return": Feature("Log return", "today's log return", 1, _log_return),
    "hv_20": Feature("Volatility (20 days)", "20-day historical volatility", 20, _hv_20),
    "rsi_14": Feature("RSI (14 days)", "14-day RSI", 14, _rsi_14),
    "macd_hist": Feature(
        "MACD histogram", "MACD histogram relative to the close", MACD_SLOW + MACD_SIGNAL - 2, _macd_hist
    ),
    "volume_change": Feature("Volume change", "log change of volume", 1, _volume_change),
    "range": Feature("High-low range", "high-low range relative to the close", 0, _range),
    "close": Feature("Close", "the close itself (scaled on the training part)", 0, lambda _prices, close: close),
}
