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
    return float(direction_p_values(np.array([hits]), np.array([days]))[0])


def direction_p_values(hits: np.ndarray, days: np.ndarray) -> np.ndarray:
    """direction_p_value of each pair of counts at once (NaN where there are no days): a scoreboard's models.

    scipy.stats.binomtest(hits, days, 0.5, alternative="greater") of each, to its last digits or so, as the
    binomial tail P(X > hits - 1) of scipy.special: it loads in a fraction of the time scipy.stats takes (most
    of a second on a page's first run), and one call covers every model.
    """
    hits, days = np.asarray(hits), np.asarray(days)
    if hits.shape != days.shape:
        raise ValueError(f"direction p-values need as many hits as days, got {hits.size} and {days.size}")
    impossible = (hits < 0) | (hits > days)
    if impossible.any():
        first = int(np.flatnonzero(impossible)[0])
        raise ValueError(f"hits must be 0 to the days counted, got {hits[first]} hits in {days[first]} days")
    from scipy.special import bdtrc

    # bdtrc is undefined below its support; no hits is "at least 0 right", which is certain.
    tail = bdtrc(np.maximum(hits - 1, 0), days, 0.5)
    return np.where(days == 0, np.nan, np.where(hits == 0, 1.0, tail))


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
    from scipy.special import stdtr  # what scipy.stats.t.sf computes, without loading scipy.stats

    p_value = 2 * stdtr(n - 1, -abs(statistic))
    return float(statistic), float(p_value)
