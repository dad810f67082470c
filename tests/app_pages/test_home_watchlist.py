"""Home's watchlist judges staleness at the instant the page is drawn, as every other page does."""

from datetime import UTC, datetime

import pytest

from tests.accounts import logged_in_app, make_account

PAGE = "app_pages/home.py"


@pytest.fixture
def database(spx_database):
    return spx_database


@pytest.mark.parametrize(
    ("hour", "minute", "prices"), [(20, 59, ""), (21, 0, "stale")], ids=["before-close", "after-close"]
)
def test_the_watchlist_is_stale_from_the_exchange_s_close_not_from_the_next_utc_day(
    database, monkeypatch, hour, minute, prices
):
    # SPX ends on 2018-12-31; New York's next session, 2019-01-02, closes at 21:00 UTC. Judged by the UTC
    # day, the watchlist called that bar fresh until midnight.
    monkeypatch.setattr("ui.freshness.now", lambda: datetime(2019, 1, 2, hour, minute, tzinfo=UTC))
    at = logged_in_app(PAGE, make_account(database)).run()
    assert not at.exception
    watchlist = at.dataframe[0].value
    assert watchlist.loc[watchlist["Ticker"] == "SPX", "Prices"].tolist() == [prices]
