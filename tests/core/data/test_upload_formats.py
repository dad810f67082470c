"""Price files from spreadsheets and vendors, imported end to end: what is stored is what the file says."""

import pytest

from core.data.service import import_prices
from db.repositories.actor import Actor
from db.repositories.prices import read_prices
from db.repositories.users import create_user


@pytest.fixture
def analyst(session):
    return Actor.of(create_user(session=session, username="uma", email="uma@example.com", password_hash="x"))


def imported(session, analyst, text: str, filename: str, **options):
    return import_prices(
        session=session,
        data=text.encode(),
        ticker=options.pop("ticker", None),
        date_format=options.pop("date_format", None),
        skip_bad_rows=options.pop("skip_bad_rows", False),
        owner=analyst,
        filename=filename,
    )


def stored(session, analyst, ticker: str) -> list[tuple]:
    prices = read_prices(session=session, actor=analyst, ticker=ticker)
    return [(str(row.date.date()), row.close, row.volume) for row in prices.itertuples()]


def test_a_yfinance_history_across_a_change_of_utc_offset_is_stored_on_its_dates(session, analyst):
    text = (
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2024-03-08 00:00:00-05:00,169.15,170.73,168.49,170.73,76114600,0.0,0.0\n"
        "2024-03-11 00:00:00-04:00,172.94,174.38,172.05,172.75,60139500,0.0,0.0\n"
    )
    result = imported(session, analyst, text, "AAPL.csv")
    assert result.status == "accepted", result.message()
    assert stored(session, analyst, "AAPL") == [("2024-03-08", 170.73, 76114600), ("2024-03-11", 172.75, 60139500)]


def test_a_google_sheets_export_with_decimal_commas_stores_whole_volumes(session, analyst):
    text = 'Date,Open,High,Low,Close,Volume\n2024-01-02,"123,45","125,10","122,00","124,00","812.345"\n'
    result = imported(session, analyst, text, "MSFT.csv")
    assert result.status == "accepted", result.message()
    assert stored(session, analyst, "MSFT") == [("2024-01-02", 124.0, 812_345)]


def test_a_semicolon_file_of_three_decimal_prices_stores_them_as_written(session, analyst):
    result = imported(
        session, analyst, "Date;Open;High;Low;Close\n2024-01-02;1.095;1.099;1.091;1.094\n", "EURUSD=X.csv"
    )
    assert result.status == "accepted", result.message()
    assert stored(session, analyst, "EURUSD=X") == [("2024-01-02", 1.094, 0)]
    assert any("'.' read as the decimal point" in note for note in result.notes)


def test_a_semicolon_file_of_three_decimal_comma_prices_stores_them_as_written(session, analyst):
    text = "Datum;Eröffnung;Hoch;Tief;Schluss;Volumen\n02.01.2024;6,650;6,782;6,604;6,742;11452731\n"
    result = imported(session, analyst, text, "LHA.DE.csv")
    assert result.status == "accepted", result.message()
    assert stored(session, analyst, "LHA.DE") == [("2024-01-02", 6.742, 11_452_731)]
    assert any("('6,742' as 6.742)" in note for note in result.notes)


def test_a_googlefinance_export_is_stored_on_its_dates(session, analyst):
    text = "Date,Close\n1/2/2024 16:00:00,185.64\n1/3/2024 16:00:00,184.25\n"
    result = imported(session, analyst, text, "AAPL.csv")
    assert result.status == "accepted", result.message()
    assert [day for day, _, _ in stored(session, analyst, "AAPL")] == ["2024-01-02", "2024-01-03"]


def test_intraday_bars_are_refused_whole(session, analyst):
    text = "Datetime,Close\n2024-01-02T14:30:00Z,185.64\n2024-01-02T15:30:00Z,185.50\n"
    result = imported(session, analyst, text, "AAPL.csv", skip_bad_rows=True)
    assert result.status == "rejected"
    assert "intraday data" in result.message()
    assert stored(session, analyst, "AAPL") == []


def test_a_vendors_file_name_gives_no_ticker(session, analyst):
    result = imported(session, analyst, "Date,Close\n2024-01-02,1\n", "Apple Stock Price History.csv")
    assert result.status == "rejected"
    assert "no ticker: the file name 'Apple Stock Price History.csv' names none" in result.message()
    assert stored(session, analyst, "APPLE") == []


LONG_WITH_A_MALFORMED_TICKER = "Date,Ticker,Close\n2024-01-02,AAPL,1\n2024-01-02,BRK/B,2\n2024-01-03,AAPL,3\n"


def test_a_malformed_ticker_in_a_long_file_is_a_bad_row_skipped_when_asked(session, analyst):
    result = imported(session, analyst, LONG_WITH_A_MALFORMED_TICKER, "long.csv", skip_bad_rows=True)
    assert result.status == "partial", result.message()
    assert result.message() == "Wrote 2 valid rows of AAPL from 2024-01-02 to 2024-01-03; skipped 1 bad row"
    assert result.report.counts == {"malformed ticker": 1}
    assert [(o.line, o.values["ticker"]) for o in result.report.examples] == [(3, "BRK/B")]
    assert [day for day, _, _ in stored(session, analyst, "AAPL")] == ["2024-01-02", "2024-01-03"]


def test_a_malformed_ticker_refuses_the_file_naming_the_row_and_the_ticker(session, analyst):
    result = imported(session, analyst, LONG_WITH_A_MALFORMED_TICKER, "long.csv")
    assert result.status == "rejected"
    assert result.message() == "Rejected, nothing written: 1 of 3 rows invalid (malformed ticker: 1)"
    assert [(o.line, o.rules, o.values["ticker"]) for o in result.report.examples] == [
        (3, ("malformed ticker",), "BRK/B")
    ]
    assert stored(session, analyst, "AAPL") == []
