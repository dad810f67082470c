"""Yahoo through yfinance, mocked only at the network edge with the shapes and errors it really gives."""

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from curl_cffi.requests.exceptions import ConnectTimeout, ReadTimeout
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

from core.data.frames import normalise_provider_frame
from core.data.yahoo import (
    UNFINISHED_BAR_NOTE,
    NoDataError,
    PriceSourceError,
    RateLimitedError,
    SourceUnreachableError,
    YahooSource,
)
from tests.fixtures import as_download_frame, gspc_2018_frame


class FakeYahoo:
    """Stands where yfinance's HTTP call is: replays frames or raises, and records the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []
        self.sleeps = []

    def history(self, ticker, **options):
        self.requests.append((ticker, options))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def source(self, now: datetime | None = None) -> YahooSource:
        # The default clock is today's: far after every bar of the 2018 fixture, whose sessions have all closed.
        clock = {"now": lambda: now} if now else {}
        return YahooSource(history=self.history, sleep=self.sleeps.append, **clock)


def test_history_frames_become_our_columns_with_exchange_dates():
    fake = FakeYahoo(gspc_2018_frame())
    result = fake.source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert list(result.frame.columns) == ["date", "open", "high", "low", "close", "adjusted_close", "volume"]
    assert result.frame["date"].iloc[0] == date(2018, 1, 2)  # not the previous evening in UTC
    assert len(result.frame) == 251
    ticker, options = fake.requests[0]
    assert (ticker, options["auto_adjust"], options["actions"], options["raise_errors"]) == ("^GSPC", False, True, True)
    assert (options["start"], options["end"]) == ("2018-01-01", "2019-01-01")


def test_splits_and_dividends_come_with_the_prices():
    history = gspc_2018_frame().assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    history.iloc[5, history.columns.get_loc("Dividends")] = 0.52
    history.iloc[100, history.columns.get_loc("Stock Splits")] = 4.0
    result = FakeYahoo(history).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert result.actions.to_dict("records") == [
        {"date": result.frame["date"].iloc[100], "kind": "split", "value": 4.0},
        {"date": result.frame["date"].iloc[5], "kind": "dividend", "value": 0.52},
    ]


def test_multiindex_columns_from_download_are_flattened():
    result = normalise_provider_frame(as_download_frame(gspc_2018_frame(), "^GSPC"))
    assert len(result.frame) == 251
    assert result.frame["adjusted_close"].iloc[-1] == pytest.approx(2506.850098)


def test_holiday_and_nan_rows_are_dropped_and_counted():
    padded = gspc_2018_frame()
    padded.iloc[5, :] = np.nan  # a padded holiday: no prices at all
    padded.iloc[9, padded.columns.get_loc("Close")] = np.nan  # a day missing one price
    result = FakeYahoo(padded).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert (result.dropped_empty_rows, result.dropped_incomplete_rows) == (1, 1)
    assert len(result.frame) == 249


@pytest.mark.parametrize(
    ("column", "value"),
    [("Adj Close", np.inf), ("Low", -np.inf), ("Open", 0.0), ("Close", -2695.81)],
    ids=["infinite", "minus-infinite", "zero", "negative"],
)
def test_a_day_with_an_impossible_price_is_dropped_and_counted(column, value):
    # Yahoo sends Infinity in its JSON now and then (yfinance issues #2856, #2890), and zeros for missing prices.
    history = gspc_2018_frame()
    history.iloc[100, history.columns.get_loc(column)] = value
    result = FakeYahoo(history).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert (result.dropped_empty_rows, result.dropped_incomplete_rows) == (0, 1)
    assert len(result.frame) == 250
    assert history.index[100].date() not in set(result.frame["date"])
    prices = result.frame[["open", "high", "low", "close", "adjusted_close"]].to_numpy()
    assert np.isfinite(prices).all()
    assert (prices > 0).all()


def test_a_day_of_nothing_but_zeros_is_an_incomplete_day_not_a_padded_holiday():
    history = gspc_2018_frame()
    history.iloc[7, :] = 0.0
    result = FakeYahoo(history).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert (result.dropped_empty_rows, result.dropped_incomplete_rows) == (0, 1)


@pytest.mark.parametrize(
    "answer",
    [
        gspc_2018_frame().iloc[0:0],
        YFTzMissingError("ZZZZ"),
        YFPricesMissingError("ZZZZ", "(1d 2018-01-01 -> 2018-12-31)"),
    ],
)
def test_an_unknown_ticker_gives_no_data(answer):
    with pytest.raises(NoDataError, match="no data for ZZZZ"):
        FakeYahoo(answer).source().fetch("ZZZZ", date(2018, 1, 1), date(2018, 12, 31))


def test_rate_limits_are_retried_with_backoff():
    fake = FakeYahoo(YFRateLimitError(), YFRateLimitError(), gspc_2018_frame())
    result = fake.source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert len(result.frame) == 251
    assert fake.sleeps == [2.0, 4.0]


def test_a_rate_limit_that_persists_is_reported():
    fake = FakeYahoo(YFRateLimitError(), YFRateLimitError(), YFRateLimitError())
    with pytest.raises(RateLimitedError, match="rate limited, 3 times"):
        fake.source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))


def test_no_network_is_reported_as_unreachable():
    error = CurlConnectionError("Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com")
    with pytest.raises(SourceUnreachableError, match="cannot be reached from here"):
        FakeYahoo(error).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))


def test_a_host_that_cannot_be_connected_to_in_time_is_unreachable():
    error = ConnectTimeout("Failed to perform, curl: (28) Connection timed out after 10001 milliseconds")
    with pytest.raises(SourceUnreachableError):
        FakeYahoo(error).source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))


def test_a_slow_answer_is_retried_and_is_no_sign_yahoo_is_unreachable():
    slow = ReadTimeout("Failed to perform, curl: (28) Operation timed out after 10000 milliseconds with 0 bytes")
    fake = FakeYahoo(slow, gspc_2018_frame())
    assert len(fake.source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31)).frame) == 251
    assert fake.sleeps == [2.0]
    always_slow = FakeYahoo(slow, slow, slow)
    slow_thrice = r"Yahoo Finance took more than 10 s to answer for \^GSPC, 3 times"
    with pytest.raises(PriceSourceError, match=slow_thrice) as raised:
        always_slow.source().fetch("^GSPC", date(2018, 1, 1), date(2018, 12, 31))
    assert not isinstance(raised.value, SourceUnreachableError), "Yahoo answered the connection: others may go on"


# Monday 2018-12-31 is the fixture's last day; New York closed at 16:00 EST, 21:00 UTC.
DURING_THE_LAST_SESSION = datetime(2018, 12, 31, 18, 0, tzinfo=UTC)
AFTER_THE_LAST_CLOSE = datetime(2018, 12, 31, 22, 0, tzinfo=UTC)


def test_the_bar_of_a_session_still_trading_is_left_for_the_next_fetch():
    fetch = FakeYahoo(gspc_2018_frame()).source(now=DURING_THE_LAST_SESSION).fetch
    result = fetch("^GSPC", date(2018, 12, 1), date(2018, 12, 31))
    assert result.frame["date"].iloc[-1] == date(2018, 12, 28)  # Friday's close stays
    assert len(result.frame) == 250
    assert result.dropped_unfinished_rows == 1
    assert "still open" in UNFINISHED_BAR_NOTE


def test_after_the_close_the_bar_of_the_day_is_kept():
    result = (
        FakeYahoo(gspc_2018_frame())
        .source(now=AFTER_THE_LAST_CLOSE)
        .fetch("^GSPC", date(2018, 12, 1), date(2018, 12, 31))
    )
    assert result.frame["date"].iloc[-1] == date(2018, 12, 31)
    assert result.dropped_unfinished_rows == 0


def coin_history(days: int, last: str) -> pd.DataFrame:
    """The fixture's last bars as a coin's: one a day, every day, dated at midnight UTC as Yahoo dates them."""
    history = gspc_2018_frame().tail(days).copy()
    history.index = pd.date_range(end=last, periods=days, freq="D", tz="UTC", name="Date")
    return history


def test_a_coins_day_is_unfinished_until_midnight_utc():
    saturday = datetime(2026, 3, 7, 23, 30, tzinfo=UTC)
    result = (
        FakeYahoo(coin_history(5, "2026-03-07"))
        .source(now=saturday)
        .fetch("BTC-USD", date(2026, 3, 3), date(2026, 3, 7))
    )
    assert result.frame["date"].iloc[-1] == date(2026, 3, 6)
    assert result.dropped_unfinished_rows == 1
    just_after_midnight = datetime(2026, 3, 8, 0, 45, tzinfo=UTC)
    result = (
        FakeYahoo(coin_history(5, "2026-03-07"))
        .source(now=just_after_midnight)
        .fetch("BTC-USD", date(2026, 3, 3), date(2026, 3, 7))
    )
    assert result.frame["date"].iloc[-1] == date(2026, 3, 7)


def test_a_fetch_that_found_only_the_unfinished_bar_found_no_new_day():
    only_today = gspc_2018_frame().tail(1)
    with pytest.raises(NoDataError):
        FakeYahoo(only_today).source(now=DURING_THE_LAST_SESSION).fetch("^GSPC", date(2018, 12, 31), date(2018, 12, 31))
