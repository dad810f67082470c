"""A model of any engine type trained and scored as a version the registry stores, like the LSTM's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.forecasting.artifacts import sha256
from core.forecasting.bundles import pack_fitted
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import data_hash
from core.forecasting.engine import evaluate
from core.forecasting.evaluation import compare_with_baselines, json_safe
from core.forecasting.training import TrainingResult


def engine_result(prices: pd.DataFrame, config: TrainingConfig, *, ticker: str = "") -> TrainingResult:
    """Fit the configured type on train and validation, score the test days beside persistence and drift, pack it."""
    result = evaluate(config.model_type, prices, config)
    frame, scores, split = result.forecasts, result.test, result.split
    ordered = prices.sort_values("date")
    adjusted = (
        ordered["adjusted_close"].astype(float).fillna(ordered["close"].astype(float))
        if "adjusted_close" in ordered
        else ordered["close"].astype(float)
    ).to_numpy()
    drift_per_day = float(np.mean(np.diff(np.log(adjusted[: split.train_end + 1]))))
    metrics = compare_with_baselines(
        actual_next=frame["actual"].to_numpy(),
        previous_close=frame["previous_close"].to_numpy(),
        predicted_next=frame["predicted"].to_numpy(),
        drift_per_day=drift_per_day,
    )
    metrics |= {
        "dm_statistic": scores.dm_statistic,
        "dm_pvalue": scores.dm_pvalue,
        "interval_level": result.fitted.interval_level,
        "interval_half_width": result.fitted.half_width,
        "test_coverage": scores.coverage,
        "validation_mase": result.fitted.validation.mase,
        "train_seconds": round(result.fitted.train_seconds, 3),
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
        history={},
        epochs_run=0,
        train_seconds=result.fitted.train_seconds,
        data_start=data_start,
        data_end=data_end,
        data_hash=hashed,
        verdict=scores.verdict,
        test_forecast=frame.rename(
            columns={"previous_close": "close", "actual": "actual_next", "predicted": "predicted_next"}
        ),
        model=result.fitted.forecaster,
        preprocessing={},
        model_type=config.model_type,
    )
