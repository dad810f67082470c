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


@pytest.mark.parametrize("raw", ["ßß", "ﬁ", "ı", "ﬀ", "msft\u0130", "ＭＳＦＴ"])
def test_a_symbol_that_is_not_ascii_is_refused_not_upper_cased_into_another(raw):
    # Unicode upper-casing turns ß into SS, ﬁ into FI and ı into I: a stored "SSSS" no one asked for.
    with pytest.raises(TickerError) as refused:
        normalise_ticker(f" {raw} ")
    assert str(refused.value) == f"{raw!r} is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"


def test_a_list_keeps_its_ascii_symbols_and_names_the_others():
    assert parse_ticker_text("msft ßß aapl") == (
        ["MSFT", "AAPL"],
        ["'ßß' is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"],
    )


def test_free_text_with_comments_and_duplicates():
    valid, problems = parse_ticker_text("msft, aapl\n# a comment line\nMSFT ^GSPC # trailing\n\n bad$ ")
    assert valid == ["MSFT", "AAPL", "^GSPC"]
    assert problems == ["'bad$' is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"]


def test_a_txt_list_with_comments_blank_lines_and_duplicates():
    from core.data.tickers import parse_ticker_file

    data = b"# my watchlist\nmsft\n\nAAPL  # apple\nBRK-B\nmsft\n7203.t\neurusd=x\n"
    assert parse_ticker_file(data) == (["MSFT", "AAPL", "BRK-B", "7203.T", "EURUSD=X"], [])


def test_a_one_column_csv_with_a_header():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file("Symbol\r\n^GSPC\r\nMSFT\r\n".encode("utf-16")) == (["^GSPC", "MSFT"], [])


def test_a_named_column_of_a_wider_csv():
    from core.data.tickers import parse_ticker_file

    data = b"Name;Code;Weight\nMicrosoft;MSFT;0.5\nApple;AAPL;0.5\n"
    assert parse_ticker_file(data, column="code") == (["MSFT", "AAPL"], [])
    assert parse_ticker_file(data)[1] == [
        "no column 'Ticker or Symbol' in the header ('Name', 'Code', 'Weight'); name the column to use"
    ]
    assert parse_ticker_file(b"Ticker,Name\nMSFT,Microsoft\nbad ticker,x\n") == (
        ["MSFT"],
        ["'bad ticker' is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"],
    )


@pytest.mark.parametrize(
    "data",
    [b"AAPL,MSFT,GOOG", b"aapl, msft, goog,\r\n", b"AAPL;MSFT;GOOG\n", b"AAPL MSFT GOOG"],
    ids=["commas", "spaces-trailing-comma", "semicolons", "spaces"],
)
def test_a_one_line_list_without_a_header(data):
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(data) == (["AAPL", "MSFT", "GOOG"], [])


def test_a_one_line_list_quotes_a_bad_symbol():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(b"AAPL,bad$,MSFT") == (
        ["AAPL", "MSFT"],
        ["'bad$' is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"],
    )


def test_a_header_line_alone_lists_no_ticker():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(b"Ticker,Name\n") == ([], [])


@pytest.mark.parametrize(
    "data",
    [
        b"Stock\nAAPL\nMSFT\n",
        b"stock\nAAPL\nMSFT\n",
        b"Name\r\nAAPL\r\nMSFT\r\n",
        b"Code\nAAPL\nMSFT\n",
        b"CODE\naapl\nmsft\n",
        b"Security\nAAPL\nmsft\n",
        b"ticker\nAAPL\nMSFT\n",
        b"SYMBOLS\nAAPL\nMSFT\n",
    ],
    ids=["Stock", "stock", "Name-crlf", "Code", "CODE-over-lower-case", "Security-over-mixed", "ticker", "SYMBOLS"],
)
def test_a_one_column_list_drops_its_header_word_written_otherwise_than_its_tickers(data):
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(data) == (["AAPL", "MSFT"], [])


def test_a_header_word_written_as_the_tickers_under_it_is_a_ticker():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(b"CODE\nAAPL\nMSFT\n") == (["CODE", "AAPL", "MSFT"], [])
    assert parse_ticker_file(b"name\naapl\nmsft\n") == (["NAME", "AAPL", "MSFT"], [])


def test_a_header_word_below_the_first_row_is_a_ticker():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(b"Stock\nAAPL\nCODE\nMSFT\n") == (["AAPL", "CODE", "MSFT"], [])
    assert parse_ticker_file(b"AAPL\nStock\nMSFT\n") == (["AAPL", "STOCK", "MSFT"], [])


@pytest.mark.parametrize(
    "text",
    ["AAPL MSFT\nGOOG AMZN\n", "AAPL,MSFT\nGOOG,AMZN\n", "AAPL;MSFT\r\nGOOG;AMZN\r\n", "aapl\tmsft\ngoog amzn\n"],
    ids=["spaces", "commas", "semicolons-crlf", "tabs-and-spaces"],
)
def test_a_list_file_without_a_header_reads_as_the_same_text_pasted(text):
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_text(text) == (["AAPL", "MSFT", "GOOG", "AMZN"], [])
    assert parse_ticker_file(text.encode()) == parse_ticker_text(text)


def test_a_table_with_a_header_but_no_ticker_column_still_asks_which_column():
    from core.data.tickers import parse_ticker_file

    assert parse_ticker_file(b"Company,Weight\nAAPL,7.1\nMSFT,6.5\n")[1] == [
        "no column 'Ticker or Symbol' in the header ('Company', 'Weight'); name the column to use"
    ]
