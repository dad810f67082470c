"""A model's test forecasts beside the naive baselines, on the same days; stored scores read back."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting import metrics
from core.forecasting.history import verdict


def price_metrics(
    actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray, persistence: np.ndarray
) -> dict[str, float]:
    accuracy, hits, days = metrics.directional_accuracy(actual - previous, predicted - previous)
    return {
        "mae": metrics.mae(actual, predicted),
        "rmse": metrics.rmse(actual, predicted),
        "mse": metrics.mse(actual, predicted),
        "r2": metrics.r2(actual, predicted),
        "mape": metrics.mape(actual, predicted),
        "mase": metrics.mase(actual, predicted, persistence),
        "direction_accuracy": accuracy,
        "direction_days": days,
        "direction_p_value": metrics.direction_p_value(hits, days),
    }


def compare_with_baselines(forecasts: pd.DataFrame, baselines: dict[str, np.ndarray]) -> dict[str, Any]:
    """A forecast frame's model scored beside persistence and each baseline's prices, on the same days."""
    actual, previous, predicted = (forecasts[c].to_numpy(float) for c in ("actual", "previous_close", "predicted"))
    scored = {"persistence": price_metrics(actual, previous, previous, previous)}
    scored |= {name: price_metrics(actual, prices, previous, previous) for name, prices in baselines.items()}
    return {
        **price_metrics(actual, predicted, previous, previous),
        "naive_mae": scored["persistence"]["mae"],
        "baselines": scored,
        "test_days": len(actual),
    }


def json_safe(value: Any) -> Any:
    """The value with NaN and infinities as None, as JSON columns (and PostgreSQL's JSONB) require."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def stored_number(value: object) -> float | None:
    """A stored score as a finite number, or None: rows imported before validation may hold anything."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


# A model's edge over tomorrow = today lives in the fourth decimal (0.9988): three would show 0.999.
MASE_SPEC = ".4f"


def figure(value: object, spec: str) -> str:
    """A score in its format, or a dash where it has none: no p-value beside a forecast identical to
    persistence, no MASE where persistence is exact (a price that never moved)."""
    number = stored_number(value)
    return "—" if number is None else format(number, spec)


# A leaderboard holds a verdict per model type, in each one's row, and none of its own.
LEADERBOARD_VERDICT = "a leaderboard: each model type's verdict is in its row"


def stored_verdict(scores: dict[str, Any]) -> str:
    """A stored version's or run's verdict, from its Diebold-Mariano p-value and MAEs.

    Never the stored sentence where the numbers exist: versions trained before the test judged
    absolute errors, or imported from elsewhere, may carry a sentence claiming more than their numbers.
    """
    if isinstance(scores.get("models"), list):
        return LEADERBOARD_VERDICT
    if scores.get("imported") or ("dm_pvalue" in scores and scores["dm_pvalue"] is None):
        # Imported: "not evaluated here". Tested without a p-value: our own sentence (persistence itself, too few days).
        sentence = scores.get("verdict")
        return sentence[:200] if isinstance(sentence, str) else ""
    p_value, model_mae, persistence_mae = (stored_number(scores.get(key)) for key in ("dm_pvalue", "mae", "naive_mae"))
    if p_value is None or model_mae is None or persistence_mae is None:
        return "not tested against persistence: retrain for a Diebold-Mariano verdict"
    # A version's test days, or a run's; one stored before too few days went untested has its p all the same.
    days = stored_number(scores.get("test_days", scores.get("days")))
    return verdict(p_value, model_mae, persistence_mae, days=None if days is None else int(days))
