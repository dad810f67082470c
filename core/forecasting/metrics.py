"""Forecast metrics as pure functions of actual and predicted values."""

from __future__ import annotations

import math

import numpy as np


def _arrays(actual, predicted) -> tuple[np.ndarray, np.ndarray]:
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    if actual.shape != predicted.shape or actual.size == 0:
        raise ValueError(
            f"actual and predicted must be equal, non-empty lengths, got {actual.size} and {predicted.size}"
        )
    return actual, predicted


def mae(actual, predicted) -> float:
    actual, predicted = _arrays(actual, predicted)
    return float(np.mean(np.abs(actual - predicted)))


def mse(actual, predicted) -> float:
    actual, predicted = _arrays(actual, predicted)
    return float(np.mean((actual - predicted) ** 2))


def rmse(actual, predicted) -> float:
    return float(np.sqrt(mse(actual, predicted)))


def r2(actual, predicted) -> float:
    """1 - SSE/SST: 0 for predicting the mean, negative for worse."""
    actual, predicted = _arrays(actual, predicted)
    total = np.sum((actual - actual.mean()) ** 2)
    return float(1 - np.sum((actual - predicted) ** 2) / total) if total > 0 else float("nan")


def mape(actual, predicted) -> float:
    """Mean absolute percentage error, in percent; undefined (NaN) when an actual value is 0."""
    actual, predicted = _arrays(actual, predicted)
    if np.any(actual == 0):
        return float("nan")
    return float(np.mean(np.abs((actual - predicted) / actual)) * 100)


def mase(actual, predicted, naive) -> float:
    """MAE of the forecast over the MAE of the naive forecast on the same days: below 1 beats naive."""
    naive_error = mae(actual, naive)
    return mae(actual, predicted) / naive_error if naive_error > 0 else float("nan")


def directional_accuracy(actual_change, predicted_change) -> tuple[float, int, int]:
    """Share of days whose predicted move had the actual move's sign, with hits and counted days.

    Days where either move is exactly zero have no direction and are not counted.
    """
    actual, predicted = _arrays(actual_change, predicted_change)
    counted = (actual != 0) & (predicted != 0)
    days = int(counted.sum())
    hits = int((np.sign(actual[counted]) == np.sign(predicted[counted])).sum())
    return (hits / days if days else float("nan")), hits, days


def direction_p_value(hits: int, days: int) -> float:
    """One-sided binomial p-value of at least `hits` right directions in `days` tosses of a fair coin."""
    if days == 0:
        return float("nan")
    from scipy.stats import binomtest  # scipy.stats takes half a second: not on every page that names a model

    return float(binomtest(hits, days, 0.5, alternative="greater").pvalue)


def diebold_mariano(actual, predicted, benchmark) -> tuple[float, float]:
    """(statistic, two-sided p-value) of equal absolute-error accuracy, one step ahead.

    Absolute error because the product reports MAE and MASE: the test asks whether the MASE shown
    beside it differs from 1 by more than chance. (Squared error would test a different claim: a
    forecast of the median return can have the lower MAE and the higher MSE.) Negative statistics
    favour `predicted`. Uses the Harvey-Leybourne-Newbold small-sample correction and a Student t
    with n - 1 degrees of freedom.
    """
    actual, predicted = _arrays(actual, predicted)
    _, benchmark = _arrays(actual, benchmark)
    loss = np.abs(actual - predicted) - np.abs(actual - benchmark)
    n, mean = len(loss), float(np.mean(loss))
    variance = np.var(loss, ddof=0)
    if n < 3 or (variance == 0 and mean == 0):
        return float("nan"), float("nan")  # too few days, or the same loss every day: nothing to tell apart
    if variance == 0:
        # The same difference every day (a price that stopped moving): certain, as a tiny variance would be.
        return math.copysign(math.inf, mean), 0.0
    statistic = mean / np.sqrt(variance / n)
    statistic *= np.sqrt((n - 1) / n)  # HLN with h = 1: sqrt((n + 1 - 2h + h(h - 1)/n) / n)
    from scipy.stats import t as student_t

    p_value = 2 * student_t.sf(abs(statistic), df=n - 1)
    return float(statistic), float(p_value)
