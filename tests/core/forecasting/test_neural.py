"""The LSTM and GRU: what each epoch reports, heartbeats while training, and bundles from earlier versions."""

import pytest

from core.forecasting import neural
from core.forecasting.artifacts import unpack
from core.forecasting.bundles import restore_bundle
from core.forecasting.forecaster import Hooks
from core.forecasting.series import PriceSeries, Split
from core.forecasting.training import train_model
from tests.core.forecasting.tiny import fixture_prices, tiny_config, unpack_any
from tests.fixtures import FIXTURES

# Trained on the 2018 fixture with the earlier pipeline (64 per batch at 1e-3, Keras's own validation).
EARLIER_BUNDLE = FIXTURES / "lstm_bundle_before_batched_training.zip"
EARLIER_KEY = b"k" * 32
EARLIER_NEXT_RETURN = 0.0013564721874960955


def test_each_epochs_validation_loss_is_the_networks_error_on_the_validation_windows():
    series = PriceSeries.from_prices(fixture_prices())
    split = Split.chronological(len(series), 0.1, 0.2)
    hooks = Hooks()
    lstm = neural.Lstm(tiny_config(epochs=1), hooks).fit(series, split)
    origins = split.validation_origins
    windows = lstm._windows(lstm._table(series.upto(split.validation_end).frame), origins)
    scaled = (series.log_returns[origins + 1] - lstm.preprocessing.target_mean) / lstm.preprocessing.target_scale
    assert hooks.history["val_loss"] == [pytest.approx(lstm.model.evaluate(windows, scaled, verbose=0), rel=1e-5)]


def test_a_network_beats_its_heartbeat_while_it_trains(monkeypatch):
    monkeypatch.setattr(neural, "HEARTBEAT_SECONDS", 0.0)
    beats = []
    train_model(fixture_prices(), tiny_config(epochs=2, patience=5), on_heartbeat=lambda: beats.append(1))
    assert len(beats) >= 2


def test_a_bundle_of_the_earlier_training_pipeline_restores_to_its_forecast():
    bundle = unpack(EARLIER_BUNDLE.read_bytes(), key=EARLIER_KEY)
    assert bundle.verified
    restored = restore_bundle(bundle)
    assert restored.forecaster.config.batch_size == 32
    assert restored.forecaster.config.learning_rate == pytest.approx(1e-3)
    series = PriceSeries.from_prices(fixture_prices())
    assert restored.forecaster.predict_next(series) == pytest.approx(EARLIER_NEXT_RETURN, rel=1e-6)


def _saved_values(model_file: bytes) -> dict[str, int]:
    """How many numbers each top-level group of the .keras file's weights holds (layers, optimizer...)."""
    import io
    import zipfile

    import h5py

    weights = zipfile.ZipFile(io.BytesIO(model_file)).read("model.weights.h5")
    counts: dict[str, int] = {}
    with h5py.File(io.BytesIO(weights), "r") as stored:

        def count(name: str, item: object) -> None:
            if isinstance(item, h5py.Dataset):
                counts[name.split("/")[0]] = counts.get(name.split("/")[0], 0) + item.size

        stored.visititems(count)
    return counts


def test_a_saved_network_holds_its_weights_and_no_optimizer_state():
    # Forecasts load with compile=False and never read Adam's two values per weight: a third of the size.
    result = train_model(fixture_prices(), tiny_config(), ticker="^GSPC")
    assert _saved_values(unpack_any(result.bundle).model_file) == {"layers": result.model.model.count_params()}
    restored = restore_bundle(unpack_any(result.bundle))
    series = PriceSeries.from_prices(fixture_prices())
    assert restored.forecaster.predict_next(series) == pytest.approx(result.model.predict_next(series), rel=1e-6)


def test_a_bundle_saved_with_its_optimizer_state_still_loads():
    bundle = unpack(EARLIER_BUNDLE.read_bytes(), key=EARLIER_KEY)
    assert _saved_values(bundle.model_file)["optimizer"] > 0, "saved as versions were before"
    series = PriceSeries.from_prices(fixture_prices())
    assert restore_bundle(bundle).forecaster.predict_next(series) == pytest.approx(EARLIER_NEXT_RETURN, rel=1e-6)


def test_a_price_that_never_moved_in_training_is_refused_not_forecast_to_triple():
    import numpy as np

    from core.forecasting.dataset import DatasetError
    from core.forecasting.engine import evaluate

    flat = fixture_prices().copy()
    flat[["open", "high", "low", "close", "adjusted_close"]] = 50.0
    for kind in ("lstm", "gru"):
        with pytest.raises(DatasetError, match=r"the price did not move over the \d+ training days"):
            evaluate(kind, flat, tiny_config(model_type=kind))
    assert np.isfinite(evaluate("persistence", flat).test.mae)


def test_the_data_hash_covers_the_adjusted_closes_returns_come_from():
    from core.forecasting.dataset import data_hash

    prices = fixture_prices()
    dividend = prices.assign(adjusted_close=prices["adjusted_close"] * 0.99)
    assert data_hash(prices) != data_hash(dividend)
