"""The refresh timers a page's runs ask the browser for (see refresh_timers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue


@pytest.fixture
def refresh_timers() -> Iterator[list[float]]:
    """The interval, in seconds, of each refresh timer the page's runs asked for since the list was last cleared."""
    asked: list[float] = []

    def note(message) -> None:
        if message.HasField("auto_rerun"):
            asked.append(message.auto_rerun.interval)

    ForwardMsgQueue.on_before_enqueue_msg(note)
    yield asked
    ForwardMsgQueue.on_before_enqueue_msg(None)


@pytest.fixture
def spx_database(monkeypatch, tmp_path):
    """A fresh SQLite database, the app's DATABASE_URL, holding the real 2018 S&P 500 as SPX."""
    from sqlalchemy.engine import URL

    from core.data.service import import_prices
    from db.engine import session_scope
    from db.migrate import upgrade_to_head
    from tests.fixtures import gspc_2018_bytes

    url = URL.create("sqlite", database=str(tmp_path / "app.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker="SPX", date_format=None, skip_bad_rows=False, owner=None
        )
    return url
