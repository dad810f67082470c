"""Training one forecaster: dataset, model, early stopping, test metrics beside the baselines, intervals."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.forecasting import metrics as measures
from core.forecasting import runtime
from core.forecasting.artifacts import model_bytes, pack, sha256
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import Dataset, build_dataset, data_hash
from core.forecasting.evaluation import compare_with_baselines, json_safe
from core.forecasting.history import verdict
from core.forecasting.intervals import conformal_half_width, coverage
from core.forecasting.model import build_model, seed_everything

MODEL_TYPE = "lstm"
HEARTBEAT_SECONDS = 15.0

EpochHook = Callable[[int, int, float, float | None], None]


class TrainingCancelledError(RuntimeError):
    """Training stopped at an epoch boundary because its job was cancelled."""


@dataclass
class TrainingResult:
    bundle: bytes
    bundle_sha256: str
    metrics: dict[str, Any]
    parameters: dict[str, Any]
    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    data_start: date
    data_end: date
    data_hash: str
    verdict: str
    test_forecast: pd.DataFrame = field(repr=False)
    model: Any = field(default=None, repr=False)  # the trained Keras model, for callers that go on to predict
    preprocessing: dict[str, Any] = field(default_factory=dict, repr=False)
    model_type: str = MODEL_TYPE


def _callbacks(
    checkpoint: Path,
    config: TrainingConfig,
    on_epoch: EpochHook | None,
    should_stop: Callable[[], bool] | None,
    on_heartbeat: Callable[[], None] | None,
) -> list[Any]:
    keras = runtime.keras()

    class Progress(keras.callbacks.Callback):
        """Reports each epoch, beats while long epochs run, and stops when the job is cancelled."""

        cancelled = False
        last_beat = time.monotonic()

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
            if on_heartbeat and time.monotonic() - self.last_beat > HEARTBEAT_SECONDS:
                self.last_beat = time.monotonic()
                on_heartbeat()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            if on_epoch:
                on_epoch(epoch + 1, config.epochs, float(logs.get("loss", np.nan)), _maybe(logs.get("val_loss")))
            if should_stop and should_stop():
                Progress.cancelled = True
                self.model.stop_training = True

    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience, restore_best_weights=True),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
        Progress(),
    ]


def _maybe(value: Any) -> float | None:
    return None if value is None else float(value)


def _predict(model: Any, inputs: np.ndarray) -> np.ndarray:
    return model.predict(inputs, batch_size=1024, verbose=0).ravel()


def _forecast_prices(dataset: Dataset, scaled: np.ndarray, target: str) -> tuple[np.ndarray, np.ndarray]:
    """(predicted next close, predicted log return) from the model's scaled outputs."""
    values = dataset.unscale_targets(scaled)
    if target == "log_return":
        return dataset.close * np.exp(values), values
    return values, np.log(np.maximum(values, 1e-12) / dataset.close)


