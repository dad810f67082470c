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

from common.words import plural
from core.forecasting import metrics
from core.forecasting.config import WALK_FORWARD_WINDOWS, TrainingConfig
from core.forecasting.dataset import DatasetError
from core.forecasting.engine import fit_refusal, job_fit_hooks
from core.forecasting.evaluation import json_safe, price_metrics
from core.forecasting.forecaster import TrainingCancelledError
from core.forecasting.history import (
    Scores,
    baseline_prices,
    fit,
    fitted_baselines,
    historical_forecasts,
    origin_split,
    score,
)
from core.forecasting.series import PriceSeries
from core.forecasting.zoo import make

MIN_FIRST_TRAINING = 250
BASELINES = ("persistence", "drift", "median", "moving_average")
STORED_FORECAST_COLUMNS = ["origin_date", "date", "previous_close", "actual", "predicted", "lower", "upper", *BASELINES]
WindowHook = Callable[[int, int], None]


@dataclass(frozen=True)
class WalkForwardSettings:
    windows: int = WALK_FORWARD_WINDOWS
    step: int | None = None  # trading days per window; None: the config's test fraction split evenly
    retrain_every: int = 1
    validation_days: int | None = None  # None: the config's validation fraction of each window's history

    def __post_init__(self) -> None:
        if not 1 <= self.windows <= 50:
            raise ValueError(f"windows: 1 to 50, got {self.windows}")
        if self.step is not None and not 5 <= self.step <= 1000:
            raise ValueError(f"step: 5 to 1000 trading days, got {self.step}")
        if not 1 <= self.retrain_every <= self.windows:
            raise ValueError(f"retrain_every: 1 to the number of windows ({self.windows}), got {self.retrain_every}")
        if self.validation_days is not None and not 1 <= self.validation_days <= 5000:
            raise ValueError(f"validation_days: 1 to 5000 trading days, got {self.validation_days}")


@dataclass
class WalkForwardResult:
    """The forecasts of every window with the baselines beside them, scored as the test split is scored."""

    forecasts: pd.DataFrame = field(repr=False)  # forecast frame with window and baseline columns
    overall: Scores
    window_scores: list[Scores]
    metrics: dict[str, Any]  # JSON summary stored with the evaluation
    windows: list[dict[str, Any]]  # JSON per window, forecasts included
    seconds: float = 0.0


def _point_scores(block: pd.DataFrame, names: tuple[str, ...]) -> dict[str, Any]:
    """Each named forecast column scored as the test split scores its baselines (MASE against persistence)."""
    actual, previous = block["actual"].to_numpy(), block["previous_close"].to_numpy()
    return {name: price_metrics(actual, block[name].to_numpy(), previous, previous) for name in names}


def window_plan(
    days: int, config: TrainingConfig, settings: WalkForwardSettings, *, ticker: str | None = None
) -> tuple[int, int]:
    """The days per window and the first origin of a walk-forward over `days` rows of prices; DatasetError,
    naming the days the settings need, when the first window would train on too few for its model type.

    The one rule: walk_forward() applies it to the rows it is given, the service to the days stored before it
    queues a job.
    """
    last_origin = days - 1  # the last day has no next day to score
    step = settings.step or max(5, math.floor(last_origin * config.test_fraction / settings.windows))
    first_origin = last_origin - settings.windows * step
    if first_origin < MIN_FIRST_TRAINING:
        forecast = settings.windows * step
        training = MIN_FIRST_TRAINING + 1  # rows 0 to the first origin
        has = f"{ticker} has" if ticker else "the prices have"
        raise DatasetError(
            f"too little history for {plural(settings.windows, 'window')} of {step:,} days: it takes "
            f"{training + forecast:,} days, {training:,} to train the first window on and {forecast:,} to forecast; "
            f"{has} {days:,}"
        )
    # Each later window trains on more days than the first: what the first can be fitted on, all can.
    validation_days = _validation_days(first_origin, config, settings)
    if validation_days >= first_origin:
        raise DatasetError(
            f"validation_days: {validation_days:,} of the {first_origin:,} days before the first window's origin "
            f"leave none to train on; at most {first_origin - 1:,}"
        )
    refusal = fit_refusal(config.model_type, config, origin_split(first_origin, validation_days))
    if refusal:
        raise DatasetError(refusal)
    return step, first_origin


