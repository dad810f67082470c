"""What the tests of racing price writers share: waiting until one writer waits for the other, and the
screener row both must leave behind."""

from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.indicator_store import refresh_indicators
from db.models.market import LatestIndicators

LOCK_WAITS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def until_it_waits_for_a_lock(sessions: sessionmaker[Session], thread: threading.Thread, *, what: str) -> None:
    """Return once the thread's writer waits for a lock the other holds; without this it might start only
    after the other committed, and never race it. One that ends without waiting means the locking changed
    and the test no longer overlaps them.

    SQLite says nothing of who waits: alive after a moment, the thread is waiting for the write lock.
    """
    with sessions() as probe:
        postgres = probe.get_bind().dialect.name == "postgresql"
    if not postgres:
        time.sleep(0.5)
        assert thread.is_alive(), f"{what} ended without waiting for the other writer"
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sessions() as probe:
            if probe.scalar(LOCK_WAITS):
                return
        assert thread.is_alive(), f"{what} ended without waiting for the other writer"
        time.sleep(0.02)
    raise AssertionError(f"{what} never waited for the other writer")


def latest_row(session: Session, ticker: str) -> tuple:
    """The shared screener row of a ticker, as the screener reads it."""
    columns = [getattr(LatestIndicators, name) for name in ("date", "close", "rsi_14", "ema_200", "macd_hist")]
    columns += [LatestIndicators.hv_20, LatestIndicators.hv_20_year_median, LatestIndicators.macd_cross_age]
    query = select(*columns).where(LatestIndicators.ticker == ticker, LatestIndicators.owner_id.is_(None))
    return tuple(session.execute(query).one())


def assert_indicators_of_the_whole_history(sessions: sessionmaker[Session], ticker: str, last_day: date) -> None:
    """The stored indicators are those of the history both writers left: a recomputation corrects nothing."""
    with sessions() as session:
        stored = latest_row(session, ticker)
        assert stored[0] == last_day, "the screener's row is of the history before the other writer's days"
        assert refresh_indicators(session=session, ticker=ticker, owner_id=None) == 0
        assert latest_row(session, ticker) == stored
        session.rollback()
