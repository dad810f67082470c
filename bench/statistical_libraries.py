"""ARIMA and ETS from statsmodels (what core/forecasting/statistical.py fits with) beside statsforecast, timed cold.

The choice between the two maintained libraries is made on what a training job pays: the import and
the first fit in a fresh process (first-call latency), and a fit once warm. Each library is timed in
fresh processes on the sample's training part (its first 70 %): import, first ARIMA and ETS fits, then
the same fits again. statsmodels is timed through the app's own Arima and Ets (three ARMA orders on log
returns chosen by AIC; damped Holt on the log price); statsforecast through AutoARIMA on log returns
searching the same orders (d = 0, p and q up to 1) and AutoETS(model="AAN", damped=True) on the log
price.
statsforecast 2.x requires pandas < 3 and this project pins pandas 3, so it cannot be installed beside
the app: give --statsforecast-python, the interpreter of a virtual environment that has it
(python3.11 -m venv V && V/bin/pip install statsforecast==2.1.1), to time it there.
Run: .venv/bin/python bench/statistical_libraries.py [--statsforecast-python V/bin/python] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting.series import PriceSeries, Split

ROOT = Path(__file__).resolve().parents[1]

STATSMODELS = """
import sys, time, json
sys.path.insert(0, {root!r})
import numpy as np, pandas as pd
from core.forecasting.series import PriceSeries, Split
from core.forecasting.statistical import Arima, Ets
adjusted = np.load({data!r})
series = PriceSeries(pd.DataFrame(), adjusted, adjusted)
split = Split(train_end=len(adjusted) - 1, validation_end=len(adjusted) - 1, last_origin=len(adjusted) - 2)
times = {{}}
began = time.perf_counter()
import statsmodels.tsa.arima.model, statsmodels.tsa.holtwinters  # what the first fit would import
times["import"] = time.perf_counter() - began
def fit(name, make):
    began = time.perf_counter()
    make().fit(series, split)
    times.setdefault(name, []).append(time.perf_counter() - began)
for _ in range(2):
    fit("arima", Arima)
    fit("ets", Ets)
print(json.dumps(times))
"""

STATSFORECAST = """
import time, json
import numpy as np
times = {{}}
log_price = np.log(np.load({data!r}))
returns = np.diff(log_price)
def fit(name, make, values):
    began = time.perf_counter()
    make().fit(values)
    times.setdefault(name, []).append(time.perf_counter() - began)
began = time.perf_counter()
from statsforecast.models import AutoARIMA, AutoETS
times["import"] = time.perf_counter() - began
for _ in range(2):
    fit("arima", lambda: AutoARIMA(d=0, max_p=1, max_q=1, seasonal=False), returns)
    fit("ets", lambda: AutoETS(season_length=1, model="AAN", damped=True), log_price)
print(json.dumps(times))
"""


def run(python: str, code: str) -> dict:
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python} failed:\n{done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(name: str, runs: list[dict]) -> str:
    def median(key: str, index: int) -> float:
        return statistics.median(measured[key][index] for measured in runs)

    imported = statistics.median(measured["import"] for measured in runs)
    first_call = imported + median("arima", 0) + median("ets", 0)
    figures = (imported, median("arima", 0), median("arima", 1), median("ets", 0), median("ets", 1), first_call)
    return f"{name:<16}" + "".join(f"{figure:>11.2f}" for figure in figures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statsforecast-python", help="a Python with statsforecast installed")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    series = PriceSeries.from_prices(parse_price_csv(sample_bytes(), ticker="^GSPC").frame)
    train_end = Split.chronological(len(series), 0.1, 0.2).train_end
    with tempfile.TemporaryDirectory() as folder:
        data = str(Path(folder) / "adjusted.npy")
        np.save(data, series.adjusted[: train_end + 1])
        print(f"{train_end + 1} training days of ^GSPC; medians of {args.runs} fresh processes, seconds")
        columns = ("import", "ARIMA 1st", "ARIMA 2nd", "ETS 1st", "ETS 2nd", "first call")
        print(f"{'library':<16}" + "".join(f"{name:>11}" for name in columns))
        code = STATSMODELS.format(root=str(ROOT), data=data)
        print(row("statsmodels", [run(sys.executable, code) for _ in range(args.runs)]), flush=True)
        if args.statsforecast_python:
            code = STATSFORECAST.format(data=data)
            print(row("statsforecast", [run(args.statsforecast_python, code) for _ in range(args.runs)]))
        else:
            print("statsforecast: not timed (give --statsforecast-python; it needs pandas < 3)")


if __name__ == "__main__":
    main()
