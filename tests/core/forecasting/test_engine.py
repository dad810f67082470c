"""The forecasting engine: every model type on one interface, one evaluation path, honest ensembles."""

import numpy as np
import pandas as pd
import pytest

from core.backtest import BacktestConfig, run_backtest
from core.forecasting.artifacts import unpack
from core.forecasting.bundles import pack_fitted, restore_bundle
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import feature_table
from core.forecasting.engine import evaluate, leaderboard
from core.forecasting.ensemble import Ensemble, shrinkage, simplex_weights
from core.forecasting.history import SAME_AS_PERSISTENCE, fit
from core.forecasting.series import PriceSeries, Split
from core.forecasting.walkforward import BASELINES, WalkForwardSettings, walk_forward
from core.forecasting.zoo import make, restore
from tests.core.forecasting.tiny import fixture_prices, tiny_config

FAST_KINDS = ("persistence", "drift", "median", "moving_average", "ridge", "ets", "arima", "auto")
KEY = b"k" * 32


def synthetic(returns: np.ndarray, start: float = 100.0) -> pd.DataFrame:
    close = start * np.exp(np.cumsum(returns))
    return pd.DataFrame(
        {
            "date": pd.bdate_range("2010-01-04", periods=len(close)),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "adjusted_close": close,
            "volume": 1e6,
        }
    )


def noise(days: int = 900, seed: int = 11) -> pd.DataFrame:
    return synthetic(np.random.default_rng(seed).normal(0.0002, 0.01, days))


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return fixture_prices()


@pytest.mark.parametrize("kind", [*FAST_KINDS, "lstm"])
def test_no_forecast_sees_its_future(kind):
    series = PriceSeries.from_prices(noise(600))
    split = Split.chronological(len(series), 0.1, 0.2)
    fitted = fit(make(kind, tiny_config(epochs=1)), series, split)
    origins = split.test_origins[::25]
    full = fitted.forecaster.predict(series, origins)
    alone = [fitted.forecaster.predict(series.upto(t), np.array([t]))[0] for t in origins]
    np.testing.assert_allclose(full, alone, rtol=1e-5, atol=1e-9)
    # Changing every row after the validation part changes nothing the model learned.
    later = noise(600)
    later.loc[split.validation_end + 1 :, ["open", "high", "low", "close", "adjusted_close"]] *= 1.5
    refitted = fit(make(kind, tiny_config(epochs=1)), PriceSeries.from_prices(later), split)
    assert refitted.interval.scale == pytest.approx(fitted.interval.scale)


@pytest.mark.parametrize("kind", ["ridge", "auto"])
def test_test_scoring_walk_forward_and_backtest_agree(kind):
    series = PriceSeries.from_prices(noise(700))
    split_run = evaluate(kind, series)
    test_days = len(split_run.split.test_origins)
    validation_days = len(split_run.split.validation_origins)
    settings = WalkForwardSettings(windows=1, step=test_days, validation_days=validation_days)
    rolled = walk_forward(series, TrainingConfig(model_type=kind), settings)
    pd.testing.assert_frame_equal(rolled.forecasts.drop(columns=["window", *BASELINES]), split_run.forecasts)
    assert rolled.overall.as_dict() == pytest.approx(split_run.test.as_dict(), nan_ok=True)
    assert (rolled.metrics["mase"], rolled.metrics["verdict"]) == (
        pytest.approx(split_run.test.mase),
        split_run.test.verdict,
    )
    config = BacktestConfig(cost_bps=1.0)
    rolled_trades, split_trades = (
        run_backtest(rolled.forecasts, config, 252),
        run_backtest(split_run.forecasts, config, 252),
    )
    pd.testing.assert_frame_equal(rolled_trades.equity, split_trades.equity)
    assert rolled_trades.trades == split_trades.trades


def test_a_split_with_a_matching_adjusted_close_leaves_training_returns_unchanged():
    frame = noise(400)
    split_day = 200
    raw = frame.copy()
    raw.loc[split_day:, ["open", "high", "low", "close"]] /= 2  # a 2:1 split; the adjusted close is unchanged
    assert np.log(raw["close"][split_day] / raw["close"][split_day - 1]) < -0.6
    np.testing.assert_allclose(PriceSeries.from_prices(raw).log_returns, PriceSeries.from_prices(frame).log_returns)
    features = ("log_return", "hv_20", "rsi_14", "macd_hist", "range")
    pd.testing.assert_frame_equal(feature_table(raw, features), feature_table(frame, features), rtol=1e-9)
    split = Split.chronological(400, 0.1, 0.2)
    before = fit(make("ridge"), PriceSeries.from_prices(frame), split).forecaster.parameters()
    after = fit(make("ridge"), PriceSeries.from_prices(raw), split).forecaster.parameters()
    np.testing.assert_allclose(after["coef"], before["coef"])


