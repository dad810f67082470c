"""Two writers of the same new price series at the same moment, on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from db.engine import session_scope
from db.models import HistoricalPrice
from db.repositories.prices import upsert_prices_of
from tests.servers import fresh_postgres_sessions

pytestmark = pytest.mark.postgres

ANSWER_TIMEOUT = 1  # seconds: DB_ANSWER_TIMEOUT at its least, so that the first writer outlasts it quickly


def new_series(tickers: int, days: int) -> pd.DataFrame:
    dates = pd.bdate_range("2000-01-03", periods=days).date
    bars = {"open": 1.0, "high": 2.0, "low": 0.5, "close": 1.5, "adjusted_close": 1.5, "volume": 100}
    return pd.concat(
        [pd.DataFrame({"ticker": f"NEW{n:02d}", "date": dates, **bars}) for n in range(tickers)], ignore_index=True
    )


def test_a_second_import_of_the_same_new_tickers_waits_for_the_first_and_merges(monkeypatch):
    # Two imports of one new file at once on PostgreSQL: the second's COPY waited inside the first's
    # uncommitted rows with its data in flight, the server stopped reading it, and after DB_ANSWER_TIMEOUT
    # the kernel cut its connection: "connection already closed" and a traceback instead of "Nothing new".
    monkeypatch.setenv("DB_ANSWER_TIMEOUT", str(ANSWER_TIMEOUT))
    frame = new_series(tickers=10, days=1_000)
    outcome: dict[str, object] = {}
    first_wrote = threading.Event()
    with fresh_postgres_sessions() as sessions:

        def second_writer() -> None:
            first_wrote.wait(30)
            try:
                with session_scope(sessions) as session:
                    outcome["second"] = upsert_prices_of(session=session, frame=frame, owner_id=None, source="upload")
            except SQLAlchemyError as error:  # what the user would have seen, kept for the assertion's message
                outcome["second"] = f"{type(error).__name__}: {error}"

        writer = threading.Thread(target=second_writer)
        writer.start()
        with session_scope(sessions) as session:
            outcome["first"] = upsert_prices_of(session=session, frame=frame, owner_id=None, source="upload")
            first_wrote.set()
            time.sleep(ANSWER_TIMEOUT * 2.5)  # still uncommitted while the second writer sends its rows
        writer.join(60)
        with session_scope(sessions) as session:
            stored = session.scalar(select(func.count()).select_from(HistoricalPrice))
    assert outcome == {"first": len(frame), "second": 0}, "the second found every day stored, the same values"
    assert stored == len(frame)
