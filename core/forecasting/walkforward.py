"""Walk-forward (rolling-origin) evaluation of any model type: refit at each origin, forecast the days after it.

The evaluation period is the last windows x step days. Window k's model is fitted on rows up to its
origin only (the last part of them as validation), and forecasts each day of the window through the
same historical_forecasts() path as test-split scoring; with a retrain cadence above one, a model
serves several windows, never one before its origin. Forecasts and actuals are on the raw price
scale of each origin day; returns come from the adjusted close.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting import metrics
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import DatasetError
from core.forecasting.evaluation import json_safe
from core.forecasting.forecaster import Drift, MovingAverage
from core.forecasting.history import fit, historical_forecasts, origin_split, to_price, verdict
from core.forecasting.series import PriceSeries
from core.forecasting.zoo import make

MOVING_AVERAGE_DAYS = 5
WindowHook = Callable[[int, int], None]


@dataclass(frozen=True)
class WalkForwardSettings:
    windows: int = 5
    step: int | None = None  # trading days per window; None: a fifth of the history split evenly
    retrain_every: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.windows <= 50:
            raise ValueError(f"windows: 1 to 50, got {self.windows}")
        if self.step is not None and not 5 <= self.step <= 1000:
            raise ValueError(f"step: 5 to 1000 trading days, got {self.step}")
        if not 1 <= self.retrain_every <= self.windows:
            raise ValueError(f"retrain_every: 1 to the number of windows ({self.windows}), got {self.retrain_every}")


@dataclass
class WalkForwardResult:
    metrics: dict[str, Any]
    windows: list[dict[str, Any]]
    forecasts: pd.DataFrame = field(repr=False)
    seconds: float = 0.0


def _score(actual: np.ndarray, forecasts: dict[str, np.ndarray], previous: np.ndarray) -> dict[str, Any]:
    persistence = forecasts["persistence"]
    scores: dict[str, Any] = {}
    for name, predicted in forecasts.items():
        accuracy, hits, days = metrics.directional_accuracy(actual - previous, predicted - previous)
        scores[name] = {
            "mae": metrics.mae(actual, predicted),
            "rmse": metrics.rmse(actual, predicted),
            "mase": metrics.mase(actual, predicted, persistence),
            "direction_accuracy": accuracy,
            "direction_p_value": metrics.direction_p_value(hits, days),
        }
    return scores


def walk_forward(
    prices: pd.DataFrame,
    config: TrainingConfig,
    settings: WalkForwardSettings,
    *,
    on_window: WindowHook | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> WalkForwardResult:
    """Rolling-origin evaluation of the configured model type against persistence, drift and a moving average."""
    started = time.perf_counter()
    series = PriceSeries.from_prices(prices)
    days = len(series)
    step = settings.step or max(5, math.floor(days * 0.2 / settings.windows))
    first_origin = days - 1 - settings.windows * step  # the last day has no next day to score
    if first_origin < 250:
        raise DatasetError(
            f"too little history for {settings.windows} windows of {step} days: {days} days leave "
            f"{max(first_origin, 0)} for the first training; at least 250 are needed"
        )
    rows, windows, fitted, baselines = [], [], None, {}
    for k in range(settings.windows):
        if should_stop and should_stop():
            break
        origin = first_origin + k * step  # last day known when the window's forecasts are made
        if k % settings.retrain_every == 0:
            # Fitting sees rows up to and including the origin day, nothing after it.
            split = origin_split(origin, max(1, math.ceil(origin * config.validation_fraction)))
            fitted = fit(make(config.model_type, config), series, split, level=config.interval_level, seed=config.seed)
            baselines = {
                "drift": fit(Drift(), series, split).forecaster,
                "moving_average": MovingAverage(MOVING_AVERAGE_DAYS),
            }
        origins = np.arange(origin, origin + step)  # forecast day t+1 from rows up to t
        frame = historical_forecasts(fitted.forecaster, series, origins, fitted.interval)
        previous, actual = frame["previous_close"].to_numpy(), frame["actual"].to_numpy()
        block = frame[["date", "previous_close", "actual", "predicted", "lower", "upper"]].assign(
            window=k + 1,
            persistence=previous,
            **{name: to_price(previous, model.predict(series, origins)) for name, model in baselines.items()},
        )
        rows.append(block)
        scores = _score(
            actual,
            {name: block[name].to_numpy() for name in ("predicted", "persistence", "drift", "moving_average")},
            previous,
        )
        windows.append(
            {
                "window": k + 1,
                "train_until": str(series.dates[origin].date()),
                "first_day": str(block["date"].iloc[0].date()),
                "last_day": str(block["date"].iloc[-1].date()),
                "retrained": k % settings.retrain_every == 0,
                "scores": scores,
                "coverage": float(np.mean((actual >= block["lower"]) & (actual <= block["upper"]))),
                "forecast": block.drop(columns=["window"])
                .assign(date=block["date"].dt.strftime("%Y-%m-%d"))
                .to_dict("list"),
            }
        )
        if on_window:
            on_window(k + 1, settings.windows)
    forecasts = pd.concat(rows, ignore_index=True)
    return WalkForwardResult(
        metrics=json_safe(_overall(forecasts, settings, step)), windows=json_safe(windows), forecasts=forecasts,
        seconds=time.perf_counter() - started,
    )  # fmt: skip


def _overall(forecasts: pd.DataFrame, settings: WalkForwardSettings, step: int) -> dict[str, Any]:
    actual, previous = forecasts["actual"].to_numpy(), forecasts["previous_close"].to_numpy()
    predicted = forecasts["predicted"].to_numpy()
    scores = _score(
        actual,
        {name: forecasts[name].to_numpy() for name in ("predicted", "persistence", "drift", "moving_average")},
        previous,
    )
    statistic, p_value = metrics.diebold_mariano(actual, predicted, previous)
    model = scores.pop("predicted")
    return {
        "windows": settings.windows,
        "step": step,
        "retrain_every": settings.retrain_every,
        "days": len(forecasts),
        "mae": model["mae"],
        "rmse": model["rmse"],
        "naive_mae": scores["persistence"]["mae"],
        "mase": model["mase"],
        "direction_accuracy": model["direction_accuracy"],
        "direction_p_value": model["direction_p_value"],
        "dm_statistic": statistic,
        "dm_pvalue": p_value,
        "coverage": float(np.mean((actual >= forecasts["lower"]) & (actual <= forecasts["upper"]))),
        "baselines": scores,
        "lag": lag_diagnostic(actual, predicted, previous),
        "verdict": verdict(p_value, metrics.mse(actual, predicted), metrics.mse(actual, previous)),
    }


def lag_diagnostic(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> dict[str, Any]:
    """Does the forecast sit closer to the day's previous close than to the close it forecasts?

    A forecast that mostly echoes the last close looks good on a chart of prices while adding
    nothing; this says so in numbers.
    """
    to_previous = metrics.mae(previous, predicted)
    to_actual = metrics.mae(actual, predicted)
    return {
        "mae_to_previous_close": to_previous,
        "mae_to_actual": to_actual,
        "follows_previous_close": bool(to_previous < to_actual),
    }
