"""ARIMA on log returns and ETS (damped Holt) on the log adjusted close, fitted with statsmodels.

statsmodels is imported inside fit() only, like TensorFlow. Once fitted, both models are a few
numbers, and their one-step forecasts are short recursions run here in numpy: a stored version
predicts without statsmodels and without refitting.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from core.forecasting.forecaster import Forecaster, finite, finite_array
from core.forecasting.series import PriceSeries, Split

ARIMA_ORDERS = ((1, 0), (0, 1), (1, 1))  # (p, q) on returns, chosen by AIC on the training part


def arma_one_step(returns: np.ndarray, mean: float, ar: np.ndarray, ma: np.ndarray) -> np.ndarray:
    """forecast[i] = expected returns[i] given returns[:i]; len(returns) + 1 values, the last for the day after."""
    from scipy.signal import lfilter

    values = np.nan_to_num(returns - mean)
    # Innovations: ma(L) e = ar(L) x, so e = x - forecast for every day with data.
    errors = lfilter(np.r_[1.0, -ar], np.r_[1.0, ma], values)
    forecast = np.empty(len(values) + 1)
    forecast[:-1] = values - errors
    forecast[-1] = sum(ar[k] * values[-1 - k] for k in range(len(ar)) if k < len(values))
    forecast[-1] += sum(ma[k] * errors[-1 - k] for k in range(len(ma)) if k < len(errors))
    return forecast + mean


def _stable(ar: np.ndarray, ma: np.ndarray) -> bool:
    """Stationary AR and invertible MA parts: every root of z^p - ar1 z^(p-1) - ... inside the unit circle."""
    return all(np.all(np.abs(np.roots(np.r_[1.0, sign * part])) < 1) for part, sign in ((ar, -1), (ma, 1)) if len(part))


class Arima(Forecaster):
    """ARMA(p, q) with a mean on daily log returns, that is ARIMA(p, 1, q) on the log price."""

    kind, label = "arima", "ARIMA on log price"

    def __init__(self, mean: float = 0.0, ar: tuple[float, ...] = (), ma: tuple[float, ...] = ()) -> None:
        self.mean, self.ar, self.ma = mean, np.asarray(ar, dtype=float), np.asarray(ma, dtype=float)

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Arima:
        from statsmodels.tsa.arima.model import ARIMA

        returns = series.log_returns[1 : split.train_end + 1]
        best = (np.inf, 0, 0, np.array([float(np.mean(returns))]))  # white noise around the mean
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter is not an analyst's concern
            for p, q in ARIMA_ORDERS:
                try:
                    result = ARIMA(returns, order=(p, 0, q), trend="c").fit(method="hannan_rissanen")
                except (ValueError, np.linalg.LinAlgError):
                    continue  # this order does not fit these returns; the others may
                params = np.asarray(result.params, dtype=float)
                if _stable(params[1 : 1 + p], params[1 + p : 1 + p + q]) and result.aic < best[0]:
                    best = (result.aic, p, q, params)
        _, p, q, params = best
        self.mean, self.ar, self.ma = float(params[0]), params[1 : 1 + p], params[1 + p : 1 + p + q]
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        returns = series.log_returns[1 : origins.max() + 1]  # rows 1..last origin; never beyond
        # forecast[i] predicts returns[i], that is r[i + 1], from r[1..i]: the origin t needs forecast[t].
        return arma_one_step(returns, self.mean, self.ar, self.ma)[origins]

    def parameters(self) -> dict[str, Any]:
        return {"mean": self.mean, "ar": self.ar.tolist(), "ma": self.ma.tolist()}

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Arima:
        ar, ma = finite_array(parameters.get("ar"), "ar"), finite_array(parameters.get("ma"), "ma")
        if len(ar) > 5 or len(ma) > 5:
            raise ValueError("ar, ma: at most 5 coefficients each")
        return cls(finite(parameters.get("mean"), "mean"), tuple(ar), tuple(ma))


def damped_holt_one_step(level_series: np.ndarray, params: dict[str, float]) -> np.ndarray:
    """forecast[i] = expected level_series[i] from level_series[:i]; one more value for the day after."""
    alpha, beta, phi = params["alpha"], params["beta"], params["phi"]
    level, trend = params["initial_level"], params["initial_trend"]
    forecast = np.empty(len(level_series) + 1)
    for i, value in enumerate(level_series):
        forecast[i] = level + phi * trend
        previous = level
        level = alpha * value + (1 - alpha) * (level + phi * trend)
        trend = beta * (level - previous) + (1 - beta) * phi * trend
    forecast[-1] = level + phi * trend
    return forecast


class Ets(Forecaster):
    """Additive damped-trend exponential smoothing of the log adjusted close."""

    kind, label = "ets", "ETS on log price"
    KEYS = ("alpha", "beta", "phi", "initial_level", "initial_trend")

    def __init__(self, params: dict[str, float] | None = None) -> None:
        self.params = params or {}

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Ets:
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        log_price = np.log(series.adjusted[: split.train_end + 1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = ExponentialSmoothing(log_price, trend="add", damped_trend=True).fit()
        values = fitted.params
        self.params = {
            "alpha": float(values["smoothing_level"]),
            "beta": float(values["smoothing_trend"]),
            "phi": float(values["damping_trend"]),
            "initial_level": float(values["initial_level"]),
            "initial_trend": float(values["initial_trend"]),
        }
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        log_price = np.log(series.adjusted[: origins.max() + 1])
        forecast = damped_holt_one_step(log_price, self.params)
        # forecast[t + 1] is the expected log price of day t + 1 from rows 0..t.
        return forecast[origins + 1] - log_price[origins]

    def parameters(self) -> dict[str, Any]:
        return dict(self.params)

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Ets:
        params = {key: finite(parameters.get(key), key) for key in cls.KEYS}
        if not (0 <= params["alpha"] <= 1 and 0 <= params["beta"] <= 1 and 0 < params["phi"] <= 1):
            raise ValueError("alpha, beta: 0 to 1; phi: above 0 up to 1")
        return cls(params)
