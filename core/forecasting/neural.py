"""The Keras LSTM (or GRU) behind the Forecaster interface: windows of daily features in, next log return out."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting import runtime
from core.forecasting.artifacts import load_keras_model, model_bytes
from core.forecasting.config import TrainingConfig, parse_config
from core.forecasting.dataset import DatasetError, feature_table, sliding_windows
from core.forecasting.forecaster import Forecaster, Hooks, TrainingCancelledError
from core.forecasting.model import build_model, seed_everything
from core.forecasting.preprocessing import WindowPreprocessing, parse_preprocessing
from core.forecasting.series import PriceSeries, Split
from core.forecasting.trainable import first_network_origin, network_refusal

WARM_UP_ROWS = 500  # after this many days an indicator's value no longer depends on where it started


class Lstm(Forecaster):
    """The seed's stacked LSTM, trained with early stopping on the validation part."""

    kind, label = "lstm", "LSTM (Keras)"

    def __init__(self, config: TrainingConfig | None = None, hooks: Hooks | None = None) -> None:
        runtime.keras()  # imported here, once per process, so a fit's seconds are the training alone
        self.config = config or TrainingConfig()
        self.hooks = hooks
        self._infer: Any = None
        self.preprocessing: WindowPreprocessing | None = None
        self.model: Any = None

    def _table(self, prices: pd.DataFrame) -> np.ndarray:
        return feature_table(prices, self.config.features).to_numpy(dtype=float)

    def _windows(self, table: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Scaled windows ending on each origin, shaped (origins, window, features)."""
        window = self.preprocessing.window
        all_windows = sliding_windows(self.preprocessing.scale(table), window)  # row i ends on day i + window - 1
        return all_windows[np.asarray(origins) - window + 1].astype(np.float32)

    def fit(self, series: PriceSeries, split: Split, *, seed: int = 42) -> Lstm:
        keras = runtime.keras()
        seed_everything(seed)
        config = self.config
        table = self._table(series.upto(split.validation_end).frame)
        complete_from = int(np.argmax(~np.isnan(table).any(axis=1)))
        refusal = network_refusal(self.kind, config, split, complete_from=complete_from)
        if refusal:
            raise ValueError(refusal)
        first = first_network_origin(config, complete_from)
        train = np.arange(first, split.train_end)
        validation = split.validation_origins
        returns = series.log_returns
        targets = returns[: split.validation_end + 1]
        rows = table[first - config.window + 1 : split.train_end + 1]
        mean, scale = rows.mean(axis=0), rows.std(axis=0)
        scale[scale == 0] = 1.0  # a feature that never moves (the volume of a file without one) stays at 0
        target_mean, target_scale = float(targets[train + 1].mean()), float(targets[train + 1].std())
        if target_scale == 0:
            # Standing in 1 for the scale, the first forecast day's move read as a hundred standard units of
            # RSI, and a flat price was forecast to triple in five days.
            raise DatasetError(
                f"the price did not move over the {len(train)} training days: a network has nothing to learn "
                "from them; train it on a history where the price moves"
            )
        self.preprocessing = WindowPreprocessing(
            features=config.features, window=config.window, feature_mean=tuple(mean), feature_scale=tuple(scale),
            target_mean=target_mean, target_scale=target_scale, interval_half_width=0.0,
            interval_level=config.interval_level,
        )  # fmt: skip
        steps = math.ceil(len(train) / config.batch_size)
        model = build_model(config.window, len(config.features), config, recurrent=self._recurrent())
        self.model, self._infer = model, None
        scaled = ((targets - target_mean) / target_scale).astype(np.float32)
        progress = self.hooks or Hooks()
        validation_loss = _validation_loss_callback(
            keras, self._inference(), self._windows(table, validation), scaled[validation + 1]
        )
        model.fit(
            _shuffled_batches(self._windows(table, train), scaled[train + 1], config.batch_size, seed),
            steps_per_epoch=steps,
            epochs=config.epochs,
            shuffle=False,  # the batches come shuffled from the seed
            verbose=0,
            callbacks=[
                # First, so early stopping and progress read this epoch's validation loss.
                validation_loss,
                # The best validation epoch's weights are kept whether or not training stopped early.
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
                _progress_callback(keras, progress, config.epochs),
            ],
        )
        if progress.should_stop and progress.should_stop():
            raise TrainingCancelledError(f"cancelled after epoch {progress.epochs_run} of {config.epochs}")
        return self

    def _recurrent(self) -> str:
        return "lstm"

    def _inference(self) -> Any:
        """The model's forward pass as one traced graph for any number of windows.

        Calling a Keras RNN eagerly rebuilds its time loop on every call (about 0.7 s on two
        cores); traced once per loaded model, a call takes milliseconds.
        """
        if self._infer is None:
            tf = runtime.tensorflow()
            spec = tf.TensorSpec((None, self.preprocessing.window, len(self.preprocessing.features)), tf.float32)
            self._infer = tf.function(lambda inputs: self.model(inputs, training=False), input_signature=[spec])
        return self._infer

    def predict(self, series: PriceSeries, origins: np.ndarray) -> np.ndarray:
        origins = np.asarray(origins)
        # Indicators forget their start within a few hundred days: the rows before that change nothing.
        first = max(0, int(origins.min()) - self.preprocessing.window + 1 - WARM_UP_ROWS)
        table = self._table(series.frame.iloc[first : int(origins.max()) + 1].reset_index(drop=True))
        inputs = self._windows(table, origins - first)
        if np.isnan(inputs).any():
            raise ValueError(f"the model needs {self.preprocessing.window} complete days before each forecast")
        scaled = np.asarray(self._inference()(inputs)).ravel()
        values = self.preprocessing.unscale_target(scaled)
        if self.preprocessing.target == "close":  # older versions learned the next close itself
            return np.log(np.maximum(values, 1e-12) / series.close[origins])
        return values

    def parameters(self) -> dict[str, Any]:
        return {
            "config": self.config.model_dump(mode="json"),
            "preprocessing": self.preprocessing.model_dump(mode="json"),
        }

    def model_file(self) -> bytes:
        return model_bytes(self.model)

    @classmethod
    def restore(cls, parameters: dict[str, Any], model_file: bytes | None = None) -> Lstm:
        if model_file is None:
            raise ValueError("the bundle holds no model.keras")
        config, preprocessing = (_object(parameters, name) for name in ("config", "preprocessing"))
        forecaster = cls(parse_config(**config))
        forecaster.preprocessing = window = parse_preprocessing(preprocessing)
        forecaster.model = load_keras_model(model_file)
        _check_shapes(forecaster.model, window)
        # Feature rows are built from the config's list and scaled with the preprocessing's statistics.
        if forecaster.config.features != window.features:
            raise ValueError(
                f"parameters: config.features ({', '.join(forecaster.config.features)}) differ from "
                f"the features the network was trained on ({', '.join(window.features)})"
            )
        return forecaster


def _object(parameters: dict[str, Any], name: str) -> dict[str, Any]:
    value = parameters.get(name)
    if value is None:  # absent: the defaults, as bundles without it were written
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"preprocessing.json: parameters.{name}: must be a JSON object")
    return value


def _check_shapes(model: Any, window: WindowPreprocessing) -> None:
    """Refuse a network whose input is not the preprocessing's windows or whose output is not one number.

    Otherwise the version imports and loads, and every forecast fails inside TensorFlow instead.
    """
    given = (window.window, len(window.features))
    try:
        (_, days, features), (_, outputs) = model.input_shape, model.output_shape
    except (AttributeError, TypeError, ValueError):
        raise ValueError("model.keras: not a network of one input window and one output") from None
    if (days not in (None, given[0])) or features != given[1]:
        raise ValueError(
            f"model.keras takes windows of {days} days x {features} features, "
            f"but preprocessing.json gives {given[0]} days x {given[1]}"
        )
    if outputs != 1:
        raise ValueError(f"model.keras forecasts {outputs} numbers a window; one is expected")


class Gru(Lstm):
    """The same network with GRU layers: a config switch, not another pipeline."""

    kind, label = "gru", "GRU (Keras)"

    def _recurrent(self) -> str:
        return "gru"


HEARTBEAT_SECONDS = 15.0


def _shuffled_batches(inputs: np.ndarray, targets: np.ndarray, batch_size: int, seed: int) -> Any:
    """Training batches reshuffled each epoch from the seed, repeated: one iterator serves every epoch."""
    tf = runtime.tensorflow()
    examples = tf.data.Dataset.from_tensor_slices((inputs, targets))
    return examples.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True).batch(batch_size).repeat()


def _validation_loss_callback(keras: Any, forward: Any, inputs: np.ndarray, targets: np.ndarray) -> Any:
    class ValidationLoss(keras.callbacks.Callback):
        """The validation MSE from the traced forward pass that later forecasts reuse.

        Keras's own validation would trace a second graph and build a dataset iterator every epoch,
        for the same number.
        """

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if logs is not None:
                predicted = np.asarray(forward(inputs)).ravel()
                logs["val_loss"] = float(np.mean((predicted - targets) ** 2))

    return ValidationLoss()


def _progress_callback(keras: Any, hooks: Hooks, epochs: int) -> Any:
    class Progress(keras.callbacks.Callback):
        """Reports each epoch, beats while long epochs run, and stops when the job is cancelled."""

        last_beat = time.monotonic()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if hooks.on_heartbeat and time.monotonic() - self.last_beat > HEARTBEAT_SECONDS:
                self.last_beat = time.monotonic()
                hooks.on_heartbeat()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            val_loss = logs.get("val_loss")
            stop = hooks.epoch(
                epoch + 1, epochs, float(logs.get("loss", np.nan)), None if val_loss is None else float(val_loss)
            )
            if stop:
                self.model.stop_training = True

    return Progress()
