"""Forecasts from a loaded model: the next trading days' closes with their intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.forecasting.dataset import latest_window


@dataclass(frozen=True)
class Forecast:
    predicted_return: float
    predicted_close: float
    lower: float
    upper: float


def forecast_next(model, preprocessing: dict, prices: pd.DataFrame) -> Forecast:
    """The next day's close from the window ending on the last day of prices."""
    inputs = latest_window(prices, preprocessing)
    # A direct call skips predict()'s dataset machinery: a single window needs none of it.
    scaled = float(np.asarray(model(inputs, training=False)).ravel()[0])
    value = scaled * preprocessing["target_scale"] + preprocessing["target_mean"]
    close = float(prices.sort_values("date")["close"].iloc[-1])
    predicted_return = value if preprocessing["target"] == "log_return" else float(np.log(max(value, 1e-12) / close))
    half_width = float(preprocessing["interval_half_width"])
    return Forecast(
        predicted_return=predicted_return,
        predicted_close=close * float(np.exp(predicted_return)),
        lower=close * float(np.exp(predicted_return - half_width)),
        upper=close * float(np.exp(predicted_return + half_width)),
    )
