"""Walk-forward (rolling-origin) evaluation: retrain at each origin, forecast the days after it, score.

The evaluation period is the last windows x step days. Window k's model is trained on prices up to
its origin only, and forecasts each day of the window from the window of features ending that day;
with a retrain cadence above one, a model serves several windows, never one before its origin.
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
from core.forecasting.dataset import DatasetError, feature_table
from core.forecasting.evaluation import json_safe, verdict
from core.forecasting.training import train_forecaster

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
    """Rolling-origin evaluation of the configured model against persistence, drift and a moving average."""
    started = time.perf_counter()
    prices = prices.sort_values("date").reset_index(drop=True)
    days = len(prices)
    step = settings.step or max(5, math.floor(days * 0.2 / settings.windows))
    first_origin = days - 1 - settings.windows * step  # the last day has no next day to score
    if first_origin < 250:
        raise DatasetError(
            f"too little history for {settings.windows} windows of {step} days: {days} days leave "
            f"{max(first_origin, 0)} for the first training; at least 250 are needed"
        )
    close = prices["close"].to_numpy(dtype=float)
    table = feature_table(prices, config.features).to_numpy(dtype=float)
    log_returns = np.diff(np.log(close))

    rows, windows, model_state = [], [], None
    for k in range(settings.windows):
        if should_stop and should_stop():
            break
        origin = first_origin + k * step  # last day known when the window's forecasts are made
        if k % settings.retrain_every == 0:
            # Training sees prices up to and including the origin day, nothing after it.
            trained = train_forecaster(prices.iloc[: origin + 1], config.model_copy(update={"test_fraction": 0.05}))
            model_state = trained
        days_in_window = np.arange(origin, origin + step)  # forecast day t+1 from the window ending on t
        forecasts = _model_forecasts(model_state, table, close, days_in_window)
        previous, actual = close[days_in_window], close[days_in_window + 1]
        drift = previous * np.exp(np.mean(log_returns[:origin]))
        average = np.array([close[max(0, t - MOVING_AVERAGE_DAYS + 1) : t + 1].mean() for t in days_in_window])
        half_width = model_state.preprocessing["interval_half_width"]
        lower, upper = forecasts["predicted"] * np.exp(-half_width), forecasts["predicted"] * np.exp(half_width)
        block = pd.DataFrame(
            {
                "window": k + 1,
                "date": pd.to_datetime(prices["date"].iloc[days_in_window + 1]).to_numpy(),
                "previous_close": previous,
                "actual": actual,
                "predicted": forecasts["predicted"],
                "lower": lower,
                "upper": upper,
                "persistence": previous,
                "drift": drift,
                "moving_average": average,
            }
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
                "train_until": str(prices["date"].iloc[origin].date()),
                "first_day": str(block["date"].iloc[0].date()),
                "last_day": str(block["date"].iloc[-1].date()),
                "retrained": k % settings.retrain_every == 0,
                "scores": scores,
                "coverage": float(np.mean((actual >= lower) & (actual <= upper))),
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


def _model_forecasts(
    trained, table: np.ndarray, close: np.ndarray, days_in_window: np.ndarray
) -> dict[str, np.ndarray]:
    preprocessing = trained.preprocessing
    window = int(preprocessing["window"])
    mean, scale = np.asarray(preprocessing["feature_mean"]), np.asarray(preprocessing["feature_scale"])
    inputs = np.stack([(table[t - window + 1 : t + 1] - mean) / scale for t in days_in_window]).astype(np.float32)
    if np.isnan(inputs).any():
        raise DatasetError("a forecast window reaches into the indicators' warm-up: use fewer or shorter windows")
    scaled = trained.model.predict(inputs, batch_size=1024, verbose=0).ravel()
    values = scaled * preprocessing["target_scale"] + preprocessing["target_mean"]
    previous = close[days_in_window]
    predicted = previous * np.exp(values) if preprocessing["target"] == "log_return" else values
    return {"predicted": predicted}


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
        "verdict": verdict(model["mae"], scores["persistence"]["mae"]),
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
