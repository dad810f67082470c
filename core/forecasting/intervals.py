"""Prediction intervals by split conformal prediction on held-out residuals, scaled by recent volatility.

The score of a validation day is |actual log return - forecast| / sigma, where sigma is the
RiskMetrics volatility known at the forecast's origin (an exponentially weighted mean of squared
daily log returns, lambda 0.94, a long-standing industry default, not a value tuned here). The
interval at an origin is the conformal quantile of those scores times that origin's sigma, so it
widens in turbulent weeks and narrows in calm ones; a fixed width from a calm validation part
undercovers a volatile test part. Nothing about the interval is fitted on test days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RISKMETRICS_ALPHA = 0.06  # 1 - lambda with lambda = 0.94
WARM_UP_DAYS = 20


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The value covering `level` of new scores, from calibration scores (finite-sample corrected)."""
    errors = np.sort(np.abs(np.asarray(scores, dtype=float)))
    errors = errors[np.isfinite(errors)]
    n = len(errors)
    if n == 0:
        raise ValueError("no calibration residuals")
    rank = math.ceil((n + 1) * level)
    if rank > n:
        return float("inf")  # too few residuals for this level: an honest, unbounded interval
    quantile = float(errors[rank - 1])
    # No error on `level` of the days: prices that did not move there (a halted stock) say nothing of the days
    # that do, and a zero-width "95 %" interval covered half a percent of them.
    return quantile if quantile > 0 else float("inf")


def trailing_volatility(log_returns: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Per origin t: the RiskMetrics volatility of daily log returns through day t (never after)."""
    origins = np.asarray(origins, dtype=int)
    squared = pd.Series(np.nan_to_num(np.asarray(log_returns, dtype=float)) ** 2)
    sigma = np.sqrt(squared.ewm(alpha=RISKMETRICS_ALPHA, min_periods=WARM_UP_DAYS).mean().to_numpy()[origins])
    # Before the warm-up, or on a flat series, the mean volatility through the origin stands in: each
    # origin's own, so asking for later origins alongside changes nothing.
    fallback = np.sqrt(squared.expanding().mean().to_numpy()[origins])
    fallback = np.where(fallback > 0, fallback, 1.0)
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, fallback)


@dataclass(frozen=True)
class Interval:
    """A calibrated interval: half-width = scale x sigma(origin), or a fixed scale for older versions."""

    level: float
    scale: float  # conformal quantile of |error| / sigma; of |error| itself when not volatility_scaled
    volatility_scaled: bool = True

    @classmethod
    def calibrate(cls, residuals: np.ndarray, volatility: np.ndarray, level: float) -> Interval:
        return cls(level, conformal_quantile(np.asarray(residuals) / np.asarray(volatility), level))

    def half_widths(self, log_returns: np.ndarray, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        if not self.volatility_scaled:
            return np.full(len(origins), self.scale)
        return self.scale * trailing_volatility(log_returns, origins)


def bounded_interval_days(level: float) -> int:
    """The fewest calibration residuals that bound an interval at this level (19 at 95 %)."""
    days = 1
    while math.ceil((days + 1) * level) > days:  # conformal_quantile's rank, past the last residual
        days += 1
    return days


# Why a coverage is blank, in the words every page uses.
UNBOUNDED_COVERAGE = (
    f"too few validation days for the interval's level (a 95 % interval needs {bounded_interval_days(0.95)}), "
    "or prices that did not move on them: the interval is unbounded, and coverage would say nothing"
)


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside their interval; NaN when an interval is unbounded.

    An interval from too few residuals for its level is infinite (conformal_quantile): every day is inside
    it, and 100 % would say nothing of how often a real interval is right.
    """
    actual, lower, upper = (np.asarray(values, dtype=float) for values in (actual, lower, upper))
    if not (np.isfinite(lower).all() and np.isfinite(upper).all()):
        return float("nan")
    return float(np.mean((actual >= lower) & (actual <= upper)))
