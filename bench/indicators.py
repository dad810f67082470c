"""Indicator speed: compute_all on a 5,000-row frame against the same TA-Lib work on bare arrays
(target: at most 2x), and the screener over 500 tickers.

The two sides of the ratio do the same arithmetic, and the bench checks that they give the same numbers:
- compute_all: checks its parameters, reads high, low, close and volume out of the frame (the parsed
  sample, ten columns), runs RSI, four EMAs, the volatility, Bollinger, MACD, ATR and OBV, and returns
  one DataFrame of the 14 columns on the frame's index.
- bare: the same TA-Lib calls with the same parameters on float arrays taken out of the frame
  beforehand, and the same numpy steps for the volatility (log returns with a leading NaN, TA-Lib's
  STDDEV, the sample and annual scaling); its 14 arrays are left as they come.
So the ratio is what the frame costs around TA-Lib: reading the columns, one block, one DataFrame.
The sides alternate in short rounds so that both see the same load on a shared machine.

The screener runs on PostgreSQL (a fresh database on TEST_DATABASE_URL's server) holding 500 tickers
of 260 days each with their stored indicators: a selective criterion, then none (every ticker matches),
each screened once with nothing kept and then again; last, no condition right after a new day of
prices for every ticker, which every match's flags are worked out again for.
Run: .venv/bin/python bench/indicators.py
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
import talib
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from core.data.csv_prices import parse_price_csv
from core.data.frames import OHLCV_COLUMNS
from core.data.sample import sample_bytes
from core.indicator_store import refresh_indicators_of
from core.indicators import DEFAULT_EMA_SPANS, compute_all
from core.screener import Criteria, screen
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from db.repositories.actor import Actor
from db.repositories.prices import upsert_prices_of
from tests.servers import fresh_postgres_database, postgres_problem

TICKERS = 500
DAYS = 260
ROUNDS = 30  # alternating between the two sides
CALLS_PER_ROUND = 20
SCREENS = 7  # per criterion, after its first


def bare_talib(close: np.ndarray, high: np.ndarray, low: np.ndarray, volume: np.ndarray) -> list[np.ndarray]:
    """compute_all's arithmetic with its default parameters, straight on arrays."""
    columns = [talib.RSI(close, 14)]
    columns += [talib.EMA(close, span) for span in DEFAULT_EMA_SPANS]
    returns = np.empty(len(close))
    returns[0] = np.nan
    np.divide(close[1:], close[:-1], out=returns[1:])
    np.log(returns[1:], out=returns[1:])
    volatility = talib.STDDEV(returns, 20, 1.0)
    volatility *= math.sqrt(20 / 19)
    volatility *= math.sqrt(252)
    columns.append(volatility)
    columns += talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
    line = talib.EMA(close, 12) - talib.EMA(close, 26)  # TradingView's MACD, as compute_all seeds it
    signal = np.full(len(close), np.nan)
    signal[25:] = talib.EMA(line[25:], 9)
    columns += [line, signal, line - signal]
    columns.append(talib.ATR(high, low, close, 14))
    obv = talib.OBV(close, volume)
    obv -= volume[0]  # from 0, as TradingView's
    columns.append(obv)
    return columns


def indicator_figures(bars) -> None:
    series = bars.head(5000).astype({c: float for c in ("open", "high", "low", "close", "volume")})
    close, high, low, volume = (series[c].to_numpy(float) for c in ("close", "high", "low", "volume"))
    if not np.array_equal(
        compute_all(series).to_numpy(), np.column_stack(bare_talib(close, high, low, volume)), equal_nan=True
    ):
        raise SystemExit("compute_all and the bare TA-Lib calls disagree: the ratio would compare different work")
    sides = {"compute_all": lambda: compute_all(series), "bare": lambda: bare_talib(close, high, low, volume)}
    samples: dict[str, list[float]] = {name: [] for name in sides}
    for round_number in range(ROUNDS):
        order = list(sides) if round_number % 2 else list(reversed(sides))
        for name in order:
            for _ in range(CALLS_PER_ROUND):
                started = time.perf_counter()
                sides[name]()
                samples[name].append((time.perf_counter() - started) * 1000)
    ours, bare = (statistics.median(samples[name]) for name in sides)
    ours_best, bare_best = (min(samples[name]) for name in sides)
    print(
        f"all seven indicators (4 EMAs), 5,000 rows: compute_all p50 {ours:.3f} ms (min {ours_best:.3f}); "
        f"the same TA-Lib work on bare arrays p50 {bare:.3f} ms (min {bare_best:.3f}); "
        f"ratio p50 {ours / bare:.2f}x, min {ours_best / bare_best:.2f}x (target <= 2x)"
    )


