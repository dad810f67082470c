"""The one evaluation path: fit on a split, forecast historical origins, turn returns into prices, score.

Test-split scoring, walk-forward and backtests all go through historical_forecasts(), and every
forecast becomes a price through to_price(): base close of the origin day times exp(log return).
The actual next close is put on that same day's raw scale (close[t] times the adjusted return),
so a split between t and t+1 is not scored as a move.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from core.forecasting import metrics
from core.forecasting.forecaster import Drift, Forecaster, MedianDrift, MovingAverage
from core.forecasting.intervals import Interval, trailing_volatility
from core.forecasting.series import PriceSeries, Split

SIGNIFICANCE = 0.05
SAME_AS_PERSISTENCE = "the same forecast as tomorrow = today"


def to_price(base_close: np.ndarray | float, log_return: np.ndarray | float) -> np.ndarray:
    """A forecast log return as a price on the base day's scale."""
    return np.asarray(base_close, dtype=float) * np.exp(log_return)


def fitted_baselines(series: PriceSeries, split: Split) -> dict[str, Forecaster]:
    """The naive forecasters every model is scored beside, fitted on the split's training part.

    Persistence, the first bar, needs no model: it is the previous close. Median drift is the constant
    with the least absolute error, so it is the bar a model must clear on MAE and MASE.
    """
    return {
        "drift": Drift().fit(series, split),
        "median": MedianDrift().fit(series, split),
        "moving_average": MovingAverage(),
    }


def baseline_prices(
    baselines: dict[str, Forecaster], series: PriceSeries, origins: np.ndarray
) -> dict[str, np.ndarray]:
    """Each baseline's forecast at the origins, as a price on the origin day's scale (as forecast_frame's)."""
    previous = series.close[np.asarray(origins)]
    return {name: to_price(previous, model.predict(series, origins)) for name, model in baselines.items()}


def forecast_frame(
    series: PriceSeries, origins: np.ndarray, predicted: np.ndarray, half_width: np.ndarray | float
) -> pd.DataFrame:
    """Per origin t: its day, the day forecast (t+1), previous close, actual, predicted, interval (on day t's scale)."""
    origins = np.asarray(origins)
    base = series.close[origins]
    actual_return = series.log_returns[origins + 1]
    return pd.DataFrame(
        {
            "origin_date": series.dates[origins],
            "date": series.dates[origins + 1],
            "previous_close": base,
            "actual": to_price(base, actual_return),
            "predicted": to_price(base, predicted),
            "lower": to_price(base, predicted - half_width),
            "upper": to_price(base, predicted + half_width),
            "predicted_return": predicted,
            "actual_return": actual_return,
        }
    )


def historical_forecasts(
    forecaster: Forecaster, series: PriceSeries, origins: np.ndarray, interval: Interval | None
) -> pd.DataFrame:
    """The fitted forecaster's forecast at each origin, each from rows 0..t only, as a forecast frame."""
    origins = np.asarray(origins)
    half_widths = interval.half_widths(series.log_returns, origins) if interval else 0.0
    return forecast_frame(series, origins, forecaster.predict(series, origins), half_widths)


def verdict(dm_pvalue: float, model_mae: float, persistence_mae: float) -> str:
    """'beats persistence' only when the Diebold-Mariano test (absolute error) says so at 5 %."""
    if not np.isfinite(dm_pvalue):
        return "not enough test days to compare with tomorrow = today"
    if dm_pvalue < SIGNIFICANCE and model_mae < persistence_mae:
        return f"beats persistence (Diebold-Mariano {p_value_text(dm_pvalue)})"
    if dm_pvalue < SIGNIFICANCE:
        return f"worse than tomorrow = today (Diebold-Mariano {p_value_text(dm_pvalue)})"
    return f"no better than tomorrow = today ({p_value_text(dm_pvalue)})"


def p_value_text(p_value: float) -> str:
    """'p = 0.41', 'p = 0.0504' (never a rounded 0.05 beside 'no better'), 'p < 0.001'."""
    if p_value < 0.001:
        return "p < 0.001"
    return f"p = {p_value:.3g}" if p_value < 0.1 else f"p = {p_value:.2f}"


def judged(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> tuple[float, float, str]:
    """Diebold-Mariano against persistence (statistic, p-value) and the verdict it allows.

    One-day-ahead forecasts, one per day: the test takes their errors as a series without overlap.
    A forecast that is the previous close every day is persistence itself, whatever the test says.
    """
    statistic, p_value = metrics.diebold_mariano(actual, predicted, previous)
    if np.allclose(predicted, previous, rtol=1e-12, atol=0):
        return statistic, p_value, SAME_AS_PERSISTENCE
    return statistic, p_value, verdict(p_value, metrics.mae(actual, predicted), metrics.mae(actual, previous))


@dataclass(frozen=True)
class Scores:
    """A forecast frame's scores beside persistence on the same days."""

    days: int
    mae: float
    rmse: float
    mape: float
    mase: float
    persistence_mae: float
    direction_accuracy: float
    direction_p_value: float
    dm_statistic: float
    dm_pvalue: float
    coverage: float
    verdict: str

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def score(frame: pd.DataFrame) -> Scores:
    """MAE, RMSE, MAPE, MASE, direction with its binomial p, Diebold-Mariano against persistence, coverage."""
    actual, predicted, previous = (frame[c].to_numpy(dtype=float) for c in ("actual", "predicted", "previous_close"))
    accuracy, hits, days = metrics.directional_accuracy(actual - previous, predicted - previous)
    statistic, p_value, said = judged(actual, predicted, previous)
    inside = (actual >= frame["lower"].to_numpy()) & (actual <= frame["upper"].to_numpy())
    return Scores(
        days=len(frame),
        mae=metrics.mae(actual, predicted),
        rmse=metrics.rmse(actual, predicted),
        mape=metrics.mape(actual, predicted),
        mase=metrics.mase(actual, predicted, previous),
        persistence_mae=metrics.mae(actual, previous),
        direction_accuracy=accuracy,
        direction_p_value=metrics.direction_p_value(hits, days),
        dm_statistic=statistic,
        dm_pvalue=p_value,
        coverage=float(np.mean(inside)),
        verdict=said,
    )


@dataclass
class Fitted:
    """A fitted forecaster with its conformal interval and its validation scores."""

    forecaster: Forecaster
    interval: Interval
    validation: Scores
    train_seconds: float

    @property
    def interval_level(self) -> float:
        return self.interval.level


def fit(forecaster: Forecaster, series: PriceSeries, split: Split, *, level: float = 0.95, seed: int = 42) -> Fitted:
    """Fit on rows up to the end of validation only; the interval comes from validation residuals only
    (split conformal, scaled by the volatility known at each origin)."""
    started = time.perf_counter()
    forecaster.fit(series.upto(split.validation_end), split, seed=seed)
    seconds = time.perf_counter() - started
    known = series.upto(split.validation_end)
    origins = split.validation_origins
    validation = historical_forecasts(forecaster, known, origins, None)
    residuals = (validation["actual_return"] - validation["predicted_return"]).to_numpy()
    interval = Interval.calibrate(residuals, trailing_volatility(known.log_returns, origins), level)
    widened = forecast_frame(  # the same forecasts, with their intervals
        known, origins, validation["predicted_return"].to_numpy(), interval.half_widths(known.log_returns, origins)
    )
    return Fitted(forecaster, interval, score(widened), seconds)


def origin_split(origin: int, validation_days: int) -> Split:
    """The split of a walk-forward window: validation is the last validation_days targets up to the origin."""
    return Split(train_end=origin - validation_days, validation_end=origin, last_origin=origin)
