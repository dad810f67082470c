"""Indicator speed: all seven on a 5,000-row series (target <= 0.5 ms), and the screener over 500 tickers.

The screener runs on PostgreSQL (a fresh database on TEST_DATABASE_URL's server) holding 500 tickers
of 260 days each with their stored indicators. Run: .venv/bin/python bench/indicators.py
"""

from __future__ import annotations

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


def indicator_figures(bars) -> None:
    series = bars.head(5000).astype({c: float for c in ("open", "high", "low", "close", "volume")})
    compute_all(series)
    samples = []
    for _ in range(300):
        started = time.perf_counter()
        compute_all(series)
        samples.append((time.perf_counter() - started) * 1000)
    close, high, low, volume = (series[c].to_numpy(float) for c in ("close", "high", "low", "volume"))
    direct = []
    for _ in range(300):
        started = time.perf_counter()
        talib.RSI(close, 14)
        for span in DEFAULT_EMA_SPANS:
            talib.EMA(close, span)
        talib.STDDEV(np.diff(np.log(close)), 20)
        talib.BBANDS(close, 20, 2.0, 2.0, talib.MA_Type.SMA)
        talib.MACD(close, 12, 26, 9)
        talib.ATR(high, low, close, 14)
        talib.OBV(close, volume)
        direct.append((time.perf_counter() - started) * 1000)
    ours, bare = statistics.median(samples), statistics.median(direct)
    print(
        f"all seven indicators (4 EMAs), 5,000 rows: p50 {ours:.3f} ms, min {min(samples):.3f} ms; "
        f"the same TA-Lib calls on bare arrays p50 {bare:.3f} ms, ratio {ours / bare:.1f}x (target <= 2x)"
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
        criteria = Criteria(
            rsi_below=45, close_above_ema200=False, macd_crossed_up_within=10, hv_above_year_median=True
        )
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            with session_scope(sessions) as session:
                matches = screen(session=session, actor=actor, criteria=criteria)
            samples.append(time.perf_counter() - started)
        print(
            f"screener over {TICKERS} tickers ({DAYS} days each; latest rows, then the matches' quality): "
            f"p50 {statistics.median(samples) * 1000:.0f} ms, {len(matches)} matches (target <= 300 ms)"
        )
        engine.dispose()


def main() -> None:
    # Figures scale with what else the machine runs: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    bars = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    indicator_figures(bars)
    screener_figures(bars)


if __name__ == "__main__":
    main()
