"""The Forecaster interface every model implements, and the baselines as forecasters.

A forecaster is fitted on a series with a split (it may look at rows up to split.validation_end,
training on targets up to split.train_end and using validation targets only to stop or weigh),
then predicts the next day's log return at any origin t from rows 0..t. Its fitted state is plain
JSON (and for the LSTM a .keras file), so a bundle never needs pickle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from common.errors import Refusal
from core.forecasting.series import PriceSeries, Split


class TrainingCancelledError(Refusal, RuntimeError):
    """Training stopped at an epoch boundary because its job was cancelled."""


@dataclass
class Hooks:
    """What a long fit reports to its job: each epoch's losses, a heartbeat, and whether to stop."""

    on_epoch: Callable[[int, int, float, float | None], None] | None = None
    should_stop: Callable[[], bool] | None = None
    on_heartbeat: Callable[[], None] | None = None
    history: dict[str, list[float | None]] = field(default_factory=lambda: {"loss": [], "val_loss": []})

    @property
    def epochs_run(self) -> int:
        return len(self.history["loss"])

    def epoch(self, epoch: int, epochs: int, loss: float, val_loss: float | None) -> bool:
        """Record one epoch; True when the job asks to stop."""
        self.history["loss"].append(loss)
        self.history["val_loss"].append(val_loss)
        if self.on_epoch:
            self.on_epoch(epoch, epochs, loss, val_loss)
        return bool(self.should_stop and self.should_stop())


class Forecaster(ABC):
    """Fit on prices; forecast next-day log returns; export to and restore from JSON parameters."""

    kind: ClassVar[str]
    label: ClassVar[str]

    @abstractmethod
    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Forecaster:
        """Learn from targets up to split.train_end (validation targets only to stop or weigh)."""

    @abstractmethod
    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        """The forecast log return of day t+1 for each origin t, each from rows 0..t only."""

    @abstractmethod
    def parameters(self) -> dict[str, Any]:
        """The fitted state as plain JSON."""

    @classmethod
    @abstractmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Forecaster:
        """A fitted forecaster from parameters() (and model_file()), validated."""

    def model_file(self) -> bytes | None:
        """A binary model file to bundle beside the parameters; None for JSON-only models."""
        return None

    def predict_next(self, series: PriceSeries) -> float:
        return float(self.predict(series, np.array([len(series) - 1]))[0])


class Persistence(Forecaster):
    """Tomorrow = today: a log return of 0."""

    kind, label = "persistence", "persistence (tomorrow = today)"

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Persistence:
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        return np.zeros(len(origins))

    def parameters(self) -> dict[str, Any]:
        return {}

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Persistence:
        return cls()


class Drift(Forecaster):
    """Today times the mean daily growth of the training part."""

    kind, label = "drift", "drift"
    parameter = "mean_return"  # the fitted daily log return, by its name in the bundle
    average = staticmethod(np.nanmean)

    def __init__(self, daily_return: float = 0.0) -> None:
        self.daily_return = daily_return

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Drift:
        self.daily_return = float(self.average(series.log_returns[1 : split.train_end + 1]))
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        return np.full(len(origins), self.daily_return)

    def parameters(self) -> dict[str, Any]:
        return {self.parameter: self.daily_return}

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Drift:
        return cls(finite(parameters.get(cls.parameter), cls.parameter))


class MedianDrift(Drift):
    """Today times the median daily growth of the training part: the constant with the least absolute error.

    Index and stock returns are skewed (more small up days than down days, fewer but larger falls),
    so their median sits above their mean; MAE and MASE reward the median. It bets on nothing
    beyond the history's share of up days continuing, which a bear market ends.
    """

    kind, label = "median", "median drift"
    parameter = "median_return"
    average = staticmethod(np.nanmedian)


class MovingAverage(Forecaster):
    """The mean of the last `days` adjusted closes, as a price, turned into a return from today."""

    kind, label = "moving_average", "moving average (5 days)"

    def __init__(self, days: int = 5) -> None:
        self.days = days

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> MovingAverage:
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([[0.0], np.cumsum(series.adjusted)])
        origins = np.asarray(origins)
        first = np.maximum(0, origins - self.days + 1)
        average = (cumulative[origins + 1] - cumulative[first]) / (origins + 1 - first)
        return np.log(average / series.adjusted[origins])

    def parameters(self) -> dict[str, Any]:
        return {"days": self.days}

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> MovingAverage:
        days = parameters.get("days")
        if not isinstance(days, int) or not 1 <= days <= 250:
            raise ValueError("days: a whole number from 1 to 250")
        return cls(days)


def finite(value: Any, name: str) -> float:
    """The value as a finite float, or ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"{name}: not a finite number")
    return float(value)


def finite_array(values: Any, name: str, length: int | None = None) -> np.ndarray:
    """A list of finite floats (of the given length), or ValueError naming the parameter."""
    if not isinstance(values, list) or (length is not None and len(values) != length):
        raise ValueError(f"{name}: expected a list of {length if length is not None else 'some'} numbers")
    return np.array([finite(value, name) for value in values], dtype=float)
