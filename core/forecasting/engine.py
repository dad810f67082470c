"""Any model type, evaluated one way: test-split scoring and the leaderboard, on historical_forecasts()."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import DatasetError
from core.forecasting.forecaster import Hooks, TrainingCancelledError
from core.forecasting.history import Fitted, Scores, fit, historical_forecasts, score
from core.forecasting.series import PriceSeries, Split
from core.forecasting.zoo import KINDS, make

MIN_ROWS = 250
LEADERBOARD_KINDS = ("persistence", "drift", "median", "moving_average", "ridge", "ets", "arima", "auto", "lstm")


def require_history(days: int) -> None:
    """Refuse fewer days than any model type trains on, in the words a job that tried would fail with."""
    if days < MIN_ROWS:
        raise DatasetError(f"too little history: {days} days; at least {MIN_ROWS} are needed")


def _series(prices: pd.DataFrame | PriceSeries) -> PriceSeries:
    series = prices if isinstance(prices, PriceSeries) else PriceSeries.from_prices(prices)
    require_history(len(series))
    return series


@dataclass
class Evaluation:
    """A model fitted on train (and validation), scored on the held-out test days."""

    kind: str
    fitted: Fitted
    test: Scores
    forecasts: pd.DataFrame = field(repr=False)
    split: Split = field(repr=False)
    series: PriceSeries = field(repr=False)
    predict_ms: float = 0.0


def evaluate(
    kind: str,
    prices: pd.DataFrame | PriceSeries,
    config: TrainingConfig | None = None,
    *,
    hooks: Hooks | None = None,
) -> Evaluation:
    """Fit the model type on the chronological train/validation parts and score its test-day forecasts."""
    config = config or TrainingConfig()
    series = _series(prices)
    split = Split.chronological(len(series), config.validation_fraction, config.test_fraction)
    fitted = fit(make(kind, config, hooks), series, split, level=config.interval_level, seed=config.seed)
    fitted.forecaster.predict_next(series)  # warm: the first call may build a graph
    started = time.perf_counter()
    fitted.forecaster.predict_next(series)
    predict_ms = (time.perf_counter() - started) * 1000
    forecasts = historical_forecasts(fitted.forecaster, series, split.test_origins, fitted.interval)
    return Evaluation(kind, fitted, score(forecasts), forecasts, split, series, predict_ms)


@dataclass(frozen=True)
class LeaderboardRow:
    kind: str
    validation_mase: float
    test_mase: float
    dm_pvalue: float
    direction_accuracy: float
    coverage: float
    train_seconds: float
    verdict: str


def leaderboard(
    prices: pd.DataFrame | PriceSeries,
    *,
    kinds: tuple[str, ...] = LEADERBOARD_KINDS,
    config: TrainingConfig | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[LeaderboardRow]:
    """Every model type trained on one ticker, sorted by validation MASE (never by the test score).

    should_stop is asked before each type: most have no epochs to stop between.
    """
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown model type {unknown[0]!r}; choose from {', '.join(KINDS)}")
    series = _series(prices)
    rows = []
    for kind in kinds:
        if should_stop and should_stop():
            raise TrainingCancelledError(f"cancelled after {len(rows)} of {len(kinds)} model types")
        result = evaluate(kind, series, config)
        rows.append(
            LeaderboardRow(
                kind=kind,
                validation_mase=result.fitted.validation.mase,
                test_mase=result.test.mase,
                dm_pvalue=result.test.dm_pvalue,
                direction_accuracy=result.test.direction_accuracy,
                coverage=result.test.coverage,
                train_seconds=round(result.fitted.train_seconds, 3),
                verdict=result.test.verdict,
            )
        )
    return sorted(rows, key=lambda row: (np.nan_to_num(row.validation_mase, nan=np.inf), row.kind))


def rows_as_records(rows: list[LeaderboardRow]) -> list[dict[str, Any]]:
    """Leaderboard rows as JSON-safe dictionaries (NaN as None)."""
    return [
        {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in vars(row).items()
        }
        for row in rows
    ]
