"""The "auto" ensemble: members fitted on the training part, weights from the validation part only.

Weights are the non-negative, sum-to-one combination of member return forecasts with the least
absolute error on validation: absolute because the product scores MAE and MASE, and the forecast
with the least absolute error is a median, not a mean. Whether that fitting finds skill is checked
on validation too, by cross-fitting: weights fitted on each half of validation forecast the other
half, and a one-sided Diebold-Mariano test of those out-of-sample forecasts against persistence
decides how much of the final weights (fitted on all of validation) stand: all at p = 0, none at
p >= GATE, shrinking linearly toward persistence in between. Nothing is chosen on test data; on
pure noise the gate leaves tomorrow = today, except on about as many series as its level lets through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.forecasting import metrics
from core.forecasting.forecaster import Drift, Forecaster, MedianDrift, Persistence, finite
from core.forecasting.linear import Ridge
from core.forecasting.series import PriceSeries, Split
from core.forecasting.statistical import Arima, Ets

MEMBERS: tuple[type[Forecaster], ...] = (Persistence, Drift, MedianDrift, Ridge, Ets, Arima)
GATE = 0.10  # the one-sided p-value at and beyond which validation shows no skill


def simplex_weights(forecasts: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Least-absolute-error weights >= 0 summing to 1, for forecasts shaped (days, members).

    A linear programme: minimise the sum of u_i with u_i >= |actual_i - forecasts_i . w|.
    """
    days, members = forecasts.shape
    identity = np.eye(days)
    objective = np.concatenate([np.zeros(members), np.ones(days)])
    bounds = np.block([[-forecasts, -identity], [forecasts, -identity]])
    limits = np.concatenate([-actual, actual])
    sums_to_one = np.concatenate([np.ones(members), np.zeros(days)])[None, :]
    from scipy.optimize import linprog  # only when weights are fitted, not when a page names a model

    solved = linprog(objective, A_ub=bounds, b_ub=limits, A_eq=sums_to_one, b_eq=[1.0], method="highs")
    if not solved.success:
        return np.eye(members)[0]
    weights = np.clip(solved.x[:members], 0.0, None)
    return weights / weights.sum()


def shrinkage(combined: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """(share kept of the fitted weights, one-sided DM p of the combination beating persistence)."""
    statistic, two_sided = metrics.diebold_mariano(actual, combined, np.zeros_like(actual))
    if np.isnan(statistic):
        return 0.0, float("nan")
    one_sided = two_sided / 2 if statistic < 0 else 1 - two_sided / 2
    return float(np.clip((GATE - one_sided) / GATE, 0.0, 1.0)), float(one_sided)


def cross_fitted(forecasts: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Each half of the days combined with the weights fitted on the other half: out-of-sample forecasts."""
    middle = len(actual) // 2
    first, second = slice(0, middle), slice(middle, None)
    return np.concatenate(
        [
            forecasts[first] @ simplex_weights(forecasts[second], actual[second]),
            forecasts[second] @ simplex_weights(forecasts[first], actual[first]),
        ]
    )


class Ensemble(Forecaster):
    """A weighted mean of member return forecasts, persistence included."""

    kind, label = "auto", "auto ensemble"

    def __init__(self, members: list[Forecaster] | None = None, weights: np.ndarray | None = None) -> None:
        self.members = members or [member() for member in MEMBERS]
        self.weights = weights if weights is not None else np.eye(len(self.members))[0]
        self.validation_p = float("nan")

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Ensemble:
        for member in self.members:
            member.fit(series, split, seed=seed)
        origins = split.validation_origins
        forecasts = np.column_stack([member.predict(series, origins) for member in self.members])
        actual = series.log_returns[origins + 1]
        kept, self.validation_p = shrinkage(cross_fitted(forecasts, actual), actual)
        fitted = simplex_weights(forecasts, actual)
        persistence = np.array([isinstance(member, Persistence) for member in self.members], dtype=float)
        self.weights = kept * fitted + (1 - kept) * persistence
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        total = np.zeros(len(origins))
        for member, weight in zip(self.members, self.weights, strict=True):
            if weight > 0:
                total += weight * member.predict(series, origins)
        return total

    def parameters(self) -> dict[str, Any]:
        return {
            "members": [{"kind": m.kind, "parameters": m.parameters()} for m in self.members],
            "weights": self.weights.tolist(),
            "validation_p": self.validation_p if np.isfinite(self.validation_p) else None,
        }

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Ensemble:
        kinds = {member.kind: member for member in MEMBERS}
        entries = parameters.get("members")
        weights = parameters.get("weights")
        if not isinstance(entries, list) or not isinstance(weights, list) or len(entries) != len(weights):
            raise ValueError("members and weights: two lists of the same length")
        members = []
        for number, entry in enumerate(entries):
            kind = entry.get("kind") if isinstance(entry, dict) else None
            if kind not in kinds:
                raise ValueError(f"members: unknown member {str(kind)[:20]!r}")
            member_parameters = entry.get("parameters")
            if member_parameters is None:  # absent: no parameters, as persistence has
                member_parameters = {}
            if not isinstance(member_parameters, dict):
                raise ValueError(f"members.{number}.parameters: must be a JSON object")
            members.append(kinds[kind].restore(member_parameters))
        values = np.array([finite(w, "weights") for w in weights])
        if (values < 0).any() or not np.isclose(values.sum(), 1.0, atol=1e-6):
            raise ValueError("weights: non-negative and summing to 1")
        return cls(members, values)

    def weight_table(self) -> dict[str, float]:
        return {member.kind: float(weight) for member, weight in zip(self.members, self.weights, strict=True)}
