"""Yahoo through yfinance, mocked only at the network edge with the shapes and errors it really gives."""

from datetime import date

import numpy as np
import pytest
from curl_cffi.requests.exceptions import ConnectionError as CurlConnectionError
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError, YFTzMissingError

from core.data.frames import normalise_provider_frame
from core.data.yahoo import NoDataError, RateLimitedError, SourceUnreachableError, YahooSource
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

    def source(self) -> YahooSource:
        return YahooSource(history=self.history, sleep=self.sleeps.append)


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