def _validation_days(origin: int, config: TrainingConfig, settings: WalkForwardSettings) -> int:
    return settings.validation_days or max(1, math.ceil(origin * config.validation_fraction))


def walk_forward(
    prices: pd.DataFrame | PriceSeries,
    config: TrainingConfig,
    settings: WalkForwardSettings,
    *,
    on_window: WindowHook | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_heartbeat: Callable[[], None] | None = None,
) -> WalkForwardResult:
    """Rolling-origin evaluation of the model type beside persistence, drift, median drift and a 5-day mean.

    should_stop is asked before each window and after each epoch of a network's fit; once it says stop, the
    result holds the windows done, and TrainingCancelledError is raised if none is.
    """
    started = time.perf_counter()
    series = prices if isinstance(prices, PriceSeries) else PriceSeries.from_prices(prices)
    step, first_origin = window_plan(len(series), config, settings)
    frames, window_scores, windows, fitted, baselines, fitted_origin = [], [], [], None, {}, first_origin
    for k in range(settings.windows):
        if should_stop and should_stop():
            break
        origin = first_origin + k * step  # last day known when the window's forecasts are made
        if k % settings.retrain_every == 0:
            fitted_origin = origin  # a window served by this model later was trained until here, not its own origin
            # Fitting sees rows up to and including the origin day, nothing after it.
            split = origin_split(origin, _validation_days(origin, config, settings))
            model = make(config.model_type, config, job_fit_hooks(should_stop, on_heartbeat))
            try:
                fitted = fit(model, series, split, level=config.interval_level, seed=config.seed)
            except TrainingCancelledError:
                break
            baselines = fitted_baselines(series, split)
        origins = np.arange(origin, origin + step)  # forecast day t+1 from rows up to t
        frame = historical_forecasts(fitted.forecaster, series, origins, fitted.interval)
        block = frame.assign(
            window=k + 1, persistence=frame["previous_close"], **baseline_prices(baselines, series, origins)
        )
        frames.append(block)
        window_scores.append(score(frame))
        windows.append(_window_summary(block, window_scores[-1], k, settings, series.dates[fitted_origin]))
        if on_window:
            on_window(k + 1, settings.windows)
    if not frames:
        raise TrainingCancelledError(f"cancelled before window 1 of {settings.windows} was done")
    forecasts = pd.concat(frames, ignore_index=True)
    overall = score(forecasts)
    return WalkForwardResult(
        forecasts=forecasts,
        overall=overall,
        window_scores=window_scores,
        metrics=json_safe(_summary(forecasts, overall, settings, step)),
        windows=json_safe(windows),
        seconds=time.perf_counter() - started,
    )


def _window_summary(
    block: pd.DataFrame, scores: Scores, k: int, settings: WalkForwardSettings, trained_until: pd.Timestamp
) -> dict[str, Any]:
    return {
        "window": k + 1,
        "train_until": str(trained_until.date()),
        "first_day": str(block["date"].iloc[0].date()),
        "last_day": str(block["date"].iloc[-1].date()),
        "retrained": k % settings.retrain_every == 0,
        "scores": _point_scores(block, ("predicted", *BASELINES)),
        "coverage": scores.coverage,
        "forecast": block[STORED_FORECAST_COLUMNS]
        .assign(**{day: block[day].dt.strftime("%Y-%m-%d") for day in ("origin_date", "date")})
        .to_dict("list"),
    }


def _summary(forecasts: pd.DataFrame, overall: Scores, settings: WalkForwardSettings, step: int) -> dict[str, Any]:
    """The stored summary: the model's scores (the test split's scoring) beside each baseline's."""
    actual, previous = forecasts["actual"].to_numpy(), forecasts["previous_close"].to_numpy()
    return overall.as_dict() | {
        "windows": settings.windows,
        "step": step,
        "retrain_every": settings.retrain_every,
        "naive_mae": overall.persistence_mae,  # the name test-split versions store it under
        "baselines": _point_scores(forecasts, BASELINES),
        "lag": lag_diagnostic(actual, forecasts["predicted"].to_numpy(), previous),
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
