"""Walk-forward: every window trained only on its past, scored beside four baselines, with the DM test."""

import math

import numpy as np
import pandas as pd
import pytest

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting import metrics
from core.forecasting import walkforward as wf
from core.forecasting.dataset import DatasetError
from core.forecasting.history import MIN_TEST_DAYS, verdict
from core.forecasting.walkforward import WalkForwardSettings, lag_diagnostic, walk_forward
from tests.core.forecasting.tiny import tiny_config


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return parse_price_csv(sample_bytes(), ticker="^GSPC").frame


def test_diebold_mariano_on_crafted_series():
    rng = np.random.default_rng(3)
    actual = rng.normal(0, 1, 400)
    good = actual + rng.normal(0, 0.2, 400)
    bad = actual + rng.normal(0, 1.0, 400)
    statistic, p_value = metrics.diebold_mariano(actual, good, bad)
    assert statistic < 0, "negative favours the first forecast"
    assert p_value < 1e-6
    reverse = metrics.diebold_mariano(actual, bad, good)
    assert reverse == (pytest.approx(-statistic), pytest.approx(p_value))
    assert np.isnan(metrics.diebold_mariano(actual[:2], good[:2], bad[:2])[1])


def test_dm_statistic_by_hand():
    actual = np.array([1.0, 2.0, 3.0, 4.0])
    loss = np.abs(actual - np.array([1.5, 2.0, 2.0, 4.5])) - np.abs(actual - np.array([0.0, 1.0, 2.0, 3.0]))
    expected = loss.mean() / np.sqrt(loss.var() / 4) * np.sqrt(3 / 4)
    assert metrics.diebold_mariano(actual, [1.5, 2.0, 2.0, 4.5], [0.0, 1.0, 2.0, 3.0])[0] == pytest.approx(expected)


def test_a_forecast_worse_by_the_same_amount_every_day_is_certainly_worse():
    # A price that stops moving: persistence is exact, a drift misses by the same amount each day.
    actual = np.full(140, 100.0)
    statistic, p_value = metrics.diebold_mariano(actual, actual + 0.5, actual)
    assert (statistic, p_value) == (np.inf, 0.0)
    assert verdict(p_value, 0.5, 0.0) == "worse than tomorrow = today (Diebold-Mariano p < 0.001)"
    assert metrics.diebold_mariano(actual, actual - 0.5, actual + 1.0) == (-np.inf, 0.0)
    assert np.isnan(metrics.diebold_mariano(actual, actual + 0.5, actual - 0.5)[1]), "equal losses: no difference"


def test_dm_tests_the_absolute_error_that_mase_reports():
    # Up 1 on 60 % of days, down 1.5 on the rest: the mean move is 0, the median move is +1.
    # Forecasting the median has the lower MAE (MASE < 1) and the higher squared error.
    rng = np.random.default_rng(5)
    actual = np.where(rng.random(2000) < 0.6, 1.0, -1.5)
    median, persistence = np.full(2000, 0.5), np.zeros(2000)
    assert metrics.mase(actual, median, persistence) < 1
    assert metrics.mse(actual, median) > metrics.mse(actual, persistence)
    statistic, p_value = metrics.diebold_mariano(actual, median, persistence)
    assert statistic < 0
    assert p_value < 0.01


def test_lag_diagnostic():
    actual, previous = np.array([10.0, 12.0, 11.0]), np.array([9.0, 10.0, 12.0])
    echo = previous + 0.1
    assert lag_diagnostic(actual, echo, previous)["follows_previous_close"] is True
    assert lag_diagnostic(actual, actual, previous)["follows_previous_close"] is False


