"""Two imports of one ticker's shared prices at the same moment, on PostgreSQL: the stored indicators
must come out as a recomputation over the merged history gives them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.data.service import import_prices
from core.indicator_store import refresh_indicators
from db.engine import session_scope
from db.models import HistoricalPrice
from tests.core.data.racing_writers import latest_row, until_it_waits_for_a_lock
from tests.fixtures import gspc_2018_bytes
from tests.servers import fresh_postgres_sessions

pytestmark = pytest.mark.postgres

DAYS = 251  # the trading days of the fixture


@pytest.fixture(scope="module")
def sessions() -> Iterator[sessionmaker[Session]]:
    with fresh_postgres_sessions() as made:
        yield made


def days_of_2018(first: int, last: int) -> bytes:
    """The fixture's trading days first..last (0-based, inclusive) as a file of their own."""
    header, *rows = gspc_2018_bytes().decode().splitlines()
    return "\n".join([header, *rows[first : last + 1]]).encode()


def import_file(session: Session, ticker: str, data: bytes) -> None:
    import_prices(session=session, data=data, ticker=ticker, date_format=None, skip_bad_rows=False, owner=None)


def while_the_first_holds(sessions, ticker: str, first: bytes, second: bytes) -> None:
    """Import `first` and hold its transaction open; import `second` in another thread until it waits on a
    lock the first holds; then commit the first and let the second finish."""
    failures: list[BaseException] = []

    def run_second() -> None:
        try:
            with session_scope(sessions) as session:
                import_file(session, ticker, second)
        except BaseException as error:  # noqa: BLE001 - reported to the assertions
            failures.append(error)

    with session_scope(sessions) as session:
        import_file(session, ticker, first)
        thread = threading.Thread(target=run_second)
        thread.start()
        until_it_waits_for_a_lock(sessions, thread, what="the second import")
    thread.join(timeout=30)
    assert not thread.is_alive(), "the second import never finished"
    assert not failures, failures


@pytest.mark.parametrize(
    ("ticker", "first", "second"),
    [
        # The second waits on the unique index for the days both files hold.
        pytest.param("OVERLAP", (0, 159), (100, DAYS - 1), id="overlapping-days"),
        # No day in common: the second waits on the series' version row, and its days come first.
        pytest.param("BEFORE", (120, DAYS - 1), (0, 119), id="earlier-days-second"),
    ],
)
def test_two_first_imports_of_one_ticker_at_once_store_the_indicators_of_the_merged_history(
    sessions, ticker, first, second
):
    while_the_first_holds(sessions, ticker, days_of_2018(*first), days_of_2018(*second))

    with sessions() as session:
        stored_days = select(func.count()).where(HistoricalPrice.ticker == ticker, HistoricalPrice.owner_id.is_(None))
        assert session.scalar(stored_days) == DAYS
        stored_latest = latest_row(session, ticker)
        # A full recomputation from the stored prices: nothing to correct, the screener's row included.
        assert refresh_indicators(session=session, ticker=ticker, owner_id=None) == 0
        assert latest_row(session, ticker) == stored_latest
        assert stored_latest[0].isoformat() == "2018-12-31"
        session.rollback()
