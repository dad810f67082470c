"""Bulk price ingest into PostgreSQL: 100,000 rows (20 tickers x 5,000 days), then one ticker read back.

Prints rows per second for the first load (inserts), a second load of the same rows (left
alone), a third with every close changed (updates), and the time to read one ticker's
5,000 rows. Target: at least 100,000 rows/s. Uses a fresh database on TEST_DATABASE_URL's
server. Run: .venv/bin/python bench/ingest.py
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import sessionmaker

from core.config import load_settings
from core.data.csv_prices import parse_price_csv
from core.data.frames import OHLCV_COLUMNS
from core.data.sample import sample_bytes
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from db.repositories.actor import Actor
from db.repositories.prices import read_prices, upsert_prices
from tests.servers import fresh_postgres_database, postgres_problem

TICKERS = 20
DAYS = 5_000


def load(sessions, bars) -> float:
    started = time.perf_counter()
    with session_scope(sessions) as session:
        for number in range(TICKERS):
            upsert_prices(session=session, frame=bars, ticker=f"BENCH{number:02d}", owner_id=None, source="sample")
    return time.perf_counter() - started


def main() -> None:
    problem = postgres_problem()
    if problem:
        print(f"skipped: {problem}")
        return
    bars = parse_price_csv(sample_bytes(), ticker="^GSPC").frame.head(DAYS)[list(OHLCV_COLUMNS)]
    rows = TICKERS * len(bars)
    with fresh_postgres_database() as url:
        upgrade_to_head(url)
        engine = create_engine_from_settings(load_settings(_env_file=None), url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        inserted = load(sessions, bars)
        unchanged = load(sessions, bars)
        changed = bars.assign(close=bars["close"] * 1.001, adjusted_close=bars["adjusted_close"] * 1.001)
        updated = load(sessions, changed)
        print(f"upsert {rows:,} new rows (inserts):        {rows / inserted:,.0f} rows/s ({inserted:.2f} s)")
        print(f"upsert {rows:,} rows again, unchanged:     {rows / unchanged:,.0f} rows/s ({unchanged:.2f} s)")
        print(f"upsert {rows:,} rows again, every one new: {rows / updated:,.0f} rows/s ({updated:.2f} s)")
        actor = Actor(uuid.uuid4(), "bench", "analyst", "free")
        reads = []
        for _ in range(20):
            started = time.perf_counter()
            with session_scope(sessions) as session:
                frame = read_prices(session=session, actor=actor, ticker="BENCH07")
            reads.append((time.perf_counter() - started) * 1000)
        assert len(frame) == len(bars)
        p50, fastest = statistics.median(reads), min(reads)
        print(f"read one ticker ({len(frame):,} rows): p50 {p50:.1f} ms, min {fastest:.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
