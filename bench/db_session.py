"""Cost of one user action's database round trip: health check and a session_scope with one lookup.

Prints p50 and p95 in milliseconds for the embedded SQLite and, when it answers, PostgreSQL
(TEST_DATABASE_URL). Run: .venv/bin/python bench/db_session.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from db.engine import create_engine_from_settings, health_check, session_scope
from db.migrate import upgrade_to_head
from db.models import User
from tests.servers import fresh_postgres_database, postgres_problem

ROUNDS = 500


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=20)
    return f"p50 {statistics.median(samples):.3f} ms, p95 {cuts[18]:.3f} ms"


def measure(label: str, url: URL) -> None:
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(_env_file=None), url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with session_scope(factory) as session:
        session.add(User(username="bench", email="bench@example.com", password_hash="x"))

    health, action = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        health_check(engine)
        health.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with session_scope(factory) as session:
            session.scalar(select(User).where(User.username == "bench"))
        action.append((time.perf_counter() - started) * 1000)
    print(f"{label:11s} health_check: {percentiles(health)}")
    print(f"{label:11s} session_scope + 1 lookup: {percentiles(action)}")
    engine.dispose()


def main() -> None:
    print(f"{ROUNDS} rounds each")
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", URL.create("sqlite", database=f"{folder}/bench.db"))
    problem = postgres_problem()
    if problem:
        print(f"postgresql  skipped: {problem}")
        return
    with fresh_postgres_database() as url:
        measure("postgresql", url)


if __name__ == "__main__":
    main()
