"""The LSTM and GRU on the bundled S&P 500 sample: train time, epochs, validation and test MASE, time to predict.

Targets on this 2-core machine: each network trains in <= 5 s on 5,000 days (TensorFlow's import
timed apart), the same seed and data give the same metrics, and a stored version predicts in
<= 100 ms warm. Each network is trained --runs times (best and spread of the train seconds; every
run must give the same metrics). Then the evidence for the training defaults: the default and its
alternatives over several seeds, judged on validation MASE, never on test.
Run: .venv/bin/python bench/train.py [--runs 3] [--seeds 42,1,2,3,4] [--no-variants]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting.artifacts import unpack
from core.forecasting.bundles import restore_bundle
from core.forecasting.config import parse_config
from core.forecasting.predict import forecast_next
from core.forecasting.training import TrainingResult, train_model

VARIANTS = {
    "default": {},
    "64 per batch at 1e-3, patience 4 of 20 epochs": {
        "batch_size": 64,
        "learning_rate": 1e-3,
        "patience": 4,
        "epochs": 20,
    },
    "512 per batch at 8e-3": {"batch_size": 512, "learning_rate": 8e-3},
    "wider (32 units)": {"lstm_units": [32]},
}


def describe(result: TrainingResult) -> str:
    metrics = result.metrics
    return (
        f"{result.epochs_run:2d} epochs, validation MASE {metrics['validation_mase']:.4f}, "
        f"test MASE {metrics['mase']:.4f} (MAE {metrics['mae']:.2f} vs persistence {metrics['naive_mae']:.2f}), "
        f"direction {metrics['direction_accuracy']:.3f}, "
        f"{metrics['interval_level']:.0%} interval coverage {metrics['test_coverage']:.3f}"
    )


def scores(result: TrainingResult) -> str:
    """The metrics without the seconds they took: what the same seed and data must reproduce."""
    return repr({key: value for key, value in result.metrics.items() if key != "train_seconds"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seeds", default="42,1,2,3,4")
    parser.add_argument("--no-variants", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    from core.forecasting import runtime

    runtime.keras()
    print(f"import tensorflow + keras: {time.perf_counter() - started:.1f} s (once per process)")
    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    trained = {}
    for kind in ("lstm", "gru"):
        results = [train_model(prices, parse_config(model_type=kind), ticker="^GSPC") for _ in range(args.runs)]
        seconds = [result.train_seconds for result in results]
        same = len({scores(result) for result in results}) == 1
        print(
            f"{kind:4s} train best {min(seconds):.2f} s, spread {min(seconds):.2f}-{max(seconds):.2f} s "
            f"({args.runs} runs, same metrics every run: {'yes' if same else 'NO'}); {describe(results[0])}",
            flush=True,
        )
        trained[kind] = results[0]
    samples = []
    for _ in range(20):
        begin = time.perf_counter()
        forecast_next(restore_bundle(unpack(trained["lstm"].bundle)), prices)
        samples.append((time.perf_counter() - begin) * 1000)
    p50, fastest = statistics.median(samples), min(samples)
    print(f"load a stored LSTM version and predict the next day: p50 {p50:.0f} ms, min {fastest:.0f} ms (20 runs)")
    if args.no_variants:
        return
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"LSTM variants, mean over seeds {args.seeds} (chosen by validation MASE):")
    for name, overrides in VARIANTS.items():
        results = [
            train_model(prices, parse_config(model_type="lstm", seed=seed, **overrides), ticker="^GSPC")
            for seed in seeds
        ]
        validation = statistics.mean(result.metrics["validation_mase"] for result in results)
        test = statistics.mean(result.metrics["mase"] for result in results)
        seconds = statistics.mean(result.train_seconds for result in results)
        epochs = statistics.mean(result.epochs_run for result in results)
        print(
            f"  {name:48s} validation MASE {validation:.4f}, test MASE {test:.4f}, "
            f"{epochs:4.1f} epochs, train {seconds:5.2f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
