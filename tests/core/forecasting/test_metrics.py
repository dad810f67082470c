"""Metrics against hand-computed values, the conformal quantile, and the verdict."""

import math

import numpy as np
import pandas as pd
import pytest

from core.forecasting import metrics
from core.forecasting.evaluation import compare_with_baselines
from core.forecasting.history import MIN_TEST_DAYS, SAME_AS_PERSISTENCE, judged, p_value_figure, score, verdict
from core.forecasting.intervals import bounded_interval_days, conformal_quantile, coverage

ACTUAL = [10.0, 12.0, 11.0, 13.0]
PREDICTED = [11.0, 11.0, 11.0, 14.0]
NAIVE = [9.0, 10.0, 12.0, 11.0]


def test_hand_computed_errors():
    assert metrics.mae(ACTUAL, PREDICTED) == pytest.approx(0.75)  # (1 + 1 + 0 + 1) / 4
    assert metrics.mse(ACTUAL, PREDICTED) == pytest.approx(0.75)
    assert metrics.rmse(ACTUAL, PREDICTED) == pytest.approx(math.sqrt(0.75))
    assert metrics.mape(ACTUAL, PREDICTED) == pytest.approx((0.1 + 1 / 12 + 0 + 1 / 13) / 4 * 100)
    # mean 11.5: SST = 2.25 + 0.25 + 0.25 + 2.25 = 5; SSE = 1 + 1 + 0 + 1 = 3
    assert metrics.r2(ACTUAL, PREDICTED) == pytest.approx(1 - 3 / 5)
    # naive MAE = (1 + 2 + 1 + 2) / 4 = 1.5
    assert metrics.mase(ACTUAL, PREDICTED, NAIVE) == pytest.approx(0.75 / 1.5)


def test_mase_is_one_for_the_naive_forecast_itself():
    assert metrics.mase(ACTUAL, NAIVE, NAIVE) == pytest.approx(1.0)


def test_direction_and_its_p_value():
    accuracy, hits, days = metrics.directional_accuracy([1, -1, 2, 0, -3], [2, 1, 1, 5, -1])
    assert (accuracy, hits, days) == (pytest.approx(0.75), 3, 4)
    # P(X >= 3) for X ~ Binomial(4, 0.5) = (4 + 1) / 16
    assert metrics.direction_p_value(3, 4) == pytest.approx(5 / 16)
    assert metrics.direction_p_value(60, 100) == pytest.approx(0.0284, abs=1e-4)


def test_undefined_cases_are_nan_not_errors():
    assert math.isnan(metrics.mape([0.0, 1.0], [1.0, 1.0]))
    assert math.isnan(metrics.r2([2.0, 2.0], [1.0, 3.0]))
    assert math.isnan(metrics.direction_p_value(0, 0))
    with pytest.raises(ValueError, match="equal, non-empty"):
        metrics.mae([1.0], [1.0, 2.0])


def test_conformal_quantile_and_coverage():
    residuals = np.arange(1, 20) / 100.0  # 0.01 .. 0.19, n = 19
    # ceil((19 + 1) * 0.9) = 18th smallest
    assert conformal_quantile(residuals, 0.9) == pytest.approx(0.18)
    assert conformal_quantile(residuals, 0.99) == math.inf
    assert coverage(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.5, 2.0]), np.array([2.0, 3.0, 4.0])) == pytest.approx(
        2 / 3
    )


def test_baselines_on_the_same_days():
    previous = np.array([100.0, 101.0, 102.0])
    actual = np.array([101.0, 100.0, 104.0])
    forecasts = pd.DataFrame({"previous_close": previous, "actual": actual, "predicted": previous + 0.5})
    result = compare_with_baselines(forecasts, {"drift": previous, "up_one": previous + 1})
    assert result["naive_mae"] == pytest.approx((1 + 1 + 2) / 3)
    assert result["baselines"]["persistence"]["mase"] == pytest.approx(1.0)
    assert result["baselines"]["drift"]["mae"] == pytest.approx(result["naive_mae"])
    assert result["baselines"]["up_one"]["mae"] == pytest.approx((0 + 2 + 1) / 3)
    assert result["mae"] == pytest.approx((0.5 + 1.5 + 1.5) / 3)


@pytest.mark.parametrize(
    ("p_value", "model_mae", "text"),
    [
        (0.01, 9.0, "beats persistence (Diebold-Mariano p = 0.01)"),
        (0.0504, 9.0, "no better than tomorrow = today (p = 0.0504)"),
        (0.0002, 9.0, "beats persistence (Diebold-Mariano p < 0.001)"),
        (0.01, 11.0, "worse than tomorrow = today (Diebold-Mariano p = 0.01)"),
        (0.41, 9.0, "no better than tomorrow = today (p = 0.41)"),
    ],
)
def test_verdict_is_beats_only_when_diebold_mariano_says_so(p_value, model_mae, text):
    assert verdict(p_value, model_mae, 10.0) == text


