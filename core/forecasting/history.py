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
from core.forecasting.intervals import Interval, coverage, trailing_volatility
from core.forecasting.series import PriceSeries, Split

SIGNIFICANCE = 0.05
SAME_AS_PERSISTENCE = "the same forecast as tomorrow = today"
EQUAL_ERRORS = "no better than tomorrow = today (the same error as it on every day: nothing to test)"
# Fewer days are too few for the Diebold-Mariano test's t distribution: over 3 to 5 days of random walks with a
# drift, a drift forecast's nearly equal daily differences read as "p < 0.001" 58 times as often as chance
# allows. Test splits, walk-forward runs and the ledger's scoreboard all wait for this many.
MIN_TEST_DAYS = 30


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


def too_few_to_test(days: int) -> str:
    """The verdict of forecasts over fewer than MIN_TEST_DAYS days: no test, and how many days it needs."""
    return f"not tested: {days} of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"


def verdict(dm_pvalue: float, model_mae: float, persistence_mae: float, *, days: int | None = None) -> str:
    """'beats persistence' only when the Diebold-Mariano test (absolute error) says so at 5 %.

    days: the days the test compared, when known; fewer than MIN_TEST_DAYS are not tested, whatever p a
    version stored before that rule carries.
    """
    if days is not None and days < MIN_TEST_DAYS:
        return too_few_to_test(days)
    if not np.isfinite(dm_pvalue):
        # With the days a test needs, only an error the same as persistence's on every day leaves no statistic.
        return EQUAL_ERRORS
    if dm_pvalue < SIGNIFICANCE and model_mae < persistence_mae:
        return f"beats persistence (Diebold-Mariano {p_value_text(dm_pvalue)})"
    if dm_pvalue < SIGNIFICANCE:
        return f"worse than tomorrow = today (Diebold-Mariano {p_value_text(dm_pvalue)})"
    return f"no better than tomorrow = today ({p_value_text(dm_pvalue)})"


def p_value_text(p_value: float) -> str:
    """'p = 0.41', 'p = 0.0504', 'p = 0.04996', 'p < 0.001': as p_value_figure() shows it, after 'p'."""
    shown = p_value_figure(p_value)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def p_value_figure(p_value: object) -> str:
    """A p-value as every verdict, table and figure shows it: '0.41', '0.0504', '0.04996', '< 0.001', or '—'.

    Three significant digits, more where those would round onto or across 5 %: 0.04996 is never '0.05' beside
    'beats persistence', nor 0.05004 '0.05' beside 'no better'.
    """
    if isinstance(p_value, bool) or not isinstance(p_value, int | float) or not np.isfinite(p_value):
        return "—"
    if p_value < 0.001:
        return "< 0.001"
    if p_value >= 0.1:
        return f"{p_value:.2f}"
    for digits in range(3, 16):
        shown = f"{p_value:.{digits}g}"
        rounded = float(shown)
        if (rounded < SIGNIFICANCE) == (p_value < SIGNIFICANCE) and (
            rounded != SIGNIFICANCE or p_value == SIGNIFICANCE
        ):
            return shown
    return repr(float(p_value))


def judged(actual: np.ndarray, predicted: np.ndarray, previous: np.ndarray) -> tuple[float, float, str]:
    """Diebold-Mariano against persistence (statistic, p-value) and the verdict it allows.

    One-day-ahead forecasts, one per day: the test takes their errors as a series without overlap.
    A forecast that is the previous close every day is persistence itself, whatever the test says, and
    from the first day. Over fewer than MIN_TEST_DAYS days there is no test: (NaN, NaN) and a verdict
    saying so.
    """
    if np.allclose(predicted, previous, rtol=1e-12, atol=0):
        return *metrics.diebold_mariano(actual, predicted, previous), SAME_AS_PERSISTENCE
    days = len(actual)
    if days < MIN_TEST_DAYS:
        return float("nan"), float("nan"), too_few_to_test(days)
    statistic, p_value = metrics.diebold_mariano(actual, predicted, previous)
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
    coverage: float  # NaN when an interval is unbounded (too few validation days for its level)
    verdict: str

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def score(frame: pd.DataFrame) -> Scores:
    """MAE, RMSE, MAPE, MASE, direction with its binomial p, Diebold-Mariano against persistence, coverage."""
    actual, predicted, previous = (frame[c].to_numpy(dtype=float) for c in ("actual", "predicted", "previous_close"))
    accuracy, hits, days = metrics.directional_accuracy(actual - previous, predicted - previous)
    statistic, p_value, said = judged(actual, predicted, previous)
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
        coverage=coverage(actual, frame["lower"].to_numpy(float), frame["upper"].to_numpy(float)),
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
