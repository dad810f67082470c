"""Training end to end on CPU through the one path every type takes: metrics beside baselines, determinism, cancel."""

import math

import numpy as np
import pytest

from core.forecasting.artifacts import unpack
from core.forecasting.bundles import restore_bundle
from core.forecasting.config import MODEL_TYPES, TrainingConfig
from core.forecasting.training import TrainingCancelledError, train_model
from tests.core.forecasting.tiny import fixture_prices, tiny_config, tiny_result


def test_auto_is_the_default_model_type():
    assert TrainingConfig().model_type == "auto"


def test_a_tiny_model_trains_and_is_scored_beside_the_baselines():
    result = tiny_result()
    metrics = result.metrics
    for key in ("mae", "rmse", "mse", "r2", "mape", "mase", "direction_accuracy", "direction_p_value", "naive_mae"):
        assert math.isfinite(metrics[key]), key
    assert metrics["mase"] == pytest.approx(metrics["mae"] / metrics["naive_mae"])
    assert set(metrics["baselines"]) == {"persistence", "drift", "median", "moving_average"}, "as the walk-forward's"
    assert metrics["baselines"]["persistence"]["mase"] == pytest.approx(1.0)
    assert 0 < metrics["interval_half_width"] < 0.2
    assert 0 <= metrics["test_coverage"] <= 1
    assert 1 <= result.epochs_run <= 2
    assert len(result.history["loss"]) == result.epochs_run
    assert len(result.test_forecast) == metrics["test_days"]
    assert (result.test_forecast["lower"] < result.test_forecast["upper"]).all()
    assert result.verdict.startswith(("beats persistence (", "worse than tomorrow", "no better than tomorrow = today"))


def test_the_median_drift_baseline_is_the_training_part_s_median_return_by_hand():
    result = tiny_result()
    adjusted = fixture_prices().sort_values("date")["adjusted_close"].to_numpy()
    train_end = result.metrics["samples"]["train"]
    median = np.median(np.diff(np.log(adjusted[: train_end + 1])))
    test = result.test_forecast
    by_hand = np.mean(np.abs(test["actual_next"] - test["close"] * np.exp(median)))
    assert result.metrics["baselines"]["median"]["mae"] == pytest.approx(by_hand)
    assert result.metrics["baselines"]["median"]["mase"] == pytest.approx(by_hand / result.metrics["naive_mae"])


def test_the_bundle_holds_the_network_and_its_preprocessing():
    bundle = unpack(tiny_result().bundle)
    assert bundle.preprocessing["parameters"]["preprocessing"]["window"] == 10
    assert bundle.metadata["ticker"] == "^GSPC"
    assert bundle.metadata["model_type"] == "lstm"
    assert bundle.metadata["parameters"]["lstm_units"] == [4]
    assert bundle.model_file[:2] == b"PK"


def test_same_seed_and_data_give_the_same_metrics():
    again = train_model(fixture_prices(), tiny_config(), ticker="^GSPC")
    assert again.metrics["mae"] == tiny_result().metrics["mae"]
    assert again.history == tiny_result().history


def test_progress_is_reported_every_epoch_and_cancel_stops_at_the_next():
    seen = []
    calls = iter([False, True, True])
    with pytest.raises(TrainingCancelledError, match="cancelled after epoch 1 of 3"):
        train_model(
            fixture_prices(),
            tiny_config(epochs=3, patience=5),
            on_epoch=lambda epoch, epochs, loss, val_loss: seen.append((epoch, epochs, loss > 0, val_loss is not None)),
            should_stop=lambda: next(calls),
        )
    assert seen == [(1, 3, True, True)]


def test_a_job_cancelled_before_it_starts_trains_nothing():
    with pytest.raises(TrainingCancelledError, match="before training started"):
        train_model(fixture_prices(), tiny_config(model_type="ridge"), should_stop=lambda: True)


@pytest.mark.parametrize("model_type", [kind for kind in MODEL_TYPES if kind != "lstm"])
def test_every_type_trains_tiny_and_its_bundle_restores_to_the_same_forecast(model_type):
    from core.forecasting.series import PriceSeries

    result = train_model(fixture_prices(), tiny_config(model_type=model_type), ticker="^GSPC")
    assert result.model_type == model_type
    assert math.isfinite(result.metrics["mase"])
    restored = restore_bundle(unpack(result.bundle))
    series = PriceSeries.from_prices(fixture_prices())
    assert restored.forecaster.predict_next(series) == pytest.approx(result.model.predict_next(series), abs=1e-6)