def train_forecaster(
    prices: pd.DataFrame,
    config: TrainingConfig,
    *,
    ticker: str = "",
    on_epoch: EpochHook | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_heartbeat: Callable[[], None] | None = None,
) -> TrainingResult:
    """Train on the prices (date, open, high, low, close, volume) and evaluate on the held-out last part."""
    keras = runtime.keras()

    seed_everything(config.seed)
    dataset = build_dataset(prices, config)
    train, validation, test = dataset.splits.train, dataset.splits.validation, dataset.splits.test
    model = build_model(dataset.window, len(dataset.features), config)

    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "best.keras"
        callbacks = _callbacks(checkpoint, config, on_epoch, should_stop, on_heartbeat)
        started = time.perf_counter()
        fitted = model.fit(
            dataset.inputs[train],
            dataset.targets[train],
            validation_data=(dataset.inputs[validation], dataset.targets[validation]),
            epochs=config.epochs,
            batch_size=config.batch_size,
            verbose=0,
            callbacks=callbacks,
        )
        train_seconds = time.perf_counter() - started
        if callbacks[-1].cancelled:
            raise TrainingCancelledError(f"cancelled after epoch {len(fitted.history['loss'])} of {config.epochs}")
        # The checkpoint holds the best validation epoch's weights, whether or not training stopped early.
        if checkpoint.exists():
            model = keras.saving.load_model(checkpoint, safe_mode=True)

    predicted_close, predicted_return = _forecast_prices(dataset, _predict(model, dataset.inputs), config.target)
    actual_return = np.log(dataset.next_close / dataset.close)
    # Split conformal: the interval's width comes from errors on days the model never trained on.
    residuals = (actual_return - predicted_return)[validation]
    half_width = conformal_half_width(residuals, config.interval_level)
    lower = dataset.close * np.exp(predicted_return - half_width)
    upper = dataset.close * np.exp(predicted_return + half_width)

    drift = float(np.mean(actual_return[train]))
    metrics = compare_with_baselines(
        actual_next=dataset.next_close[test],
        previous_close=dataset.close[test],
        predicted_next=predicted_close[test],
        drift_per_day=drift,
    )
    dm_statistic, dm_pvalue = measures.diebold_mariano(
        dataset.next_close[test], predicted_close[test], dataset.close[test]
    )
    metrics |= {
        "dm_statistic": dm_statistic,
        "dm_pvalue": dm_pvalue,
        "interval_level": config.interval_level,
        "interval_half_width": half_width,
        "test_coverage": coverage(dataset.next_close[test], lower[test], upper[test]),
        "best_val_loss": float(np.nanmin(fitted.history.get("val_loss", [np.nan]))),
        "epochs": len(fitted.history["loss"]),
        "train_seconds": round(train_seconds, 3),
        "samples": {"train": train.stop - train.start, "validation": validation.stop - validation.start,
                    "test": test.stop - test.start},
    }  # fmt: skip
    metrics = json_safe(metrics)
    ordered = prices.sort_values("date")
    data_start, data_end = (
        pd.Timestamp(ordered["date"].iloc[0]).date(),
        pd.Timestamp(ordered["date"].iloc[-1]).date(),
    )
    parameters = config.model_dump(mode="json")
    preprocessing = dataset.preprocessing() | {
        "target": config.target,
        "interval_half_width": half_width,
        "interval_level": config.interval_level,
    }
    hashed = data_hash(ordered)
    bundle = pack(
        model_bytes(model),
        preprocessing,
        {
            "ticker": ticker,
            "model_type": MODEL_TYPE,
            "parameters": parameters,
            "metrics": metrics,
            "data_start": data_start.isoformat(),
            "data_end": data_end.isoformat(),
            "data_hash": hashed,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    test_forecast = pd.DataFrame(
        {
            "date": dataset.dates[test],
            "close": dataset.close[test],
            "actual_next": dataset.next_close[test],
            "predicted_next": predicted_close[test],
            "lower": lower[test],
            "upper": upper[test],
        }
    )
    return TrainingResult(
        bundle=bundle,
        bundle_sha256=sha256(bundle),
        metrics=metrics,
        parameters=parameters,
        history=json_safe({key: [float(v) for v in values] for key, values in fitted.history.items()}),
        epochs_run=len(fitted.history["loss"]),
        train_seconds=train_seconds,
        data_start=data_start,
        data_end=data_end,
        data_hash=hashed,
        verdict=verdict(dm_pvalue, metrics["mse"], metrics["baselines"]["persistence"]["mse"]),
        test_forecast=test_forecast,
        model=model,
        preprocessing=preprocessing,
    )


def train_model(
    prices: pd.DataFrame,
    config: TrainingConfig,
    *,
    ticker: str = "",
    on_epoch: EpochHook | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_heartbeat: Callable[[], None] | None = None,
) -> TrainingResult:
    """Train the configured model type: the LSTM with epochs and cancel, any other through the engine."""
    if config.model_type == MODEL_TYPE:
        return train_forecaster(
            prices, config, ticker=ticker, on_epoch=on_epoch, should_stop=should_stop, on_heartbeat=on_heartbeat
        )
    from core.forecasting.version_result import engine_result

    if should_stop and should_stop():
        raise TrainingCancelledError("cancelled before training started")
    return engine_result(prices, config, ticker=ticker)
