"""Does the auto ensemble's validation verdict hold on more history? A longer check than validation.

The ensemble's gate tests its weight fitting out of sample on the validation part alone (two
cross-fitted halves, about 500 days on the sample): little power. This bench repeats the idea over four
blocks of validation length ending where validation ends (2009-2014 on the bundled sample): the
members are refitted before each block on the days before it, each block's combination uses weights
fitted on the earlier blocks only, and the one-sided Diebold-Mariano test against persistence runs
on all those out-of-sample days. The test part is never read. Prints the blocks' weights, the
combination's MASE and p on about 1,500 days, then each member alone on every block, then auto
itself (its gate included) in a walk-forward over the years before the test part.
Run: .venv/bin/python bench/ensemble_evidence.py [--blocks 4] [--windows 20 --step 150]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting.config import TrainingConfig
from core.forecasting.ensemble import MEMBERS, shrinkage, simplex_weights
from core.forecasting.history import forecast_frame, score
from core.forecasting.series import PriceSeries, Split
from core.forecasting.walkforward import WalkForwardSettings, walk_forward


def block_forecasts(series: PriceSeries, start: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Members fitted on the days before `start`, forecasting the `days` origins from it on."""
    split = Split(train_end=start, validation_end=start + days, last_origin=start + days - 1)
    known = series.upto(start + days)
    origins = np.arange(start, start + days)
    members = [member().fit(known, split) for member in MEMBERS]
    return np.column_stack([member.predict(known, origins) for member in members]), origins


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--step", type=int, default=150)
    args = parser.parse_args()
    series = PriceSeries.from_prices(parse_price_csv(sample_bytes(), ticker="^GSPC").frame)
    split = Split.chronological(len(series), 0.1, 0.2)
    days = split.validation_end - split.train_end
    starts = [split.validation_end - days * k for k in range(args.blocks, 0, -1)]
    blocks = [block_forecasts(series, start, days) for start in starts]
    returns = series.log_returns
    combined, scored = [], []
    names = ", ".join(member.kind for member in MEMBERS)
    print(f"members: {names}; {args.blocks} blocks of {days} days, the test part untouched")
    for k in range(1, len(blocks)):
        history = np.vstack([forecasts for forecasts, _ in blocks[:k]])
        actual = np.concatenate([returns[origins + 1] for _, origins in blocks[:k]])
        weights = simplex_weights(history, actual)
        forecasts, origins = blocks[k]
        first, last = series.dates[origins[0]].date(), series.dates[origins[-1] + 1].date()
        print(f"block {first}..{last}: weights " + " ".join(f"{w:.2f}" for w in weights))
        combined.append(forecasts @ weights)
        scored.append(origins)
    predicted, origins = np.concatenate(combined), np.concatenate(scored)
    print(f"combination, {out_of_sample(series, origins, predicted)}")
    print_members(series, blocks)
    print_walk_forward(series.upto(split.validation_end), args.windows, args.step)


def print_walk_forward(known: PriceSeries, windows: int, step: int) -> None:
    """auto as it is, gate included, refitted every `step` days over the years before the test part."""
    rolled = walk_forward(known, TrainingConfig(), WalkForwardSettings(windows=windows, step=step))
    first = rolled.forecasts["date"].iloc[0].date()
    print(f"auto walk-forward before the test part, {windows} windows of {step} days from {first}:")
    print("  MASE per window " + " ".join(f"{window.mase:.3f}" for window in rolled.window_scores))
    print(f"  overall MASE {rolled.overall.mase:.4f}, Diebold-Mariano p {rolled.overall.dm_pvalue:.3f} (two-sided)")


def out_of_sample(series: PriceSeries, origins: np.ndarray, predicted: np.ndarray) -> str:
    scores = score(forecast_frame(series, origins, predicted, 0.0))
    _, one_sided = shrinkage(predicted, series.log_returns[origins + 1])
    return f"out-of-sample days {len(origins)}: MASE {scores.mase:.4f}, one-sided DM p {one_sided:.3f}"


def print_members(series: PriceSeries, blocks: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Each member alone over every block: its MASE per block, then over all of them."""
    origins = np.concatenate([block_origins for _, block_origins in blocks])
    starts = " ".join(f"{series.dates[block_origins[0] + 1].year:>7}" for _, block_origins in blocks)
    print(f"each member alone, MASE per block from {starts}")
    for column, member in enumerate(MEMBERS):
        per_block = [
            score(forecast_frame(series, block_origins, forecasts[:, column], 0.0)).mase
            for forecasts, block_origins in blocks
        ]
        predicted = np.concatenate([forecasts[:, column] for forecasts, _ in blocks])
        row = " ".join(f"{mase:>7.4f}" for mase in per_block)
        print(f"  {member.kind:<12} {row}; {out_of_sample(series, origins, predicted)}")


if __name__ == "__main__":
    main()
