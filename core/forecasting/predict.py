"""Forecasts from a stored model of any type: the next trading days' closes with their intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.calendar import trading_days_after
from core.forecasting.bundles import Restored
from core.forecasting.config import MAX_FORECAST_DAYS
from core.forecasting.history import to_price
from core.forecasting.series import PriceSeries


@dataclass(frozen=True)
class Forecast:
    predicted_return: float
    predicted_close: float
    lower: float
    upper: float


def forecast_next(model: Restored, prices: pd.DataFrame) -> Forecast:
    """The next day's close from rows up to the last day of prices, on that day's raw price scale."""
    series = PriceSeries.from_prices(prices)
    predicted_return = model.forecaster.predict_next(series)
    half_width = model.half_width(series)
    close = float(series.close[-1])
    return Forecast(
        predicted_return=predicted_return,
        predicted_close=float(to_price(close, predicted_return)),
        lower=float(to_price(close, predicted_return - half_width)),
        upper=float(to_price(close, predicted_return + half_width)),
    )


@dataclass(frozen=True)
class DayForecast:
    target_date: pd.Timestamp
    predicted_close: float
    lower: float
    upper: float
    confidence: float


def forecast_days(model: Restored, prices: pd.DataFrame, days: int, ticker: str) -> list[DayForecast]:
    """The next `days` sessions of the ticker's exchange (holidays skipped), each forecast from the one before.

    A forecast day enters the history as a bar with no range and the last volume. The interval of
    day k widens with the square root of k, as the spread of a sum of k independent daily errors
    does. The confidence score is |predicted move| / (|predicted move| + half-width): near 0 when
    the move is small against the model's usual error, towards 1 when it stands out.
    """
    if not 1 <= days <= MAX_FORECAST_DAYS:
        raise ValueError(f"days: 1 to {MAX_FORECAST_DAYS}, got {days}")
    series = PriceSeries.from_prices(prices)
    base = float(series.close[-1])
    half_width = model.half_width(series)  # the volatility known on the last real day, not on forecast days
    forecasts = []
    for step, day in enumerate(trading_days_after(series.frame["date"].iloc[-1], days, ticker), start=1):
        series = series.extended(model.forecaster.predict_next(series), day)
        close = float(series.close[-1])
        move = float(np.log(close / base))
        spread = half_width * float(np.sqrt(step))
        forecasts.append(
            DayForecast(
                target_date=day,
                predicted_close=close,
                lower=float(to_price(base, move - spread)),
                upper=float(to_price(base, move + spread)),
                confidence=abs(move) / (abs(move) + spread) if np.isfinite(spread) and spread > 0 else 0.0,
            )
        )
    return forecasts
