"""An import or fetch that changes no row of a series, while another writer of that series adds days:
it must wait for that writer and store the indicators of the history both leave behind.

On PostgreSQL, without the series lock, it read the history before the other committed and then wrote
its screener row over the other's. On SQLite every writing transaction holds the database's write lock
from its first statement, so these pin that the backend serialises them too."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from common.config import load_settings
from core.data.service import fetch_tickers, import_prices
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from tests.core.data.racing_writers import assert_indicators_of_the_whole_history, until_it_waits_for_a_lock
from tests.core.data.test_yahoo import FakeYahoo
from tests.fixtures import gspc_2018_bytes, gspc_2018_frame
from tests.servers import fresh_postgres_sessions

FIRST_DAYS = 160  # the days stored before the race; the fixture's other 91 are the other writer's
LAST_DAY = date(2018, 12, 31)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sessions(request, tmp_path_factory) -> Iterator[sessionmaker[Session]]:
    if request.param == "postgres":
        with fresh_postgres_sessions() as made:
            yield made
        return
    url = URL.create("sqlite", database=str(tmp_path_factory.mktemp("series-lock") / "prices.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    try:
        yield sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        engine.dispose()


def days_of_2018(first: int, last: int) -> bytes:
    """The fixture's trading days first..last (0-based, inclusive) as a file of their own."""
    header, *rows = gspc_2018_bytes().decode().splitlines()
    return "\n".join([header, *rows[first : last + 1]]).encode()


def import_file(session: Session, ticker: str, data: bytes) -> None:
    import_prices(session=session, data=data, ticker=ticker, date_format=None, skip_bad_rows=False, owner=None)


def fetch_first_days(sessions: sessionmaker[Session], ticker: str) -> None:
    fake = FakeYahoo(gspc_2018_frame().iloc[:FIRST_DAYS])
    run = fetch_tickers(
        sessions=sessions,
        actor=None,
        tickers=[ticker],
        start=date(2018, 1, 1),
        end=LAST_DAY,
        settings=load_settings(),
        throttle=None,
        source=fake.source(),
    )
    assert [outcome.status for outcome in run.outcomes] == ["ok"], run.table()


def while_a_writer_of_new_days_holds(sessions, ticker: str, unchanged: Callable[[], None]) -> None:
    """Import the series' later days and hold that transaction open; run `unchanged` in another thread until
    it waits on a lock; then commit the import and let it finish."""
    failures: list[BaseException] = []

    def run_unchanged() -> None:
        try:
            unchanged()
        except BaseException as error:  # noqa: BLE001 - reported to the assertions
            failures.append(error)

    with session_scope(sessions) as session:
        import_file(session, ticker, days_of_2018(FIRST_DAYS, 250))
        thread = threading.Thread(target=run_unchanged)
        thread.start()
        until_it_waits_for_a_lock(sessions, thread, what="the unchanged import")
    thread.join(timeout=30)
    assert not thread.is_alive(), "the unchanged import never finished"
    assert not failures, failures


def test_an_upload_that_changes_no_row_waits_for_a_writer_of_the_series(sessions):
    ticker = "SAMEFILE"
    first_days = days_of_2018(0, FIRST_DAYS - 1)
    with session_scope(sessions) as session:
        import_file(session, ticker, first_days)

    def import_again() -> None:
        with session_scope(sessions) as session:
            import_file(session, ticker, first_days)

    while_a_writer_of_new_days_holds(sessions, ticker, import_again)
    assert_indicators_of_the_whole_history(sessions, ticker, LAST_DAY)


def test_a_fetch_that_changes_no_row_waits_for_a_writer_of_the_series(sessions):
    ticker = "SAMEFETCH"
    fetch_first_days(sessions, ticker)
    while_a_writer_of_new_days_holds(sessions, ticker, lambda: fetch_first_days(sessions, ticker))
    assert_indicators_of_the_whole_history(sessions, ticker, LAST_DAY)
