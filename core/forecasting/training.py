"""Training one model version of any type: the engine's fit and test scoring, baselines beside it, a bundle.

Every model type takes this one path: evaluate() fits on the train and validation parts and scores
the test days through historical_forecasts(); networks report each epoch and stop when cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting.artifacts import sha256
from core.forecasting.bundles import pack_fitted
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import DatasetError, data_hash
from core.forecasting.engine import evaluate
from core.forecasting.evaluation import compare_with_baselines, json_safe
from core.forecasting.forecaster import Hooks, TrainingCancelledError
from core.forecasting.history import baseline_prices, fitted_baselines

EpochHook = Callable[[int, int, float, float | None], None]

__all__ = ["TrainingCancelledError", "TrainingResult", "train_model"]


@dataclass
class TrainingResult:
    bundle: bytes
    bundle_sha256: str
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    data_start: date
    data_end: date
    data_hash: str
    verdict: str
    model_type: str
    test_forecast: pd.DataFrame = field(repr=False)
    model: Any = field(default=None, repr=False)  # the fitted forecaster, for callers that go on to predict


def train_model(
    prices: pd.DataFrame,
    config: TrainingConfig,
    *,
    ticker: str = "",
    on_epoch: EpochHook | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_heartbeat: Callable[[], None] | None = None,
) -> TrainingResult:
    """Fit the configured type on train and validation, score the test days beside the naive baselines, pack it."""
    if should_stop and should_stop():
        raise TrainingCancelledError("cancelled before training started")
    hooks = Hooks(on_epoch=on_epoch, should_stop=should_stop, on_heartbeat=on_heartbeat)
    try:
        result = evaluate(config.model_type, prices, config, hooks=hooks)
    except TrainingCancelledError:
        raise
    except ValueError as error:
        raise DatasetError(str(error)) from None
    frame, scores, split = result.forecasts, result.test, result.split
    ordered = prices.sort_values("date")
    baselines = fitted_baselines(result.series, split)
    metrics = compare_with_baselines(frame, baseline_prices(baselines, result.series, split.test_origins))
    metrics |= {
        "dm_statistic": scores.dm_statistic,
        "dm_pvalue": scores.dm_pvalue,
        "interval_level": result.fitted.interval_level,
        "interval_scale": result.fitted.interval.scale,
        "interval_half_width": float(frame["upper"].div(frame["predicted"]).pipe(np.log).mean()),
        "test_coverage": scores.coverage,
        "validation_mase": result.fitted.validation.mase,
        "validation_coverage": result.fitted.validation.coverage,
        "train_seconds": round(result.fitted.train_seconds, 3),
        "epochs": hooks.epochs_run,
        "samples": {
            "train": split.train_end,
            "validation": len(split.validation_origins),
            "test": len(split.test_origins),
        },
    }
    weights = getattr(result.fitted.forecaster, "weight_table", None)
    if weights:
        metrics["weights"] = weights()
    metrics = json_safe(metrics)
    data_start, data_end = (pd.Timestamp(ordered["date"].iloc[i]).date() for i in (0, -1))
    parameters = config.model_dump(mode="json")
    hashed = data_hash(ordered)
    bundle = pack_fitted(
        result.fitted,
        kind=config.model_type,
        metadata={
            "ticker": ticker,
            "parameters": parameters,
            "metrics": metrics,
            "data_start": data_start.isoformat(),
            "data_end": data_end.isoformat(),
            "data_hash": hashed,
        },
    )
    return TrainingResult(
        bundle=bundle,
        bundle_sha256=sha256(bundle),
        metrics=metrics,
        parameters=parameters,
        history=json_safe(hooks.history),
        epochs_run=hooks.epochs_run,
        train_seconds=result.fitted.train_seconds,
        data_start=data_start,
        data_end=data_end,
        data_hash=hashed,
        verdict=scores.verdict,
        model_type=config.model_type,
        test_forecast=frame.rename(
            columns={"previous_close": "close", "actual": "actual_next", "predicted": "predicted_next"}
        ),
        model=result.fitted.forecaster,
    )
