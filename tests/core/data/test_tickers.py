"""Ticker symbols as Yahoo spells them."""

import pytest

from core.data.tickers import TickerError, normalise_ticker, parse_ticker_text


@pytest.mark.parametrize(
    ("raw", "symbol"),
    [
        ("msft", "MSFT"),
        (" brk-b ", "BRK-B"),
        ("^gspc", "^GSPC"),
        ("eurusd=x", "EURUSD=X"),
        ("7203.t", "7203.T"),
    ],
)
def test_valid_symbols(raw, symbol):
    assert normalise_ticker(raw) == symbol


@pytest.mark.parametrize("raw", ["", "MS FT", "$MSFT", "A" * 21, "^", "=X", "MSFT=", "--"])
def test_invalid_symbols_are_quoted_in_the_error(raw):
    with pytest.raises(TickerError, match="is not a ticker symbol"):
        normalise_ticker(raw)


def test_free_text_with_comments_and_duplicates():
    valid, problems = parse_ticker_text("msft, aapl\n# a comment line\nMSFT ^GSPC # trailing\n\n bad$ ")
    assert valid == ["MSFT", "AAPL", "^GSPC"]
    assert problems == ["'bad$' is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"]
