"""The Keras model: stacked LSTMs over a window of daily features, one number out."""

from __future__ import annotations

from typing import Any

from core.forecasting import runtime
from core.forecasting.config import TrainingConfig


def build_model(window: int, feature_count: int, config: TrainingConfig, *, recurrent: str = "lstm") -> Any:
    """A compiled functional model: (batch, window days, features) in, (batch, 1) scaled target out."""
    keras = runtime.keras()

    inputs = keras.Input(shape=(window, feature_count), name="window")
    hidden = inputs
    for layer, units in enumerate(config.lstm_units):
        last = layer == len(config.lstm_units) - 1
        # Earlier layers hand every step to the next one; the last keeps only its final state.
        layer_type = keras.layers.GRU if recurrent == "gru" else keras.layers.LSTM
        hidden = layer_type(units, return_sequences=not last, name=f"{recurrent}_{layer + 1}")(hidden)
        if config.dropout:
            hidden = keras.layers.Dropout(config.dropout, name=f"dropout_{layer + 1}")(hidden)
    if config.dense_units:
        hidden = keras.layers.Dense(config.dense_units, activation="relu", name="dense")(hidden)
    outputs = keras.layers.Dense(1, name="forecast")(hidden)
    model = keras.Model(inputs, outputs, name="candlecast_lstm")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate), loss="mse")
    return model


def seed_everything(seed: int) -> None:
    """Same seed and data, same weights and metrics on CPU."""
    runtime.keras().utils.set_random_seed(seed)
    runtime.tensorflow().config.experimental.enable_op_determinism()
