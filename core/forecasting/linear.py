"""Ridge regression on the last 20 log returns and their 20-day volatility (scikit-learn RidgeCV)."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.forecasting.forecaster import Forecaster, finite, finite_array
from core.forecasting.series import PriceSeries, Split
from core.forecasting.trainable import ridge_refusal

LAGS = 20
ALPHAS = tuple(np.logspace(-2, 5, 15))


def lagged_features(returns: np.ndarray, origins: np.ndarray, lags: int) -> np.ndarray:
    """Per origin t: r[t-lags+1..t] (newest last) and their standard deviation; shape (origins, lags + 1)."""
    offsets = np.arange(-lags + 1, 1)
    window = returns[np.asarray(origins)[:, None] + offsets]
    return np.column_stack([window, window.std(axis=1)])


class Ridge(Forecaster):
    """A linear forecaster; the penalty is chosen by leave-one-out on the training part only."""

    kind, label = "ridge", "ridge on 20 lagged returns + volatility"

    def __init__(self, lags: int = LAGS) -> None:
        self.lags = lags
        self.mean = self.scale = self.coef = np.zeros(lags + 1)
        self.intercept = 0.0
        self.alpha = 1.0

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Ridge:
        from sklearn.linear_model import RidgeCV

        returns = series.log_returns
        refusal = ridge_refusal(split, self.lags)
        if refusal:
            raise ValueError(refusal)
        origins = np.arange(self.lags, split.train_end)
        features = lagged_features(returns, origins, self.lags)
        self.mean, self.scale = features.mean(axis=0), features.std(axis=0)
        self.scale[self.scale == 0] = 1.0
        model = RidgeCV(alphas=ALPHAS).fit((features - self.mean) / self.scale, returns[origins + 1])
        self.coef, self.intercept, self.alpha = model.coef_, float(model.intercept_), float(model.alpha_)
        return self

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        predicted = np.zeros(len(origins))
        known = origins >= self.lags  # before that there is not enough history: no move
        if known.any():
            features = lagged_features(series.log_returns, origins[known], self.lags)
            predicted[known] = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return predicted

    def parameters(self) -> dict[str, Any]:
        return {
            "lags": self.lags,
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "alpha": self.alpha,
        }

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Ridge:
        lags = parameters.get("lags")
        if not isinstance(lags, int) or not 1 <= lags <= 250:
            raise ValueError("lags: a whole number from 1 to 250")
        ridge = cls(lags)
        ridge.mean = finite_array(parameters.get("mean"), "mean", lags + 1)
        ridge.scale = finite_array(parameters.get("scale"), "scale", lags + 1)
        if (ridge.scale <= 0).any():
            raise ValueError("scale: every value must be above 0")
        ridge.coef = finite_array(parameters.get("coef"), "coef", lags + 1)
        ridge.intercept = finite(parameters.get("intercept"), "intercept")
        ridge.alpha = finite(parameters.get("alpha"), "alpha")
        return ridge
