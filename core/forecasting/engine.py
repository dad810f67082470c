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
from core.forecasting.ensemble import MEMBERS, Ensemble
from core.forecasting.forecaster import Hooks, TrainingCancelledError
from core.forecasting.history import Fitted, Scores, fit, historical_forecasts, score
from core.forecasting.linear import LAGS, Ridge
from core.forecasting.series import PriceSeries, Split
from core.forecasting.trainable import network_refusal, ridge_refusal
from core.forecasting.zoo import KINDS, NETWORK_KINDS, make

MIN_ROWS = 250
LEADERBOARD_KINDS = ("persistence", "drift", "median", "moving_average", "ridge", "ets", "arima", "auto", "lstm")


def require_history(days: int) -> None:
    """Refuse fewer days than any model type trains on, in the words a job that tried would fail with."""
    if days < MIN_ROWS:
        raise DatasetError(f"too little history: {days} days; at least {MIN_ROWS} are needed")


def fit_refusal(kind: str, config: TrainingConfig, split: Split) -> str | None:
    """Why the model type cannot be fitted on the split's training days, in the words its fit fails with; None
    when it can. The ensemble cannot when one of its members cannot: it fits them all."""
    if kind in NETWORK_KINDS:
        return network_refusal(kind, config, split)
    if kind == Ridge.kind:
        return ridge_refusal(split, LAGS)
    if kind == Ensemble.kind:
        return next(filter(None, (fit_refusal(member.kind, config, split) for member in MEMBERS)), None)
    return None


def require_trainable(kinds: tuple[str, ...], config: TrainingConfig, days: int) -> None:
    """Refuse settings that one of the model types, fitted one after another as a job does, cannot train on over
    `days` of prices, in the words that job would fail with."""
    split = Split.chronological(days, config.validation_fraction, config.test_fraction)
    for kind in kinds:
        refusal = fit_refusal(kind, config, split)
        if refusal:
            raise DatasetError(refusal)


def job_model_types(kind: str, config: TrainingConfig) -> tuple[str, ...]:
    """The model types a training job (kind "train") or a leaderboard job fits."""
    return LEADERBOARD_KINDS if kind == "leaderboard" else (config.model_type,)


def _series(prices: pd.DataFrame | PriceSeries) -> PriceSeries:
    series = prices if isinstance(prices, PriceSeries) else PriceSeries.from_prices(prices)
    require_history(len(series))
    return series


def job_fit_hooks(
    should_stop: Callable[[], bool] | None,
    on_heartbeat: Callable[[], None] | None,
    on_epoch: Callable[[int, int], None] | None = None,
) -> Hooks | None:
    """Hooks for one network fit inside a longer job: it beats after each epoch (and within long ones) and stops
    at the next epoch when cancelled; on_epoch, if given, hears (epoch, epochs) instead of the epoch's beat (its
    caller's progress write beats too), as a leaderboard's progress moves through its network.

    Without them a fit longer than the reaper's silence limit fails a healthy job.
    """
    if should_stop is None and on_heartbeat is None and on_epoch is None:
        return None

    def epoch_done(epoch: int, epochs: int, *_losses) -> None:
        if on_epoch:
            on_epoch(epoch, epochs)
        elif on_heartbeat:
            on_heartbeat()

    return Hooks(
        on_epoch=epoch_done if on_epoch or on_heartbeat else None,
        should_stop=should_stop,
        on_heartbeat=on_heartbeat,
    )


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
    on_kind: Callable[[int, int], None] | None = None,
    on_heartbeat: Callable[[], None] | None = None,
    on_epoch: Callable[[str, float, int, int], None] | None = None,
) -> list[LeaderboardRow]:
    """Every model type trained on one ticker, sorted by validation MASE (never by the test score).

    should_stop is asked before each type and after each epoch of a network: the others have no epochs to stop
    between. on_kind hears the types done out of all of them; on_epoch hears a network's epochs as
    (kind, share of the whole run, epoch, epochs), the share moving through that type's part: a network takes
    longer than all the others together, and the bar otherwise sat at 8 of 9 for most of the run.
    """
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown model type {unknown[0]!r}; choose from {', '.join(KINDS)}")
    series = _series(prices)
    rows = []
    for kind in kinds:
        cancelled = f"cancelled after {len(rows)} of {len(kinds)} model types"
        if should_stop and should_stop():
            raise TrainingCancelledError(cancelled)
        epoch_done = _epoch_share(on_epoch, kind, len(rows), len(kinds)) if on_epoch else None
        try:
            result = evaluate(kind, series, config, hooks=job_fit_hooks(should_stop, on_heartbeat, epoch_done))
        except TrainingCancelledError:
            raise TrainingCancelledError(cancelled) from None  # the job counts types, not the network's epochs
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
        if on_kind:
            on_kind(len(rows), len(kinds))
    return sorted(rows, key=lambda row: (np.nan_to_num(row.validation_mase, nan=np.inf), row.kind))


def _epoch_share(
    on_epoch: Callable[[str, float, int, int], None], kind: str, done: int, total: int
) -> Callable[[int, int], None]:
    return lambda epoch, epochs: on_epoch(kind, (done + epoch / epochs) / total, epoch, epochs)


def rows_as_records(rows: list[LeaderboardRow]) -> list[dict[str, Any]]:
    """Leaderboard rows as JSON-safe dictionaries (NaN as None)."""
    return [
        {
            key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in vars(row).items()
        }
        for row in rows
    ]
