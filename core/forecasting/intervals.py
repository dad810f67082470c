"""Prediction intervals by split conformal prediction on held-out residuals."""

from __future__ import annotations

import math

import numpy as np


def conformal_half_width(residuals: np.ndarray, level: float) -> float:
    """The half-width covering `level` of new errors, from calibration residuals (finite-sample corrected)."""
    errors = np.sort(np.abs(np.asarray(residuals, dtype=float)))
    n = len(errors)
    if n == 0:
        raise ValueError("no calibration residuals")
    rank = math.ceil((n + 1) * level)
    if rank > n:
        return float("inf")  # too few residuals for this level: an honest, unbounded interval
    return float(errors[rank - 1])


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside their interval."""
    actual = np.asarray(actual, dtype=float)
    return float(np.mean((actual >= lower) & (actual <= upper)))
