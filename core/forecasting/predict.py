"""Forecasts from a loaded model: the next trading days' closes with their intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.calendar import trading_days_after
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


@dataclass(frozen=True)
class DayForecast:
    target_date: pd.Timestamp
    predicted_close: float
    lower: float
    upper: float
    confidence: float


def forecast_days(model, preprocessing: dict, prices: pd.DataFrame, days: int, ticker: str) -> list[DayForecast]:
    """The next `days` sessions of the ticker's exchange (holidays skipped), each forecast from the one before.

    A forecast day enters the history as a bar with no range and the last volume. The interval of
    day k widens with the square root of k, as the spread of a sum of k independent daily errors
    does. The confidence score is |predicted move| / (|predicted move| + half-width): near 0 when
    the move is small against the model's usual error, towards 1 when it stands out.
    """
    if not 1 <= days <= 30:
        raise ValueError(f"days: 1 to 30, got {days}")
    history = prices.sort_values("date").reset_index(drop=True)[["date", "open", "high", "low", "close", "volume"]]
    base = float(history["close"].iloc[-1])
    half_width = float(preprocessing["interval_half_width"])
    forecasts = []
    for step, day in enumerate(trading_days_after(history["date"].iloc[-1], days, ticker), start=1):
        close = forecast_next(model, preprocessing, history).predicted_close
        volume = history["volume"].iloc[-1]
        bar = {"date": day, "open": close, "high": close, "low": close, "close": close, "volume": volume}
        history = pd.concat([history, pd.DataFrame([bar])], ignore_index=True)
        move = float(np.log(close / base))
        spread = half_width * float(np.sqrt(step))
        forecasts.append(
            DayForecast(
                target_date=day,
                predicted_close=close,
                lower=base * float(np.exp(move - spread)),
                upper=base * float(np.exp(move + spread)),
                confidence=abs(move) / (abs(move) + spread) if np.isfinite(spread) and spread > 0 else 0.0,
            )
        )
    return forecasts
