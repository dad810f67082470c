"""The LSTM on the bundled S&P 500 sample: train time, epochs, validation and test MASE, time to predict.

Targets on this 2-core machine: train <= 5 s on 5,000 days, a stored version predicts in <= 100 ms
warm. Two variants around the default are trained too, as the evidence for it (judged on validation
MASE, never on test). Run: .venv/bin/python bench/train.py
"""

from __future__ import annotations

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
from core.forecasting.training import train_model

VARIANTS = {
    "default": {"model_type": "lstm"},
    "wider (32 units)": {"model_type": "lstm", "lstm_units": [32]},
    "longer window (60 days)": {"model_type": "lstm", "window": 60},
}


def main() -> None:
    started = time.perf_counter()
    from core.forecasting import runtime

    runtime.keras()
    print(f"import tensorflow + keras: {time.perf_counter() - started:.1f} s (once per process)")
    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    default = None
    for name, overrides in VARIANTS.items():
        result = train_model(prices, parse_config(**overrides), ticker="^GSPC")
        metrics = result.metrics
        print(
            f"{name:24s} train {result.train_seconds:5.1f} s, {result.epochs_run:2d} epochs, "
            f"validation MASE {metrics['validation_mase']:.4f}, "
            f"test MASE {metrics['mase']:.4f} (MAE {metrics['mae']:.2f} vs persistence {metrics['naive_mae']:.2f}), "
            f"direction {metrics['direction_accuracy']:.3f} (p {metrics['direction_p_value']:.2f}), "
            f"{metrics['interval_level']:.0%} interval coverage {metrics['test_coverage']:.3f}"
        )
        default = default or result
    samples = []
    for _ in range(20):
        begin = time.perf_counter()
        forecast_next(restore_bundle(unpack(default.bundle)), prices)
        samples.append((time.perf_counter() - begin) * 1000)
    p50, fastest = statistics.median(samples), min(samples)
    print(f"load a stored version and predict the next day: p50 {p50:.0f} ms, min {fastest:.0f} ms (20 runs)")


if __name__ == "__main__":
    main()
