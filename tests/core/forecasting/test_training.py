"""Training end to end on CPU with a tiny model: metrics beside baselines, determinism, cancel, artifacts."""

import math

import pytest

from core.forecasting.artifacts import unpack
from core.forecasting.training import TrainingCancelledError, train_forecaster
from tests.core.forecasting.tiny import fixture_prices, tiny_config, tiny_result


def test_a_tiny_model_trains_and_is_scored_beside_the_baselines():
    result = tiny_result()
    metrics = result.metrics
    for key in ("mae", "rmse", "mse", "r2", "mape", "mase", "direction_accuracy", "direction_p_value", "naive_mae"):
        assert math.isfinite(metrics[key]), key
    assert metrics["mase"] == pytest.approx(metrics["mae"] / metrics["naive_mae"])
    assert set(metrics["baselines"]) == {"persistence", "drift"}
    assert metrics["baselines"]["persistence"]["mase"] == pytest.approx(1.0)
    assert 0 < metrics["interval_half_width"] < 0.2
    assert 0 <= metrics["test_coverage"] <= 1
    assert result.epochs_run <= 2
    assert len(result.test_forecast) == metrics["test_days"]
    assert (result.test_forecast["lower"] < result.test_forecast["upper"]).all()
    assert result.verdict.startswith(("beats persistence (", "worse than tomorrow", "no better than tomorrow = today"))


def test_the_bundle_holds_model_preprocessing_and_metadata():
    bundle = unpack(tiny_result().bundle)
    assert bundle.preprocessing["window"] == 10
    assert bundle.preprocessing["target"] == "log_return"
    assert bundle.metadata["ticker"] == "^GSPC"
    assert bundle.metadata["parameters"]["lstm_units"] == [4]
    assert bundle.model_file[:2] == b"PK"


def test_same_seed_and_data_give_the_same_metrics():
    again = train_forecaster(fixture_prices(), tiny_config(), ticker="^GSPC")
    assert again.metrics["mae"] == tiny_result().metrics["mae"]
    assert again.history == tiny_result().history


def test_progress_is_reported_every_epoch_and_cancel_stops_at_the_next():
    seen = []
    with pytest.raises(TrainingCancelledError, match="cancelled after epoch 1 of 3"):
        train_forecaster(
            fixture_prices(),
            tiny_config(epochs=3, patience=5),
            on_epoch=lambda epoch, epochs, loss, val_loss: seen.append((epoch, epochs, loss > 0, val_loss is not None)),
            should_stop=lambda: True,
        )
    assert seen == [(1, 3, True, True)]


def test_a_close_target_trains_too():
    result = train_forecaster(fixture_prices(), tiny_config(target="close", epochs=1))
    assert math.isfinite(result.metrics["mase"])