def test_a_forecast_with_persistence_s_error_every_day_is_not_called_too_short():
    # Mirrored about the actual close: never persistence's forecast, always its absolute error.
    # Whole-dollar closes keep the mirrored errors exactly equal in floating point.
    closes = 100.0 + np.cumsum(np.random.default_rng(3).integers(-3, 4, size=41))
    previous, actual = closes[:-1], closes[1:]
    mirrored = 2 * actual - previous
    _, p_value, said = judged(actual, mirrored, previous)
    assert np.isnan(p_value)
    assert said == "no better than tomorrow = today (the same error as it on every day: nothing to test)"


def _printed_p(text: str) -> str:
    """The p-value as a verdict prints it: '0.04996' of '... (Diebold-Mariano p = 0.04996)'."""
    return text.rsplit("p = ", 1)[1].rstrip(")")


@pytest.mark.parametrize("p_value", [0.04996, 0.05004, 0.0499999, 0.0500001, 0.0496, 0.0504, 0.049, 0.051])
def test_a_printed_p_value_sits_on_the_same_side_of_five_percent_as_its_verdict(p_value):
    said = verdict(p_value, 9.0, 10.0)
    printed = _printed_p(said)
    assert said.startswith("beats") == (p_value < 0.05)
    assert (float(printed) < 0.05) == (p_value < 0.05), said
    assert printed != "0.05", f"{said}: a rounded 0.05 reads as either side"
    assert float(printed) == pytest.approx(p_value, rel=2e-3)


@pytest.mark.parametrize(
    ("p_value", "shown"), [(0.0004, "< 0.001"), (0.0496, "0.0496"), (0.41, "0.41"), (float("nan"), "—"), (None, "—")]
)
def test_a_p_value_on_its_own_reads_as_the_verdict_prints_it(p_value, shown):
    assert p_value_figure(p_value) == shown


def _clearly_better_forecasts(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A forecast that misses by a tenth of persistence's miss, with a little noise: a 'certain' win."""
    rng = np.random.default_rng(days)
    previous = 100 + np.cumsum(rng.normal(0, 1, days))
    move = rng.normal(0, 1, days)
    actual = previous + move
    return actual, actual - 0.1 * move + rng.normal(0, 0.01, days), previous


def test_fewer_days_than_a_test_needs_are_not_tested():
    # Three to five days gave "beats persistence (p < 0.001)" in 58 times as many random walks as chance allows.
    statistic, p_value, said = judged(*_clearly_better_forecasts(5))
    assert math.isnan(p_value)
    assert math.isnan(statistic)
    assert said == f"not tested: 5 of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"
    _, p_value, said = judged(*_clearly_better_forecasts(MIN_TEST_DAYS))
    assert p_value < 0.001
    assert said == "beats persistence (Diebold-Mariano p < 0.001)"
    actual, _, previous = _clearly_better_forecasts(5)
    assert judged(actual, previous, previous)[2] == SAME_AS_PERSISTENCE, "persistence itself, whatever the days"


def _frame(half_width: float, days: int = 40) -> pd.DataFrame:
    actual, predicted, previous = _clearly_better_forecasts(days)
    return pd.DataFrame(
        {
            "actual": actual,
            "predicted": predicted,
            "previous_close": previous,
            "lower": predicted * np.exp(-half_width),
            "upper": predicted * np.exp(half_width),
        }
    )


def test_an_unbounded_interval_has_no_coverage():
    # Too few validation residuals for the level give an infinite half-width: every day "inside" it was 100 %.
    assert math.isnan(score(_frame(math.inf)).coverage)
    assert score(_frame(1.0)).coverage == 1.0
    assert math.isnan(coverage(np.array([1.0, 2.0]), np.array([0.0, 0.0]), np.array([2.0, math.inf])))


def test_a_bounded_interval_needs_as_many_residuals_as_its_level_asks():
    need = bounded_interval_days(0.95)
    assert need == 19
    residuals = np.linspace(0.01, 0.2, need)
    assert math.isfinite(conformal_quantile(residuals, 0.95))
    assert conformal_quantile(residuals[:-1], 0.95) == math.inf


def test_a_stored_p_value_of_too_few_days_is_not_read_as_a_test():
    # Versions and runs stored before the rule carry a p-value of 3 to 5 days: given the days, it is not a verdict.
    assert (
        verdict(0.0004, 9.0, 10.0, days=5) == f"not tested: 5 of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"
    )
    assert verdict(0.0004, 9.0, 10.0, days=MIN_TEST_DAYS) == "beats persistence (Diebold-Mariano p < 0.001)"
