"""Technical indicators on pandas Series, computed by TA-Lib, aligned with the input's index.

Every function leaves NaN where its window has not filled yet (the warm-up) and never fills
anything forward: the series is taken as the trading days it holds, gaps and all.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import talib

from core.data.calendar import EXCHANGE_DAYS_A_YEAR

DEFAULT_EMA_SPANS = (12, 26, 50, 200)
TRADING_DAYS_PER_YEAR = EXCHANGE_DAYS_A_YEAR


def _check_period(name: str, value: int) -> None:
    if not isinstance(value, int | np.integer) or value < 2:
        raise ValueError(f"{name} must be a whole number of at least 2, got {value!r}")


def _values(series: pd.Series, name: str, needed: int, what: str) -> np.ndarray:
    values = np.asarray(series, dtype=float)
    if len(values) < needed:
        raise ValueError(f"series too short: {what} needs at least {needed} values of {name}, got {len(values)}")
    return values


def _series(values: np.ndarray, like: pd.Series, name: str) -> pd.Series:
    return pd.Series(values, index=like.index, name=name)


def rsi(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's relative strength index, 0 to 100."""
    _check_period("period", period)
    values = _values(close, "close", period + 1, f"RSI({period})")
    return _series(_rsi(values, period), close, f"rsi_{period}")


def _rsi(close: np.ndarray, period: int) -> np.ndarray:
    """TA-Lib's RSI, undefined (NaN) while the close has not moved at all: TA-Lib says 0 there, and a flat
    or halted ticker would screen as the most oversold of all."""
    values = talib.RSI(close, timeperiod=period)
    unmoved = np.concatenate([[0.0], np.cumsum(np.abs(np.diff(close)))]) == 0
    values[unmoved] = np.nan
    return values


def ema(close: pd.Series, span: int) -> pd.Series:
    """Exponential moving average with smoothing 2/(span+1), seeded with the first span's mean."""
    _check_period("span", span)
    values = _values(close, "close", span, f"EMA({span})")
    return _series(talib.EMA(values, timeperiod=span), close, f"ema_{span}")


def historical_volatility(
    close: pd.Series, window: int = 20, periods_per_year: int = TRADING_DAYS_PER_YEAR
) -> pd.Series:
    """Annualised sample standard deviation of daily log returns over a rolling window."""
    _check_period("window", window)
    if periods_per_year < 1:
        raise ValueError(f"periods_per_year must be at least 1, got {periods_per_year!r}")
    values = _values(close, "close", window + 1, f"HV({window})")
    return _series(_volatility(values, window, periods_per_year), close, f"hv_{window}")


def _volatility(values: np.ndarray, window: int, periods_per_year: int) -> np.ndarray:
    # In place: the quotients become the log returns and the deviations their annualised sample
    # deviations, the same operations in the same order as on fresh arrays, so the same bits.
    returns = np.empty(len(values))
    returns[0] = np.nan
    np.divide(values[1:], values[:-1], out=returns[1:])
    np.log(returns[1:], out=returns[1:])
    deviation = talib.STDDEV(returns, timeperiod=window, nbdev=1.0)
    # TA-Lib's STDDEV divides by n; the sample deviation divides by n - 1.
    deviation *= math.sqrt(window / (window - 1))
    deviation *= math.sqrt(periods_per_year)
    return deviation


def bollinger(close: pd.Series, window: int = 20, k: float = 2.0) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(upper, middle, lower): the simple moving average and k population deviations around it."""
    _check_period("window", window)
    if not k > 0:
        raise ValueError(f"k must be above 0, got {k!r}")
    values = _values(close, "close", window, f"Bollinger({window})")
    upper, middle, lower = talib.BBANDS(values, timeperiod=window, nbdevup=k, nbdevdn=k, matype=talib.MA_Type.SMA)
    return (
        _series(upper, close, "bb_upper"),
        _series(middle, close, "bb_middle"),
        _series(lower, close, "bb_lower"),
    )


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(macd, signal, histogram): EMA(fast) - EMA(slow), its EMA(signal), and their difference."""
    for name, value in (("fast", fast), ("slow", slow), ("signal", signal)):
        _check_period(name, value)
    if fast >= slow:
        raise ValueError(f"fast must be below slow, got fast={fast}, slow={slow}")
    values = _values(close, "close", slow + signal - 1, f"MACD({fast},{slow},{signal})")
    line, signal_line, histogram = _macd(values, fast, slow, signal)
    return (
        _series(line, close, "macd"),
        _series(signal_line, close, "macd_signal"),
        _series(histogram, close, "macd_hist"),
    )


