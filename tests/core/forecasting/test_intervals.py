"""Intervals calibrated on validation residuals only cover about their level on later days, calm or turbulent."""

import numpy as np

from core.forecasting.engine import evaluate
from core.forecasting.intervals import Interval, trailing_volatility
from tests.core.forecasting.test_engine import synthetic


def garch_returns(days: int, seed: int) -> np.ndarray:
    """Returns whose volatility clusters (GARCH(1,1)) and drifts up: the test part is the most turbulent."""
    rng = np.random.default_rng(seed)
    shocks, variance = np.zeros(days), 1e-4
    for t in range(1, days):
        variance = 2e-6 + 0.08 * shocks[t - 1] ** 2 + 0.9 * variance
        shocks[t] = np.sqrt(variance) * rng.standard_normal()
    return np.linspace(1.0, 2.0, days) * shocks


def test_95_percent_intervals_cover_near_95_percent_of_test_days():
    # One series' coverage wanders by about 0.016 (300 calibration days, 600 test days): judge the mean.
    coverages = [evaluate("ridge", synthetic(garch_returns(3000, seed))).test.coverage for seed in range(1, 7)]
    assert 0.93 <= np.mean(coverages) <= 0.97
    assert all(0.9 <= coverage <= 0.99 for coverage in coverages)


def test_the_volatility_at_an_origin_uses_no_later_return():
    returns = np.random.default_rng(0).normal(0, 0.01, 300)
    shocked = returns.copy()
    shocked[200:] *= 10
    origins = np.arange(50, 200)
    np.testing.assert_array_equal(trailing_volatility(returns, origins), trailing_volatility(shocked, origins))
    assert trailing_volatility(shocked, np.array([250]))[0] > 3 * trailing_volatility(returns, np.array([250]))[0]


def test_before_the_warm_up_an_origin_falls_back_on_its_own_past_whatever_else_is_asked_with_it():
    returns = np.random.default_rng(0).normal(0, 0.01, 300)
    returns[100:] *= 10
    alone = trailing_volatility(returns, np.array([5]))[0]
    assert trailing_volatility(returns, np.array([5, 299]))[0] == alone
    assert alone == np.sqrt(np.mean(returns[:6] ** 2))


def test_the_interval_widens_with_recent_volatility():
    returns = np.concatenate([np.full(100, 0.001), np.tile([0.03, -0.03], 20)])
    interval = Interval(0.95, 2.0)
    calm, turbulent = interval.half_widths(returns, np.array([99, 139]))
    assert turbulent > 5 * calm
    fixed = Interval(0.95, 0.02, volatility_scaled=False)
    np.testing.assert_array_equal(fixed.half_widths(returns, np.array([99, 139])), [0.02, 0.02])


def test_a_validation_part_where_the_price_never_moved_bounds_no_interval():
    # Halted through the validation days, trading again after: a zero-width "95 %" interval covered 0.5 % of them.
    from core.forecasting.series import Split

    prices = synthetic(np.random.default_rng(7).normal(0, 0.01, 1000))
    split = Split.chronological(len(prices), 0.1, 0.2)
    halted = prices.index[split.train_end : split.validation_end + 1]
    prices.loc[halted, ["open", "high", "low", "close", "adjusted_close"]] = prices.loc[split.train_end, "close"]
    evaluated = evaluate("persistence", prices)
    assert evaluated.fitted.interval.scale == np.inf
    assert np.isnan(evaluated.test.coverage)
