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