def _macd(close: np.ndarray, fast: int, slow: int, signal: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The line from the same EMAs the chart draws, the signal an EMA of the line from its first value on:
    TradingView's ta.ema(fast) - ta.ema(slow) and ta.ema(macd, signal). TA-Lib's MACD seeds the fast EMA
    where the slow one starts, which differs from EMA(fast) for months (1.39 on bar 33 of the S&P 500 sample)."""
    line = talib.EMA(close, timeperiod=fast) - talib.EMA(close, timeperiod=slow)
    signal_line = np.full(len(close), np.nan)
    valid = np.flatnonzero(~np.isnan(line))
    if len(valid) >= signal:
        signal_line[valid[0] :] = talib.EMA(line[valid[0] :], timeperiod=signal)
    return line, signal_line, line - signal_line


def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's average true range."""
    _check_period("period", period)
    what = f"ATR({period})"
    values = [_values(s, n, period + 1, what) for s, n in ((high, "high"), (low, "low"), (close, "close"))]
    return _series(talib.ATR(*values, timeperiod=period), close, f"atr_{period}")


def obv(close: pd.Series, volume: pd.Series) -> pd.Series:
    """On-balance volume from 0 on the first day: volume added on up days, taken away on down days."""
    closes = _values(close, "close", 1, "OBV")
    volumes = _values(volume, "volume", 1, "OBV")
    return _series(_obv(closes, volumes), close, "obv")


def _obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    # TA-Lib starts at the first day's volume, TradingView's ta.obv at 0: a constant off every value,
    # and on a short history the sign itself.
    values = talib.OBV(close, volume)
    values -= volume[0]
    return values


def compute_all(
    prices: pd.DataFrame,
    *,
    rsi_period: int = 14,
    ema_spans: Sequence[int] = DEFAULT_EMA_SPANS,
    hv_window: int = 20,
    bb_window: int = 20,
    bb_k: float = 2.0,
    macd_fast: int = 12,
    macd_slow: int = 26,
    macd_signal: int = 9,
    atr_period: int = 14,
    periods_per_year: int = TRADING_DAYS_PER_YEAR,
) -> pd.DataFrame:
    """Every indicator for an OHLCV frame (columns high, low, close, volume), on its index.

    periods_per_year annualises the historical volatility: the ticker's own market's year
    (core.data.calendar.days_a_year), 365 for a coin that trades every day.

    Parameters are checked as the single functions check them. An indicator whose warm-up is
    longer than the series is all NaN rather than an error, so a short history shows what it can.
    Works on the arrays and builds one frame at the end: a Series per indicator costs more than
    TA-Lib's arithmetic.
    """
    for name, value in (("rsi_period", rsi_period), ("hv_window", hv_window), ("bb_window", bb_window)):
        _check_period(name, value)
    for name, value in (("macd_fast", macd_fast), ("macd_slow", macd_slow), ("macd_signal", macd_signal)):
        _check_period(name, value)
    _check_period("atr_period", atr_period)
    for span in ema_spans:
        _check_period("ema span", span)
    if macd_fast >= macd_slow:
        raise ValueError(f"macd_fast must be below macd_slow, got {macd_fast} and {macd_slow}")
    if not bb_k > 0:
        raise ValueError(f"bb_k must be above 0, got {bb_k!r}")
    if periods_per_year < 1:
        raise ValueError(f"periods_per_year must be at least 1, got {periods_per_year!r}")

    close, high, low, volume = (_float_column(prices, name) for name in ("close", "high", "low", "volume"))
    length = len(close)

    def indicators() -> Iterator[np.ndarray | float]:
        # In _column_index's order; NaN for an indicator whose warm-up outlasts the series.
        yield _rsi(close, rsi_period) if length >= rsi_period + 1 else np.nan
        for span in ema_spans:
            yield talib.EMA(close, timeperiod=span) if length >= span else np.nan
        yield _volatility(close, hv_window, periods_per_year) if length >= hv_window + 1 else np.nan
        if length >= bb_window:
            yield from talib.BBANDS(close, timeperiod=bb_window, nbdevup=bb_k, nbdevdn=bb_k, matype=talib.MA_Type.SMA)
        else:
            yield from (np.nan,) * 3
        if length >= macd_slow + macd_signal - 1:
            yield from _macd(close, macd_fast, macd_slow, macd_signal)
        else:
            yield from (np.nan,) * 3
        yield talib.ATR(high, low, close, timeperiod=atr_period) if length >= atr_period + 1 else np.nan
        yield _obv(close, volume) if length >= 1 else np.nan

    columns = _column_index(rsi_period, tuple(ema_spans), hv_window, atr_period)
    # One float block laid out as pandas keeps it (a row per column), each row written as its
    # indicator leaves TA-Lib: a frame built from a dict of arrays checks and copies each column
    # alone, and stacking them afterwards copies them all once more.
    block = np.empty((len(columns), length))
    for row, values in zip(block, indicators(), strict=True):
        row[:] = values
    return pd.DataFrame(block.T, index=prices.index, columns=columns, copy=False)


def _float_column(prices: pd.DataFrame, name: str) -> np.ndarray:
    # The column's own array, without the Series pandas builds around every column it hands out,
    # which costs about as much as an indicator. The array is outside copy-on-write, so it is only
    # read. pandas is pinned, and every compute_all test reads through here.
    return np.asarray(prices._get_column_array(prices.columns.get_loc(name)), dtype=float)


@lru_cache(maxsize=256)
def _column_index(rsi_period: int, ema_spans: tuple[int, ...], hv_window: int, atr_period: int) -> pd.Index:
    # Building an Index of text makes an Arrow array each time, which alone costs as much as an indicator.
    return pd.Index(
        [
            f"rsi_{rsi_period}",
            *(f"ema_{span}" for span in ema_spans),
            f"hv_{hv_window}",
            "bb_upper",
            "bb_middle",
            "bb_lower",
            "macd",
            "macd_signal",
            "macd_hist",
            f"atr_{atr_period}",
            "obv",
        ]
    )
