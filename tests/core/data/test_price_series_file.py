"""Which price files can be read as one series (a training's, a walk-forward's, a leaderboard's)."""

from __future__ import annotations

import pytest

from core.data.errors import FileFormatError
from core.data.service import InvalidRowsError, read_price_series
from tests.fixtures import gspc_2018_bytes

DAYS = 251  # the trading days of the fixture


def with_ticker_column(*tickers: str) -> bytes:
    """The fixture with a Ticker column, its days dealt out to the tickers in turn."""
    header, *days = gspc_2018_bytes().decode().splitlines()
    dealt = [f"{day},{tickers[n % len(tickers)]}" for n, day in enumerate(days)]
    return "\n".join([f"{header},Ticker", *dealt]).encode()


def test_a_file_of_one_ticker_is_its_valid_rows_under_the_ticker_of_its_column():
    series = read_price_series(with_ticker_column("msft"), ticker=None)
    assert len(series) == DAYS
    assert set(series["ticker"]) == {"MSFT"}
    assert series["date"].is_monotonic_increasing


def test_a_named_ticker_names_a_file_without_a_ticker_column():
    series = read_price_series(gspc_2018_bytes(), ticker="SPX")
    assert (len(series), set(series["ticker"])) == (DAYS, {"SPX"})


def test_a_ticker_column_naming_several_tickers_is_no_series():
    with pytest.raises(FileFormatError) as refused:
        read_price_series(with_ticker_column("MSFT", "AAPL"), ticker=None)
    assert str(refused.value) == "its Ticker column names 2 tickers (AAPL, MSFT): pass one ticker's rows"


def test_a_ticker_column_naming_many_shows_five_of_them():
    with pytest.raises(FileFormatError) as refused:
        read_price_series(with_ticker_column("F", "E", "D", "C", "B", "A", "G"), ticker=None)
    assert str(refused.value) == "its Ticker column names 7 tickers (A, B, C, D, E, …): pass one ticker's rows"


def test_a_file_with_a_bad_row_is_refused_with_its_report():
    header, first, *rest = gspc_2018_bytes().decode().splitlines()
    day, _open, high, low, *tail = first.split(",")
    bad = ",".join([day, "-1", high, low, *tail])  # price <= 0
    with pytest.raises(InvalidRowsError) as refused:
        read_price_series("\n".join([header, bad, *rest]).encode(), ticker="SPX")
    report = refused.value.report
    assert (report.rows, report.invalid_rows) == (DAYS, 1)
    assert [offence.line for offence in report.examples] == [2]
    assert str(refused.value) == report.summary()
