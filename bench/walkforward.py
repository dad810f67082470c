"""A 10-window walk-forward of the default model on the S&P 500 sample, retraining in every window.

Prints the time (target: under 2 minutes on this 2-core machine) and the overall MASE against
persistence (target: <= 1.00), with the Diebold-Mariano p-value and interval coverage.
Run: .venv/bin/python bench/walkforward.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting.config import TrainingConfig
from core.forecasting.walkforward import WalkForwardSettings, walk_forward


def main() -> None:
    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    result = walk_forward(prices, TrainingConfig(), WalkForwardSettings(windows=10, retrain_every=1))
    m = result.metrics
    print(f"10 windows of {m['step']} days ({m['days']} forecasts), retrained every window: {result.seconds:.1f} s")
    drift, median, average = (m["baselines"][name]["mase"] for name in ("drift", "median", "moving_average"))
    print(
        f"MASE {m['mase']:.4f} (MAE {m['mae']:.2f} vs persistence {m['naive_mae']:.2f}), "
        f"drift MASE {drift:.4f}, median drift {median:.4f}, 5-day mean {average:.4f}"
    )
    print(
        f"direction {m['direction_accuracy']:.3f} (p {m['direction_p_value']:.2f}), "
        f"Diebold-Mariano p {m['dm_pvalue']:.3f}, 95 % interval coverage {m['coverage']:.3f}, "
        f"follows the previous close: {m['lag']['follows_previous_close']}"
    )


if __name__ == "__main__":
    main()
