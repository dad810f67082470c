"""The stale-prices warning: what is old, since when the exchange traded, and what can be done offline too."""

from streamlit.testing.v1 import AppTest


def warn_about_the_sample():
    from datetime import date

    from ui.freshness import warn_if_stale

    warn_if_stale("^GSPC", date(2018, 12, 31), "This chart")


def test_old_prices_are_named_with_a_remedy_that_works_without_yahoo():
    at = AppTest.from_function(warn_about_the_sample).run()
    [warning] = at.warning
    assert warning.value.startswith("This chart uses prices of ^GSPC up to 2018-12-31; the exchange has traded since")
    # Yahoo may be unreachable: an upload is the remedy that always works.
    assert warning.value.endswith("Fetch newer prices, or upload a newer file, on the Tickers page.")


def test_a_bar_is_stale_from_its_exchange_s_close_not_from_the_next_utc_day(monkeypatch):
    from datetime import UTC, date, datetime

    from ui import freshness

    # Monday 2026-12-07: New York closes at 21:00 UTC; Friday's bar is the newest due until then.
    monkeypatch.setattr(freshness, "now", lambda: datetime(2026, 12, 7, 20, 59, tzinfo=UTC))
    assert freshness.stale_since("AAPL", date(2026, 12, 4)) == ""
    monkeypatch.setattr(freshness, "now", lambda: datetime(2026, 12, 7, 22, 0, tzinfo=UTC))
    assert freshness.stale_since("AAPL", date(2026, 12, 4)) == "stale: last bar 2026-12-04"


def warn_about_friday_s_tokyo_bar():
    from datetime import date

    from ui.freshness import warn_if_stale

    warn_if_stale("7203.T", date(2026, 12, 4), "This chart")


def test_the_warning_names_the_session_that_closed_today_in_tokyo(monkeypatch):
    from datetime import UTC, datetime

    # Monday 2026-12-07 13:21 UTC: Tokyo closed at 06:30 UTC, the UTC day is not over.
    monkeypatch.setattr("ui.freshness.now", lambda: datetime(2026, 12, 7, 13, 21, tzinfo=UTC))
    at = AppTest.from_function(warn_about_friday_s_tokyo_bar).run()
    [warning] = at.warning
    assert "up to 2026-12-04; the exchange has traded since (last trading day 2026-12-07)" in warning.value