def test_no_window_is_trained_on_its_own_future(sample, monkeypatch):
    seen, baselines_seen = [], []
    real_fit, real_baselines = wf.fit, wf.fitted_baselines

    def spy(forecaster, series, split, **options):
        seen.append(series.dates[split.validation_end])
        return real_fit(forecaster, series, split, **options)

    def baselines_spy(series, split):
        baselines_seen.append(series.dates[split.train_end])
        return real_baselines(series, split)

    monkeypatch.setattr(wf, "fit", spy)
    monkeypatch.setattr(wf, "fitted_baselines", baselines_spy)
    result = walk_forward(sample, tiny_config(epochs=1), WalkForwardSettings(windows=3, step=10, retrain_every=2))
    assert len(seen) == 2, "retrained at windows 1 and 3 only"
    firsts = [pd.Timestamp(w["first_day"]) for w in result.windows]
    assert len(baselines_seen) == 2
    assert baselines_seen[0] < firsts[0], "the baselines train before their window, as the model does"
    assert baselines_seen[1] < firsts[2]
    assert seen[0] < firsts[0]
    assert seen[1] < firsts[2]
    assert [w["retrained"] for w in result.windows] == [True, False, True]
    assert [pd.Timestamp(w["train_until"]) for w in result.windows][::2] == seen
    forecast = result.forecasts
    assert (pd.to_datetime(forecast["date"]) > pd.to_datetime(forecast["date"]).shift(1).fillna(pd.Timestamp(0))).all()
    assert len(forecast) == 30
    assert result.forecasts["date"].max() == pd.Timestamp("2018-12-31")


