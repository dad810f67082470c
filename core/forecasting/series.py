"""A ticker's prices as forecasters see them: returns from the adjusted close, forecasts shown on the raw close.

Index t is a trading day. An origin t is the close of day t, when the forecast of day t+1's log
return log(adjusted[t+1] / adjusted[t]) is made from rows 0..t only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class PriceSeries:
    """Date-sorted prices (date, open, high, low, close, adjusted_close, volume) with their closes as arrays.

    Forecast days appended by extended() join the frame only when a model reads it: models of
    returns alone never pay for rebuilding a frame of thousands of rows per forecast day.
    """

    def __init__(
        self, frame: pd.DataFrame, close: np.ndarray, adjusted: np.ndarray, bars: tuple[dict, ...] = ()
    ) -> None:
        self._frame, self._bars = frame, bars
        self.close = close  # the raw close: the scale a forecast is shown on
        self.adjusted = adjusted  # the split- and dividend-adjusted close: the scale returns come from

    @classmethod
    def from_prices(cls, prices: pd.DataFrame) -> PriceSeries:
        frame = prices.sort_values("date").reset_index(drop=True)
        close = frame["close"].to_numpy(dtype=float)
        if "adjusted_close" in frame:
            adjusted = frame["adjusted_close"].astype(float).fillna(frame["close"].astype(float)).to_numpy()
        else:
            adjusted = close.copy()
        return cls(frame, close, adjusted)

    @property
    def frame(self) -> pd.DataFrame:
        if self._bars:
            added = pd.DataFrame(list(self._bars))
            self._frame = pd.concat([self._frame, added], ignore_index=True)
            self._bars = ()
        return self._frame

    def __len__(self) -> int:
        return len(self.close)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(pd.to_datetime(self.frame["date"]))

    @property
    def log_returns(self) -> np.ndarray:
        """r[t] = log(adjusted[t] / adjusted[t-1]); r[0] is NaN."""
        return np.concatenate([[np.nan], np.diff(np.log(self.adjusted))])

    def upto(self, last: int) -> PriceSeries:
        """Rows 0..last: what is known at the close of day `last`."""
        return PriceSeries(self.frame.iloc[: last + 1], self.close[: last + 1], self.adjusted[: last + 1])

    def extended(self, log_return: float, date: pd.Timestamp) -> PriceSeries:
        """The series with one forecast day appended: a bar with no range and the last volume."""
        close = float(self.close[-1] * np.exp(log_return))
        adjusted = float(self.adjusted[-1] * np.exp(log_return))
        has_volume = "volume" in self._frame
        last_volume = (self._bars[-1] if self._bars else self._frame.iloc[-1])["volume"] if has_volume else 0.0
        bar = {
            "date": pd.Timestamp(date),
            "open": close,
            "high": close,
            "low": close,
            "close": close,
            "adjusted_close": adjusted,
            "volume": last_volume,
        }
        return PriceSeries(
            self._frame, np.append(self.close, close), np.append(self.adjusted, adjusted), (*self._bars, bar)
        )


@dataclass(frozen=True)
class Split:
    """Chronological parts by origin: train origins t < train_end, validation up to validation_end, test after.

    Training targets reach row train_end at most; validation targets row validation_end at most.
    """

    train_end: int
    validation_end: int
    last_origin: int

    @classmethod
    def chronological(cls, rows: int, validation_fraction: float, test_fraction: float) -> Split:
        origins = rows - 1  # the last row has no next day to score
        test = max(1, int(np.ceil(origins * test_fraction)))
        validation = max(1, int(np.ceil(origins * validation_fraction)))
        validation_end = origins - test
        return cls(train_end=validation_end - validation, validation_end=validation_end, last_origin=rows - 2)

    @property
    def validation_origins(self) -> np.ndarray:
        return np.arange(self.train_end, self.validation_end)

    @property
    def test_origins(self) -> np.ndarray:
        return np.arange(self.validation_end, self.last_origin + 1)
