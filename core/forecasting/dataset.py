"""From prices to model inputs: features, next-day targets, sliding windows, chronological splits, scaling.

Row t of the feature table holds only what is known at the close of day t; the target of row t is
day t+1. A window ending on day t is features t-window+1..t, so no window sees its own future.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from core.forecasting.config import TrainingConfig
from core.indicators import compute_all

MIN_SAMPLES = 60


class DatasetError(ValueError):
    """The prices cannot make a training set; the message says why."""


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


def next_day_targets(close: pd.Series, target: str) -> pd.Series:
    """What each day's window is trained to predict: the next day's log return, or its close."""
    if target == "log_return":
        return np.log(close.shift(-1) / close)
    return close.shift(-1)


def sliding_windows(values: np.ndarray, window: int) -> np.ndarray:
    """All windows of consecutive rows, shaped (rows - window + 1, window, features).

    Window i holds rows i .. i + window - 1.
    """
    return np.lib.stride_tricks.sliding_window_view(values, window, axis=0).transpose(0, 2, 1)


@dataclass(frozen=True)
class Splits:
    train: slice
    validation: slice
    test: slice

    @classmethod
    def chronological(cls, samples: int, validation_fraction: float, test_fraction: float) -> Splits:
        test = max(1, math.ceil(samples * test_fraction))
        validation = max(1, math.ceil(samples * validation_fraction))
        train = samples - test - validation
        return cls(slice(0, train), slice(train, train + validation), slice(train + validation, samples))


@dataclass
class Dataset:
    """Windows and targets, scaled with parameters fitted on the training part only."""

    dates: pd.DatetimeIndex  # the last day of each window
    inputs: np.ndarray  # (samples, window, features), scaled
    targets: np.ndarray  # (samples,), scaled
    close: np.ndarray  # close on each window's last day
    next_close: np.ndarray  # the close the target refers to
    splits: Splits
    feature_scaler: StandardScaler
    target_scaler: StandardScaler
    features: tuple[str, ...]
    window: int

    def unscale_targets(self, scaled: np.ndarray) -> np.ndarray:
        return self.target_scaler.inverse_transform(np.asarray(scaled, dtype=float).reshape(-1, 1)).ravel()

    def preprocessing(self) -> dict[str, Any]:
        """The scaling as plain JSON (never a pickle), enough to prepare new windows for the model."""
        return {
            "features": list(self.features),
            "window": self.window,
            "feature_mean": self.feature_scaler.mean_.tolist(),
            "feature_scale": self.feature_scaler.scale_.tolist(),
            "target_mean": float(self.target_scaler.mean_[0]),
            "target_scale": float(self.target_scaler.scale_[0]),
        }


def data_hash(prices: pd.DataFrame) -> str:
    """SHA-256 of the dates and prices a model was trained on."""
    columns = ["date", "open", "high", "low", "close", "volume"]
    text = prices[columns].to_csv(index=False, float_format="%.10g", date_format="%Y-%m-%d")
    return hashlib.sha256(text.encode()).hexdigest()


def build_dataset(prices: pd.DataFrame, config: TrainingConfig) -> Dataset:
    """Features, targets, warm-up rows dropped, windows, a chronological split, scaling fitted on train."""
    prices = prices.sort_values("date").reset_index(drop=True)
    table = feature_table(prices, config.features)
    targets = next_day_targets(
        adjusted_close(prices) if config.target == "log_return" else prices["close"].astype(float), config.target
    )
    usable = table.notna().all(axis=1).to_numpy()
    first = int(np.argmax(usable)) if usable.any() else len(prices)
    if not usable[first:].all():
        gap = prices["date"].iloc[first + int(np.argmin(usable[first:]))]
        raise DatasetError(f"a feature is missing on {gap:%Y-%m-%d}: prices must have no holes after the warm-up")
    # Every window ends on a day that has a next day to be scored against.
    rows = table.iloc[first:].to_numpy(dtype=float)
    window_ends = np.arange(first + config.window - 1, len(prices) - 1)
    samples = len(window_ends)
    if samples < MIN_SAMPLES:
        raise DatasetError(
            f"too little history: {len(prices)} days make {max(samples, 0)} windows of {config.window} days; "
            f"at least {MIN_SAMPLES} are needed"
        )
    windows = sliding_windows(rows, config.window)[:samples]
    splits = Splits.chronological(samples, config.validation_fraction, config.test_fraction)

    # Fitted on the feature rows the training windows cover, and nothing later.
    last_train_row = splits.train.stop - 1 + config.window
    feature_scaler = StandardScaler().fit(rows[:last_train_row])
    target_values = targets.to_numpy(dtype=float)[window_ends]
    target_scaler = StandardScaler().fit(target_values[splits.train].reshape(-1, 1))

    scaled_windows = (windows - feature_scaler.mean_) / feature_scaler.scale_
    scaled_targets = target_scaler.transform(target_values.reshape(-1, 1)).ravel()
    close = prices["close"].to_numpy(dtype=float)
    return Dataset(
        dates=pd.DatetimeIndex(pd.to_datetime(prices["date"].iloc[window_ends])),
        inputs=scaled_windows.astype(np.float32),
        targets=scaled_targets.astype(np.float32),
        close=close[window_ends],
        next_close=close[window_ends + 1],
        splits=splits,
        feature_scaler=feature_scaler,
        target_scaler=target_scaler,
        features=config.features,
        window=config.window,
    )


def latest_window(prices: pd.DataFrame, preprocessing: dict[str, Any]) -> np.ndarray:
    """The scaled window ending on the last day of prices, shaped (1, window, features) for the model."""
    features = tuple(preprocessing["features"])
    window = int(preprocessing["window"])
    table = feature_table(prices.sort_values("date").reset_index(drop=True), features).to_numpy(dtype=float)
    recent = table[-window:]
    if len(recent) < window or np.isnan(recent).any():
        raise DatasetError(f"the model needs {window} complete days of history before the day it predicts from")
    scaled = (recent - np.asarray(preprocessing["feature_mean"])) / np.asarray(preprocessing["feature_scale"])
    return scaled[np.newaxis, :, :].astype(np.float32)
