"""Every model type on the bundled S&P 500 sample (data/sample/GSPC_1999-2018.csv), side by side.

Prints per model: validation MASE (what the leaderboard sorts by), test MASE on the last 20 %,
walk-forward MASE over 10 windows with its Diebold-Mariano p-value against persistence, 95 %
interval coverage on the test days, train seconds and warm predict milliseconds; then the time of a
leaderboard's computation. Targets: auto ensemble test MASE <= 0.996 and walk-forward < 1.000; each
type trains in <= 5 s, the ensemble in <= 10 s, the leaderboard of all types in <= 30 s; a stored
version predicts in <= 100 ms (bench/predict.py times the whole service call). Imports are timed
apart from training.
Run: .venv/bin/python bench/forecasters.py [--kinds ridge,auto] [--windows 10] [--csv F --ticker T]

Any price file the Tickers page reads can stand in for the sample (gzipped too). bench/data holds
real series no model choice was made on, to ask whether auto loses to persistence elsewhere:
--csv bench/data/IXIC_1999-2018.csv.gz --ticker ^IXIC (NASDAQ Composite, Yahoo's layout) and
--csv bench/data/DCOILWTICO_1986-2019.csv.gz --ticker WTI (crude oil, FRED's layout), both from the
arch package's data sets as the sample is; --csv bench/data/MSFT_1986-2017.csv.gz --ticker MSFT
(Microsoft, split- and dividend-adjusted, from pmdarima's data sets).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.data.validation import validate_prices
from core.forecasting.config import WALK_FORWARD_WINDOWS, TrainingConfig
from core.forecasting.engine import LEADERBOARD_KINDS, evaluate, leaderboard
from core.forecasting.walkforward import WalkForwardSettings, walk_forward


def warm_imports() -> float:
    started = time.perf_counter()
    import sklearn.linear_model  # noqa: F401
    import statsmodels.tsa.arima.model
    import statsmodels.tsa.holtwinters  # noqa: F401

    from core.forecasting import runtime

    runtime.keras()
    return time.perf_counter() - started


def read_prices(path: Path | None, ticker: str) -> pd.DataFrame:
    """The file's valid rows, read as an upload is, or the bundled sample."""
    if path is None:
        return parse_price_csv(sample_bytes(), ticker=ticker).frame
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    frame = parse_price_csv(data, ticker=ticker, filename=path.name.removesuffix(".gz")).frame
    _, valid = validate_prices(frame, raw_date_column="raw_date")
    return frame[valid].reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default=",".join(LEADERBOARD_KINDS))
    parser.add_argument("--windows", type=int, default=WALK_FORWARD_WINDOWS)
    parser.add_argument("--csv", type=Path, help="a price file (default: the bundled sample)")
    parser.add_argument("--ticker", default="^GSPC")
    args = parser.parse_args()
    prices = read_prices(args.csv, args.ticker)
    first, last = (f"{day:%Y-%m-%d}" for day in prices["date"].iloc[[0, -1]])
    imports = warm_imports()
    print(f"{len(prices)} days of {args.ticker} ({first} to {last}); ", end="")
    print(f"imports (scikit-learn, statsmodels, TensorFlow): {imports:.1f} s")
    header = f"{'model':<16}{'val MASE':>10}{'test MASE':>11}{'test DM p':>10}{'WF MASE':>9}{'WF DM p':>9}"
    print(header + f"{'coverage':>10}{'train s':>9}{'predict ms':>12}{'WF s':>8}")
    for kind in args.kinds.split(","):
        result = evaluate(kind, prices)
        rolled = walk_forward(prices, TrainingConfig(model_type=kind), WalkForwardSettings(windows=args.windows))
        print(
            f"{kind:<16}{result.fitted.validation.mase:>10.4f}{result.test.mase:>11.4f}{result.test.dm_pvalue:>10.3f}"
            f"{rolled.overall.mase:>9.4f}{rolled.overall.dm_pvalue:>9.3f}{result.test.coverage:>10.3f}"
            f"{result.fitted.train_seconds:>9.2f}{result.predict_ms:>12.1f}{rolled.seconds:>8.1f}",
            flush=True,
        )
        if kind == "auto":
            weights = result.fitted.forecaster.weight_table()
            shown = ", ".join(f"{name} {weight:.2f}" for name, weight in weights.items() if weight > 0)
            print(f"{'':<16}weights {shown}; validation p {result.fitted.forecaster.validation_p:.3f}", flush=True)
    started = time.perf_counter()
    rows = leaderboard(prices)
    print(f"leaderboard job's computation, {len(rows)} types on one ticker: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
