"""Bulk price ingest into PostgreSQL: 100,000 rows (20 tickers x 5,000 days), then one ticker read back.

Prints rows per second for the first load (inserts), a second load of the same rows (left
alone), a third with every close changed (updates), the time to read one ticker's 5,000 rows
(target: at least 100,000 rows/s) and to list the cached tickers. Then uploads end to end (parse, validate, store,
indicators) through the same call the Tickers page makes: a 5,000-row CSV (target <= 1 s) and a
200,000-row CSV of 40 tickers (target <= 10 s), with the time of each stage, on PostgreSQL and
again on SQLite (the embedded default), and the peak memory of refusing a 2-million-line file.
Uses a fresh database on TEST_DATABASE_URL's server and a temporary SQLite file.
Run: .venv/bin/python bench/ingest.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from core.data.csv_prices import parse_price_csv
from core.data.errors import FileFormatError
from core.data.frames import OHLCV_COLUMNS
from core.data.sample import sample_bytes
from core.data.service import import_prices
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from db.repositories.actor import Actor
from db.repositories.prices import list_cached_tickers, read_prices, upsert_prices
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
    # Figures scale with what else the machine runs: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
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
        lists = []
        for _ in range(20):
            started = time.perf_counter()
            with session_scope(sessions) as session:
                listed = list_cached_tickers(session=session, actor=actor)
            lists.append((time.perf_counter() - started) * 1000)
        assert sum(cached.rows for cached in listed) == rows
        print(f"list the cached tickers ({rows:,} rows stored): p50 {statistics.median(lists):.1f} ms")
        upload_figures(sessions)
        engine.dispose()
    sqlite_upload_figures()
    refusal_figures()


def sqlite_upload_figures() -> None:
    """The same uploads on the embedded default, SQLite in a file, as `make run` uses it."""
    with tempfile.TemporaryDirectory() as folder:
        url = URL.create("sqlite", database=str(Path(folder) / "bench.db"))
        upgrade_to_head(url)
        engine = create_engine_from_settings(load_settings(_env_file=None), url)
        print("SQLite:")
        upload_figures(sessionmaker(bind=engine, expire_on_commit=False))
        engine.dispose()


def csv_of(prefix: str, tickers: int, days: int) -> bytes:
    """A long CSV with a Ticker column: the sample's days under each ticker."""
    lines = sample_bytes().decode().splitlines()
    header, body = lines[0], lines[1 : days + 1]
    rows = [f"{prefix}{number:02d},{line}" for number in range(tickers) for line in body]
    return "\n".join(["Ticker," + header, *rows]).encode()


def upload_figures(sessions) -> None:
    for label, data in (("5,000-row", csv_of("S", 1, 5_000)), ("200,000-row", csv_of("L", 40, 5_000))):
        stages: dict[str, float] = {}
        started = time.perf_counter()
        with session_scope(sessions) as session, timed_stages(stages):
            result = import_prices(
                session=session, data=data, ticker=None, date_format=None, skip_bad_rows=False, owner=None
            )
        total = time.perf_counter() - started
        detail = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in stages.items())
        print(f"upload {label} CSV ({len(data) / 1e6:.1f} MB) end to end: {total:.2f} s ({detail}); {result.message()}")


def refusal_figures() -> None:
    data = b"Date,Open,High,Low,Close,Volume\n" + b"2018-01-02,1,2,0.5,1,100\n" * 2_000_000
    tracemalloc.start()
    try:
        parse_price_csv(data, ticker="BIG")
    except FileFormatError as error:
        message = str(error)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"2,000,000-line file ({len(data) / 1e6:.0f} MB) refused with {peak / 1e6:.1f} MB extra memory: {message}")


@contextmanager
def timed_stages(stages: dict[str, float]):
    """Time the stages of an import by wrapping the functions it calls (a benchmark's own patching)."""
    import core.data.service as service

    names = {"parse_price_csv": "parse", "validate_prices": "validate", "upsert_prices_of": "store prices"}
    names |= {"refresh_indicators_of": "indicators", "fill_matured": "ledger"}
    originals = {name: getattr(service, name) for name in names}

    def wrap(name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                stages[names[name]] = stages.get(names[name], 0.0) + time.perf_counter() - started

        return timed

    for name, function in originals.items():
        setattr(service, name, wrap(name, function))
    try:
        yield
    finally:
        for name, function in originals.items():
            setattr(service, name, function)


if __name__ == "__main__":
    main()