def screener_figures(bars) -> None:
    problem = postgres_problem()
    if problem:
        print(f"screener skipped: {problem}")
        return
    recent = bars.tail(DAYS)[list(OHLCV_COLUMNS)].reset_index(drop=True)
    rng = np.random.default_rng(7)
    with fresh_postgres_database() as url:
        upgrade_to_head(url)
        engine = create_engine_from_settings(load_settings(_env_file=None), url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        frames = []
        for number in range(TICKERS):
            # Each ticker its own path: the sample's days scaled by a random walk.
            drift = np.exp(np.cumsum(rng.normal(0, 0.01, DAYS)))
            frame = recent.assign(ticker=f"T{number:03d}")
            for column in ("open", "high", "low", "close", "adjusted_close"):
                frame[column] = frame[column] * drift
            frames.append(frame)
        bars_of_all = pd.concat(frames, ignore_index=True)
        started = time.perf_counter()
        with session_scope(sessions) as session:
            # One bulk pass for every ticker, as a multi-ticker upload does: one binary COPY of the
            # prices, one read of them back, one binary COPY of the indicators.
            upsert_prices_of(session=session, frame=bars_of_all, owner_id=None, source="sample")
            stored_prices = time.perf_counter() - started
            refresh_indicators_of(session=session, tickers=[f"T{n:03d}" for n in range(TICKERS)], owner_id=None)
        total = time.perf_counter() - started
        print(
            f"stored {TICKERS} tickers x {DAYS} days with indicators in {total:.1f} s "
            f"(prices {stored_prices:.1f} s, indicators {total - stored_prices:.1f} s; target <= 5 s)"
        )
        actor = Actor(uuid.uuid4(), "bench", "analyst", "free")

        def screened(criteria: Criteria) -> tuple[float, pd.DataFrame]:
            started = time.perf_counter()
            with session_scope(sessions) as session:
                matches = screen(session=session, actor=actor, criteria=criteria)
            return (time.perf_counter() - started) * 1000, matches

        selective = Criteria(rsi_below=45, macd_crossed_up_within=10, hv_above_year_median=True)
        # No condition at all lists every ticker: the screen whose matches' quality costs the most.
        for label, criteria in (("a selective criterion", selective), ("no condition (every ticker)", Criteria())):
            # The first works out the flags of matches not screened before (the first of all builds the
            # exchange's calendar too); the others find them kept while the prices are unchanged.
            first, matches = screened(criteria)
            again = statistics.median(screened(criteria)[0] for _ in range(SCREENS))
            print(
                f"screener over {TICKERS} tickers ({DAYS} days each; latest rows, then the matches' quality), "
                f"{label}: {len(matches)} matches; first {first:.0f} ms, then p50 {again:.0f} ms "
                f"({SCREENS} screens; target <= 300 ms)"
            )
        # A new day for every ticker, as a daily fetch brings: each series has a new version, so the next
        # screen reads every match's year of prices and judges it again.
        new_day = bars_of_all.groupby("ticker").tail(1).assign(date=lambda frame: frame["date"] + pd.offsets.BDay())
        with session_scope(sessions) as session:
            upsert_prices_of(session=session, frame=new_day, owner_id=None, source="sample")
            refresh_indicators_of(session=session, tickers=[f"T{n:03d}" for n in range(TICKERS)], owner_id=None)
        after_new_day, matches = screened(Criteria())
        print(f"the same, no condition, right after a new day of every ticker's prices: {after_new_day:.0f} ms")
        engine.dispose()


def main() -> None:
    # Figures scale with what else the machine runs: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    bars = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    indicator_figures(bars)
    screener_figures(bars)


if __name__ == "__main__":
    main()