def test_the_ensemble_falls_back_to_persistence_on_pure_noise():
    series = PriceSeries.from_prices(noise(1500, seed=5))
    ensemble = fit(Ensemble(), series, Split.chronological(len(series), 0.2, 0.2)).forecaster
    assert ensemble.weight_table()["persistence"] == pytest.approx(1.0)
    assert evaluate("auto", series).test.verdict == SAME_AS_PERSISTENCE


def test_the_ensemble_keeps_skill_that_validation_shows():
    rng = np.random.default_rng(3)
    shocks = rng.normal(0, 0.01, 1500)
    returns = np.zeros_like(shocks)
    for t in range(1, len(shocks)):
        returns[t] = 0.4 * returns[t - 1] + shocks[t]  # strongly autocorrelated returns: real skill to find
    result = evaluate("auto", synthetic(returns))
    assert result.fitted.forecaster.weight_table()["persistence"] < 0.5
    assert result.test.mase < 0.97
    assert result.test.verdict.startswith("beats persistence (Diebold-Mariano p ")


def test_the_ensemble_keeps_the_median_when_validation_shows_more_up_days_than_down():
    # Up on 60 % of days, down by more on the rest: no mean to forecast, but a median MAE rewards.
    rng = np.random.default_rng(8)
    up = rng.random(1500) < 0.6
    returns = np.where(up, 0.006, -0.009) + rng.normal(0, 0.001, 1500)
    result = evaluate("auto", synthetic(returns))
    weights = result.fitted.forecaster.weight_table()
    assert weights["median"] > 0.5
    assert weights["median"] > weights["drift"]
    assert result.test.mase < 0.99
    assert result.test.verdict.startswith("beats persistence (Diebold-Mariano p ")


def test_the_gate_keeps_a_combination_better_on_every_validation_day_and_drops_one_worse():
    # Binary fractions, so the loss difference is exactly the same every day: its variance is zero.
    actual = np.full(200, 0.25)
    assert shrinkage(np.full(200, 0.125), actual) == (1.0, 0.0)
    assert shrinkage(np.full(200, -0.125), actual) == (0.0, 1.0)


def test_ensemble_weights_minimise_absolute_error_on_the_simplex():
    rng = np.random.default_rng(2)
    actual = rng.normal(0, 1, 300)
    exact, noisy, zero = actual, actual + rng.normal(0, 1, 300), np.zeros(300)
    weights = simplex_weights(np.column_stack([zero, noisy, exact]), actual)
    np.testing.assert_allclose(weights, [0.0, 0.0, 1.0], atol=1e-9)
    outliers = np.where(np.arange(300) % 10 == 0, 50.0, 1.0)  # a median of 1, a mean far above it
    weights = simplex_weights(np.column_stack([np.zeros(300), np.full(300, 2.0)]), outliers)
    assert weights[1] == pytest.approx(0.5)  # 0.5 * 2 = the median; least squares would go past 1


@pytest.mark.parametrize("kind", [*FAST_KINDS, "lstm", "gru"])
def test_a_bundle_round_trips_for_every_type(kind, prices):
    series = PriceSeries.from_prices(prices)
    split = Split.chronological(len(series), 0.1, 0.2)
    fitted = fit(make(kind, tiny_config(epochs=1)), series, split)
    bundle = unpack(pack_fitted(fitted, kind=kind, metadata={"ticker": "^GSPC"}, key=KEY), key=KEY)
    assert bundle.verified
    restored = restore_bundle(bundle)
    origins = split.test_origins
    np.testing.assert_allclose(restored.forecaster.predict(series, origins), fitted.forecaster.predict(series, origins))
    assert restored.interval == fitted.interval


def test_parameters_outside_their_type_are_refused(prices):
    series = PriceSeries.from_prices(prices)
    fitted = fit(make("ridge"), series, Split.chronological(len(series), 0.1, 0.2))
    fitted.forecaster.coef[0] = np.inf
    bundle = unpack(pack_fitted(fitted, kind="ridge", metadata={}, key=KEY), key=KEY)
    with pytest.raises(ValueError, match="coef: not a finite number"):
        restore_bundle(bundle)


@pytest.mark.parametrize(("kind", "name"), [("drift", "mean_return"), ("median", "median_return")])
def test_a_drift_without_its_daily_return_is_refused_by_name(kind, name):
    with pytest.raises(ValueError, match=f"{name}: not a finite number"):
        restore(kind, {})
    assert restore(kind, {name: 0.0004}).predict_next(PriceSeries.from_prices(noise(30))) == pytest.approx(0.0004)


def test_the_leaderboard_is_sorted_by_validation_not_test():
    rows = leaderboard(noise(600), kinds=("persistence", "drift", "ridge"))
    assert [row.validation_mase for row in rows] == sorted(row.validation_mase for row in rows)
    assert {row.kind for row in rows} == {"persistence", "drift", "ridge"}