def test_overall_metrics_and_baselines(sample):
    result = walk_forward(sample, tiny_config(epochs=1), WalkForwardSettings(windows=2, step=10))
    m = result.metrics
    assert (m["windows"], m["step"], m["days"]) == (2, 10, 20)
    assert m["mase"] == pytest.approx(m["mae"] / m["naive_mae"])
    assert set(m["baselines"]) == {"persistence", "drift", "median", "moving_average"}
    assert m["baselines"]["persistence"]["mase"] == pytest.approx(1.0)
    assert 0 <= m["coverage"] <= 1
    assert m["dm_pvalue"] is None, f"20 days are fewer than the {MIN_TEST_DAYS} a Diebold-Mariano test needs"
    assert m["verdict"] == f"not tested: 20 of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"
    forecast = result.forecasts
    average = sample["close"].rolling(5).mean().shift(0)
    first = forecast.iloc[0]
    day_before = sample.index[sample["date"] == first["date"]][0] - 1
    assert first["moving_average"] == pytest.approx(average.iloc[day_before])
    assert first["persistence"] == pytest.approx(sample["close"].iloc[day_before])
    # Median drift: the median daily log return of the first window's training part (before validation).
    train_end = day_before - math.ceil(day_before * 0.1)
    log_adjusted = np.log(sample["adjusted_close"].to_numpy()[: train_end + 1])
    assert first["median"] == pytest.approx(first["previous_close"] * np.exp(np.median(np.diff(log_adjusted))))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"windows": 0}, "windows: 1 to 50"),
        ({"windows": 3, "retrain_every": 4}, "retrain_every: 1 to the number of windows"),
        ({"step": 2}, "step: 5 to 1000"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        WalkForwardSettings(**settings)


def test_too_little_history(sample):
    with pytest.raises(DatasetError, match="too little history for 10 windows of 100 days"):
        walk_forward(sample.tail(1000), tiny_config(), WalkForwardSettings(windows=10, step=100))


def test_the_history_a_walk_forward_needs_is_one_rule_for_the_worker_and_the_submit_check(sample):
    # The service checks the stored days with window_plan before queueing; walk_forward applies it to the rows.
    config, settings = tiny_config(model_type="median"), WalkForwardSettings(windows=3, step=10)
    assert wf.window_plan(281, config, settings) == (10, 250), "251 rows (days 0 to 250) train the first window"
    need = "3 windows of 10 days: it takes 281 days, 251 to train the first window on and 30 to forecast"
    with pytest.raises(DatasetError, match=f"^too little history for {need}; XYZ has 280$"):
        wf.window_plan(280, config, settings, ticker="XYZ")
    with pytest.raises(DatasetError, match=f"^too little history for {need}; the prices have 280$"):
        walk_forward(sample.tail(280), config, settings)
    assert walk_forward(sample.tail(281), config, settings).metrics["days"] == 30


def test_validation_days_that_reach_the_first_origin_are_refused_naming_the_days(sample):
    # The first window's model was fitted on no day at all: drift's mean of nothing, every score NaN or a crash.
    config = tiny_config(model_type="median")
    plan = WalkForwardSettings(windows=1, step=50, validation_days=349)  # the first origin is day 349 of 400
    said = "^validation_days: 349 of the 349 days before the first window's origin leave none to train on; at most 348$"
    with pytest.raises(DatasetError, match=said):
        wf.window_plan(400, config, plan)
    with pytest.raises(DatasetError, match=said):
        walk_forward(sample.tail(400), config, plan)
    with pytest.raises(DatasetError, match=r"^validation_days: 400 of the 349 days"):
        wf.window_plan(400, config, WalkForwardSettings(windows=1, step=50, validation_days=400))
    assert wf.window_plan(400, config, WalkForwardSettings(windows=1, step=50, validation_days=348)) == (50, 349)


def test_a_first_window_too_short_for_the_network_is_refused_in_the_words_its_fit_fails_with(sample):
    # The submit's check (window_plan) let it through and every window's fit failed in the worker.
    config, plan = tiny_config(window=250), WalkForwardSettings(windows=1, step=30)
    said = "^the LSTM needs at least 312 training days"  # 33 days of MACD warm-up, a window of 250, then 30
    with pytest.raises(DatasetError, match=said):
        wf.window_plan(281, config, plan, ticker="XYZ")
    with pytest.raises(DatasetError, match=said):
        walk_forward(sample.tail(281), config, plan)
    assert wf.window_plan(281, tiny_config(model_type="median", window=250), plan) == (30, 250)


def test_the_walk_forward_verdict_judges_the_absolute_error_its_test_measured():
    # Up 0.6 % on 65 % of days, down 1.2 % on the rest: the median forecast halves no squared error,
    # yet its absolute error is lower, and the Diebold-Mariano test on absolute errors says so.
    rng = np.random.default_rng(4)
    returns = np.where(rng.random(1200) < 0.65, 0.006, -0.012)
    close = 100 * np.exp(np.cumsum(returns))
    prices = pd.DataFrame(
        {
            "date": pd.bdate_range("2010-01-04", periods=len(close)),
            "open": close, "high": close * 1.01, "low": close * 0.99,
            "close": close, "adjusted_close": close, "volume": 1e6,
        }
    )  # fmt: skip
    result = walk_forward(prices, tiny_config(model_type="median"), WalkForwardSettings(windows=4, step=50))
    forecast = result.forecasts
    actual, previous, predicted = (forecast[c].to_numpy() for c in ("actual", "previous_close", "predicted"))
    assert metrics.mse(actual, predicted) > metrics.mse(actual, previous)
    m = result.metrics
    assert m["mase"] < 0.9
    assert m["dm_pvalue"] < 0.05
    assert m["verdict"].startswith("beats persistence (Diebold-Mariano p ")


def test_every_way_in_runs_as_many_windows_as_the_benchmark_reports():
    # The README's headline walk-forward figures come from bench/forecasters.py: the CLI, the API and
    # the Metrics page (tests/app_pages) run that many windows unless asked otherwise.
    import inspect

    from api.schemas import WalkForwardRequest
    from core.__main__ import build_parser
    from core.services import analysis

    assert WalkForwardSettings().windows == 10
    cli = build_parser().parse_args(["walkforward", "--csv", "prices.csv"])
    assert cli.windows == WalkForwardSettings().windows
    assert WalkForwardRequest(ticker="SPX").windows == WalkForwardSettings().windows
    service = inspect.signature(analysis.submit_walk_forward)
    assert service.parameters["windows"].default == WalkForwardSettings().windows


def test_a_walk_forward_of_five_days_is_not_tested(sample):
    # 1 window of 5 days said "beats persistence (p < 0.001)" of random walks 58 times as often as chance allows.
    result = walk_forward(sample, tiny_config(model_type="drift"), WalkForwardSettings(windows=1, step=5))
    assert math.isnan(result.overall.dm_pvalue)
    assert result.metrics["dm_pvalue"] is None, "stored as null, as the pages and the API read it"
    assert result.metrics["verdict"] == f"not tested: 5 of the {MIN_TEST_DAYS} days a Diebold-Mariano test needs"
    assert result.window_scores[0].verdict == result.metrics["verdict"]


def test_a_window_served_by_an_earlier_model_records_the_day_that_model_was_trained_until(sample):
    result = walk_forward(
        sample, tiny_config(model_type="drift"), WalkForwardSettings(windows=3, step=20, retrain_every=2)
    )
    first, reused, retrained = result.windows
    assert not reused["retrained"]
    assert reused["train_until"] == first["train_until"]
    assert retrained["train_until"] > reused["first_day"]
    assert pd.Timestamp(first["train_until"]) < pd.Timestamp(first["first_day"])
