"""Every common price layout imports without editing, and the report names the layout it recognised."""

import codecs
import io
import random
import re
import tracemalloc
import zipfile

import openpyxl
import pandas as pd
import pytest

from core.data import excel
from core.data.csv_prices import parse_price_csv, propose_ticker, read_table
from core.data.errors import FileFormatError
from core.data.excel import read_excel_table
from core.data.layouts import UnrecognisedLayoutError
from core.data.layouts import wide as wide_layout
from core.data.layouts import yfinance as yfinance_layout
from core.data.validation import validate_prices
from tests.fixtures import GSPC_2018, as_download_frame, gspc_2018_frame

BARS = pd.read_csv(GSPC_2018, parse_dates=["Date"]).head(30)  # Date, Open, High, Low, Close, Adj Close, Volume
FIRST_CLOSE = BARS["Close"].iloc[0]


def parse(data: bytes, **options):
    parsed = parse_price_csv(data, **options)
    report, _ = validate_prices(parsed.frame, raw_date_column="raw_date")
    assert report.ok, report.lines()
    return parsed


def assert_the_fixture(parsed, ticker: str = "SPX", rows: int = 30) -> None:
    """Every layout must give back the same bars: sorted oldest first, first close and count right."""
    frame = parsed.frame[parsed.frame["ticker"] == ticker]
    assert len(frame) == rows
    assert frame["date"].is_monotonic_increasing
    assert str(frame["date"].iloc[0].date()) == "2018-01-02"
    assert frame["close"].iloc[0] == pytest.approx(FIRST_CLOSE, rel=1e-6)


def indexed() -> pd.DataFrame:
    return BARS.set_index("Date")


@pytest.mark.parametrize(
    ("frame", "header_start"),
    [
        (indexed().rename_axis(None), ",Open"),
        (indexed().rename_axis(None).reset_index(), "index,Open"),
        (indexed().rename_axis("Unnamed: 0"), "Unnamed: 0,Open"),
    ],
    ids=["unnamed", "index", "unnamed-0"],
)
def test_pandas_to_csv_with_its_index_column(frame, header_start):
    data = frame.to_csv(index=not header_start.startswith("index")).encode()
    assert data.decode().startswith(header_start)
    parsed = parse(data, ticker="SPX")
    assert parsed.layout == "pandas to_csv (dates in the first, unnamed column)"
    assert_the_fixture(parsed)


def yfinance_csv(*tickers: str) -> bytes:
    history = gspc_2018_frame().head(30)
    parts = [as_download_frame(history * (1 + n / 10), ticker) for n, ticker in enumerate(tickers)]
    return pd.concat(parts, axis=1).rename_axis("Date").to_csv().encode()


def test_yfinance_download_with_one_ticker():
    data = yfinance_csv("SPX")
    assert data.decode().splitlines()[:3] == [
        "Price,Open,High,Low,Close,Adj Close,Volume",
        "Ticker,SPX,SPX,SPX,SPX,SPX,SPX",
        "Date,,,,,,",
    ]
    parsed = parse(data)
    assert parsed.layout == "yfinance download (1 ticker, three header lines)"
    assert_the_fixture(parsed)


def test_yfinance_download_with_several_tickers():
    parsed = parse(yfinance_csv("SPX", "MSFT", "AAPL"))
    assert parsed.layout == "yfinance download (3 tickers, three header lines)"
    assert sorted(parsed.frame["ticker"].unique()) == ["AAPL", "MSFT", "SPX"]
    assert_the_fixture(parsed)
    msft = parsed.frame[parsed.frame["ticker"] == "MSFT"]
    assert msft["close"].iloc[0] == pytest.approx(FIRST_CLOSE * 1.1, rel=1e-6)


def wide_csv(date_header: str, *tickers: str) -> bytes:
    wide = pd.DataFrame(
        {date_header: BARS["Date"]} | {ticker: BARS["Close"] * (n + 1) for n, ticker in enumerate(tickers)}
    )
    return wide.to_csv(index=False, date_format="%Y-%m-%d").encode()


def with_separator(data: bytes, separator: str, *, trailing: bool) -> bytes:
    lines = data.decode().splitlines()
    return "".join(line.replace(",", separator) + (separator if trailing else "") + "\n" for line in lines).encode()


@pytest.mark.parametrize("separator", [",", ";"])
@pytest.mark.parametrize(
    "data",
    [
        yfinance_csv("SPX"),
        yfinance_csv("SPX", "MSFT"),
        wide_csv("Date", "SPX", "MSFT"),
        wide_csv("observation_date", "SPX"),
    ],
    ids=["yfinance-1", "yfinance-2", "wide", "fred"],
)
def test_a_separator_ending_every_line_reads_as_the_file_without_it(data, separator):
    # Excel and hand edits leave a separator at the end of each line: a column with no name and no value.
    plain = parse(with_separator(data, separator, trailing=False))
    trailed = parse(with_separator(data, separator, trailing=True))
    assert trailed.layout == plain.layout
    assert trailed.notes == plain.notes
    pd.testing.assert_frame_equal(trailed.frame, plain.frame)
    assert_the_fixture(trailed)


def test_a_file_of_nothing_but_separators_is_refused_as_empty():
    with pytest.raises(FileFormatError, match="the file holds no values, only separators"):
        parse_price_csv(b",,,\n,,,\n", ticker="SPX")


def test_an_empty_formatted_column_after_a_workbooks_table_is_no_column():
    book = openpyxl.load_workbook(
        io.BytesIO(workbook(("Prices", BARS[["Date", "Close"]].rename(columns={"Close": "SPX"}))))
    )
    sheet = book.active
    for row in range(1, len(BARS) + 2):
        sheet.cell(row=row, column=3).font = openpyxl.styles.Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse(buffer.getvalue(), filename="closes.xlsx")
    assert parsed.layout == "wide file of closes (1 ticker, one column each)"
    assert_the_fixture(parsed)


def test_a_yfinance_download_with_a_tickers_volume_column_deleted_reads_its_volume_as_zero():
    lines = yfinance_csv("SPX", "MSFT").decode().splitlines()
    assert lines[0].endswith(",Volume")
    assert lines[1].endswith(",MSFT")
    trimmed = "\n".join(line.rsplit(",", 1)[0] for line in lines)
    parsed = parse(trimmed.encode())
    msft = parsed.frame[parsed.frame["ticker"] == "MSFT"]
    assert (msft["volume"] == 0).all()
    assert "volume blank read as 0 on 30 days" in parsed.notes
    assert_the_fixture(parsed)


def test_stooq_daily():
    data = BARS.drop(columns="Adj Close").to_csv(index=False, date_format="%Y-%m-%d").encode()
    parsed = parse(data, filename="spx_d.csv")
    assert parsed.layout == "Date, Open, High, Low, Close columns (Yahoo, Stooq daily and the like)"
    assert "ticker SPX taken from the file name" in parsed.notes
    assert_the_fixture(parsed)


def test_stooq_bulk_with_yyyymmdd_dates_and_other_periods():
    lines = ["<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>"]
    for row in BARS.itertuples():
        lines.append(f"SPX,D,{row.Date:%Y%m%d},000000,{row.Open},{row.High},{row.Low},{row.Close},{row.Volume},0")
    lines.append("SPX,W,20180105,000000,1,2,0.5,1,10,0")
    parsed = parse("\n".join(lines).encode())
    assert parsed.layout == "Stooq bulk file (<TICKER>,<PER>,<DATE>,…)"
    assert "dropped 1 rows that are not daily bars (<PER> other than D)" in parsed.notes
    assert_the_fixture(parsed)


def investing_csv(date_format: str) -> bytes:
    lines = ['"Date","Price","Open","High","Low","Vol.","Change %"']
    for row in BARS.iloc[::-1].itertuples():
        volume = f"{row.Volume / 1e9:.2f}B" if row.Index % 3 else "-"
        lines.append(
            f'"{row.Date.strftime(date_format)}","{row.Close:,.6f}","{row.Open:,.6f}","{row.High:,.6f}",'
            f'"{row.Low:,.6f}","{volume}","0.12%"'
        )
    return "\n".join(lines).encode()


@pytest.mark.parametrize("date_format", ["%m/%d/%Y", "%b %d, %Y"])
def test_investing_com_newest_first_with_suffixed_volumes(date_format):
    parsed = parse(investing_csv(date_format), ticker="SPX")
    assert parsed.layout == "Investing.com historical data"
    assert f"dates read as {date_format}" in parsed.notes
    assert "rows sorted by date" in parsed.notes
    assert any(note.startswith("volume '-' read as 0 on 10 days") for note in parsed.notes)
    assert_the_fixture(parsed)
    second = parsed.frame.iloc[1]
    assert second["volume"] == pytest.approx(round(BARS["Volume"].iloc[1] / 1e9, 2) * 1e9)


def test_nasdaq_com_with_dollar_signs_newest_first():
    lines = ["Date,Close/Last,Volume,Open,High,Low"]
    for row in BARS.iloc[::-1].itertuples():
        lines.append(f"{row.Date:%m/%d/%Y},${row.Close},{row.Volume},${row.Open},${row.High},${row.Low}")
    parsed = parse("\n".join(lines).encode(), ticker="SPX")
    assert parsed.layout == "Nasdaq.com historical quotes"
    assert_the_fixture(parsed)


def test_alpha_vantage_plain_and_adjusted():
    plain = ["timestamp,open,high,low,close,volume"]
    adjusted = ["timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient"]
    for row in BARS.iloc[::-1].itertuples():
        day = f"{row.Date:%Y-%m-%d}"
        plain.append(f"{day},{row.Open},{row.High},{row.Low},{row.Close},{row.Volume}")
        split = "2.0" if day == "2018-01-10" else "1.0"
        adjusted.append(f"{day},{row.Open},{row.High},{row.Low},{row.Close},{row._6},{row.Volume},0.0000,{split}")
    parsed = parse("\n".join(plain).encode(), ticker="SPX")
    assert parsed.layout == "Alpha Vantage daily"
    assert_the_fixture(parsed)
    parsed = parse("\n".join(adjusted).encode(), ticker="SPX")
    assert parsed.layout == "Alpha Vantage daily adjusted"
    assert_the_fixture(parsed)
    splits = parsed.events[parsed.events["split"] != 1.0]
    assert [str(day.date()) for day in splits["date"]] == ["2018-01-10"]


def workbook(*sheets: tuple[str, pd.DataFrame]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_first_sheet_or_a_chosen_one():
    other = BARS.assign(Close=BARS["Close"] * 2, High=BARS["High"] * 2, Open=BARS["Low"], Low=BARS["Low"])
    data = workbook(("Prices", BARS), ("Doubled", other))
    parsed = parse(data, filename="SPX.xlsx")
    assert parsed.encoding == "xlsx"
    assert_the_fixture(parsed)
    doubled = parse(data, filename="SPX.xlsx", sheet="Doubled")
    assert doubled.frame["close"].iloc[0] == pytest.approx(FIRST_CLOSE * 2)
    with pytest.raises(FileFormatError, match=r"sheet 'Nope' is not in the workbook; it has 'Prices', 'Doubled'"):
        parse_price_csv(data, filename="SPX.xlsx", sheet="Nope")


@pytest.mark.parametrize("typed", [" Prices ", "Prices", "prices", "  PRICES"])
def test_a_sheet_whose_name_has_spaces_around_it_is_found_as_typed_or_trimmed(typed):
    data = workbook(("Notes", BARS.head(1)), (" Prices ", BARS))
    parsed = parse(data, filename="SPX.xlsx", sheet=typed)
    assert_the_fixture(parsed)


def test_a_sheet_name_matching_two_sheets_but_for_spaces_or_case_is_refused_naming_both():
    data = workbook(("Prices", BARS), ("prices ", BARS))
    assert_the_fixture(parse(data, filename="SPX.xlsx", sheet="Prices"))
    with pytest.raises(FileFormatError, match=r"sheet 'PRICES' could be 'Prices' or 'prices ': type its name exactly"):
        parse_price_csv(data, filename="SPX.xlsx", sheet="PRICES")


def test_excel_with_an_investing_layout_inside():
    frame = pd.read_csv(io.BytesIO(investing_csv("%m/%d/%Y")), dtype=str)
    parsed = parse(workbook(("Sheet1", frame)), filename="spx.xlsx", ticker="SPX")
    assert parsed.layout == "Investing.com historical data"
    assert_the_fixture(parsed)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01" + bytes(300), "is named .xlsx but is not an Excel workbook"),
        (b"PK\x03\x04" + bytes(300), "the workbook is damaged"),
    ],
)
def test_a_file_renamed_xlsx_is_named(data, message):
    with pytest.raises(FileFormatError, match=message):
        parse_price_csv(data, filename="prices.xlsx", ticker="SPX")


def test_a_long_file_with_a_ticker_column_in_any_order():
    long = pd.concat([BARS.assign(Ticker="SPX"), BARS.assign(Ticker="DUP", Close=BARS["Close"])])
    shuffled = long.sample(frac=1, random_state=3)
    parsed = parse(shuffled.to_csv(index=False, date_format="%Y-%m-%d").encode())
    assert parsed.layout == "long file with a ticker column"
    assert "rows sorted by date" in parsed.notes
    assert_the_fixture(parsed)
    assert_the_fixture(parsed, "DUP")


def test_a_wide_file_of_closes():
    wide = pd.DataFrame({"Date": BARS["Date"], "SPX": BARS["Close"], "BRK-B": BARS["Close"] * 3})
    wide.loc[0, "BRK-B"] = None
    parsed = parse(wide.to_csv(index=False, date_format="%Y-%m-%d").encode())
    assert parsed.layout == "wide file of closes (2 tickers, one column each)"
    assert "skipped 1 empty cell (days a ticker did not trade)" in parsed.notes
    assert_the_fixture(parsed)
    brk = parsed.frame[parsed.frame["ticker"] == "BRK-B"]
    assert len(brk) == 29
    assert (brk["open"] == brk["close"]).all()


def test_tickers_spelled_like_columns_are_read_as_tickers_in_a_wide_file():
    # Lowe's (LOW) and Dayforce (DAY) sit in the S&P 500 beside tickers no column is named like.
    wide = pd.DataFrame({"Date": BARS["Date"], "LOW": BARS["Close"], "DAY": BARS["Close"] * 2, "HD": BARS["Close"]})
    parsed = parse(wide.to_csv(index=False, date_format="%Y-%m-%d").encode())
    assert parsed.layout == "wide file of closes (3 tickers, one column each)"
    assert sorted(pd.unique(parsed.frame["ticker"])) == ["DAY", "HD", "LOW"]
    assert "DAY and LOW read as tickers: the file has no close column" in parsed.notes


def test_price_columns_without_a_close_are_no_wide_file():
    frame = pd.DataFrame({"Date": BARS["Date"], "Open": BARS["Close"], "High": BARS["Close"], "Price": BARS["Close"]})
    with pytest.raises(FileFormatError, match="missing column"):
        parse(frame.to_csv(index=False, date_format="%Y-%m-%d").encode())


@pytest.mark.parametrize("date_header", ["observation_date", "DATE"], ids=["fred", "fred-before-2024"])
def test_a_fred_download_with_its_no_observation_days(date_header):
    # FRED's CSV (fredgraph.csv): one series of closes, "." on days the market was shut; a sheet saved
    # as CSV by Excel writes "#N/A" there instead.
    days = zip(BARS["Date"], BARS["Close"], strict=True)
    lines = [f"{date_header},SPX"] + [f"{day:%Y-%m-%d},{close}" for day, close in days]
    lines.insert(1, "2018-01-01,.")  # New Year's Day: FRED lists it with no observation
    lines.insert(lines.index(next(line for line in lines if line.startswith("2018-01-16"))), "2018-01-15,#N/A")
    parsed = parse("\r\n".join(lines).encode())
    assert parsed.layout == "wide file of closes (1 ticker, one column each)"
    assert "skipped 2 empty cells (days a ticker did not trade)" in parsed.notes
    assert_the_fixture(parsed)


# FRED's Excel download (fredgraph.xlsx) puts a title block above its header; so do other exports.
FRED_TITLE_BLOCK = [
    ["FRED Graph Observations"],
    ["Federal Reserve Economic Data"],
    ["Link: https://fred.stlouisfed.org"],
    ["Help: https://fredhelp.stlouisfed.org"],
    ["Economic Research Division"],
    ["Federal Reserve Bank of St. Louis"],
    [None],
    ["SPX", "S&P 500, Index, Daily, Not Seasonally Adjusted"],
    [None],
    ["Frequency: Daily"],
]


def test_a_fred_excel_download_with_its_title_block_above_the_header():
    book = openpyxl.Workbook()
    sheet = book.active
    for row in FRED_TITLE_BLOCK:
        sheet.append(row)
    sheet.append(["observation_date", "SPX"])
    sheet.append([pd.Timestamp("2018-01-01").to_pydatetime(), "#N/A"])
    for day, close in zip(BARS["Date"], BARS["Close"], strict=True):
        sheet.append([day.to_pydatetime(), close])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = parse(buffer.getvalue(), filename="fredgraph.xlsx")
    assert "header on line 11: the 8 lines of notes above it skipped" in parsed.notes
    assert parsed.frame["line"].iloc[0] == 13, "rows keep their lines in the file, for the report"
    assert_the_fixture(parsed)


def test_a_csv_with_a_disclaimer_above_the_header():
    disclaimer = [
        "Macrotrends Data Download",
        "",
        "SPX - Historical Price and Volume Data",
        '"DISCLAIMER AND TERMS OF USE: HISTORICAL DATA IS PROVIDED ""AS IS"", NOT FOR TRADING PURPOSES."',
        "",
    ]
    days = zip(BARS["Date"], BARS["Open"], BARS["High"], BARS["Low"], BARS["Close"], BARS["Volume"], strict=True)
    rows = [f"{d:%Y-%m-%d},{o},{h},{low},{c},{v}" for d, o, h, low, c, v in days]
    data = "\n".join([*disclaimer, "date,open,high,low,close,volume", *rows]).encode()
    parsed = parse(data, ticker="SPX")
    assert "header on line 6: the 3 lines of notes above it skipped" in parsed.notes
    assert_the_fixture(parsed)


def test_a_header_below_notes_that_no_layout_knows_is_offered_for_mapping_from_its_line():
    lines = ["Desk export", "Prepared 2018-02-14", "", "Date,Last price"] + [
        f"{day:%Y-%m-%d},{close}" for day, close in zip(BARS["Date"], BARS["Close"], strict=True)
    ]
    data = "\n".join(lines).encode()
    with pytest.raises(UnrecognisedLayoutError, match="line 4: layout not recognised, missing column close") as refused:
        parse_price_csv(data, ticker="SPX")
    assert refused.value.columns == ["Date", "Last price"], "the columns to map are the header's, not the notes'"
    assert refused.value.preview.iloc[0].tolist() == ["Date", "Last price"]
    parsed = parse(data, ticker="SPX", mapping={"date": "Date", "close": "Last price"})
    assert "header on line 4: the 2 lines of notes above it skipped" in parsed.notes
    assert_the_fixture(parsed)


def test_notes_with_no_price_header_below_them_are_refused_at_line_1():
    # No line names a date column, and none has a date below it: nothing tells the header from the notes.
    lines = ["Quarterly report", "Prepared by the desk", "When,Level", "Q1 2018,2695.81"]
    with pytest.raises(UnrecognisedLayoutError, match="line 1: layout not recognised"):
        parse_price_csv("\n".join(lines).encode(), ticker="SPX")


def test_a_header_is_looked_for_only_near_the_top():
    lines = [f"note {number}" for number in range(40)] + ["Date,Close", "2018-01-02,2695.81"]
    with pytest.raises(UnrecognisedLayoutError, match="line 1: layout not recognised"):
        parse_price_csv("\n".join(lines).encode(), ticker="SPX")


def test_repeated_header_lines_of_concatenated_exports_are_dropped_and_reported():
    first = BARS.head(15).to_csv(index=False, date_format="%Y-%m-%d")
    second = BARS.tail(15).to_csv(index=False, date_format="%Y-%m-%d")
    parsed = parse((first + second).encode(), ticker="SPX")
    assert "dropped 1 repeated header line (line 17)" in parsed.notes
    assert_the_fixture(parsed)


def test_repeated_yfinance_headers_are_dropped_too():
    lines = yfinance_csv("SPX").decode().splitlines()
    data = "\n".join(lines[:18] + lines[:3] + lines[18:]).encode()
    parsed = parse(data)
    assert "dropped 3 repeated header lines (lines 19, 20, 21)" in parsed.notes
    assert_the_fixture(parsed)


@pytest.mark.parametrize(
    ("filename", "ticker"),
    [
        ("AAPL.csv", "AAPL"), ("msft_daily.xlsx", "MSFT"), ("BRK-B (1).csv", "BRK-B"), ("!!!.csv", None),
        ("BTC-USD.csv", "BTC-USD"), ("EURUSD=X.csv", "EURUSD=X"), ("VOD.L.csv", "VOD.L"),
        # Vendors' default names say nothing of the ticker (Nasdaq.com, spreadsheets, FRED)...
        ("HistoricalData_1700000000000.csv", None), ("data.csv", None), ("prices (3).csv", None),
        ("Untitled spreadsheet - Sheet1.csv", None), ("fredgraph.xlsx", None), ("download.csv", None),
        # ...or say it at the end (MarketWatch).
        ("Download Data - STOCK_US_XNAS_AAPL.csv", "AAPL"), ("Download Data - FUND_US_ARCX_SPY.csv", "SPY"),
    ],
)  # fmt: skip
def test_a_ticker_is_proposed_from_the_file_name(filename, ticker):
    assert propose_ticker(filename) == ticker


def test_an_unknown_layout_comes_back_with_a_preview_to_map():
    data = b"Day;Last price;Turnover\n2018-01-02;2695,81;100\n2018-01-03;2713,06;200\n"
    with pytest.raises(UnrecognisedLayoutError) as raised:
        parse_price_csv(data, ticker="SPX")
    assert raised.value.columns == ["Day", "Last price", "Turnover"]
    assert raised.value.preview.iloc[1].tolist() == ["2018-01-02", "2695,81", "100"]
    parsed = parse(data, ticker="SPX", mapping={"date": "Day", "close": "Last price", "volume": "Turnover"})
    assert parsed.layout == "columns mapped by hand"
    assert parsed.frame["close"].tolist() == [2695.81, 2713.06]
    assert parsed.frame["volume"].tolist() == [100, 200]


def test_a_mapping_naming_a_missing_column_is_refused():
    data = b"Day,Last\n2018-01-02,1\n"
    with pytest.raises(FileFormatError, match=r"mapping: no column 'Close' in the header \('Day', 'Last'\)"):
        parse_price_csv(data, ticker="SPX", mapping={"date": "Day", "close": "Close"})


def test_a_wide_excel_row_is_refused_while_the_sheet_streams():
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(workbook(("Prices", BARS[["Date", "Close"]].head(3)))))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # One row of 300,000 cells inflates to 4 MB from a 10 KB zip.
                content = content.replace(
                    b"</sheetData>", b'<row r="5">' + b"<c><v>1</v></c>" * 300_000 + b"</row></sheetData>"
                )
            bomb.writestr(item, content)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"row 5 of a sheet has more than 200 cells"):
            parse_price_csv(buffer.getvalue(), filename="SPX.xlsx", ticker="SPX")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30_000_000, "the row must not be built whole"


def test_an_excel_sheet_over_the_row_bound_says_so():
    data = workbook(("Prices", BARS))
    with pytest.raises(FileFormatError, match=r"the sheet has more than the 10 rows an upload may have"):
        parse_price_csv(data, filename="SPX.xlsx", ticker="SPX", max_rows=10)


def yfinance_with(columns: list[str]) -> bytes:
    history = gspc_2018_frame().head(30)[columns]
    return as_download_frame(history, "SPX").rename_axis("Date").to_csv().encode()


def test_a_yfinance_download_of_closes_only_uses_the_close_for_the_range():
    data = yfinance_with(["Close"])
    assert data.decode().splitlines()[:3] == ["Price,Close", "Ticker,SPX", "Date,"]
    parsed = parse(data)
    assert "no open, high or low columns: each is the close" in parsed.notes
    assert_the_fixture(parsed)
    assert (parsed.frame["open"] == parsed.frame["close"]).all()
    with_volume = parse(yfinance_with(["Close", "Volume"]))
    assert with_volume.frame["volume"].iloc[0] == BARS["Volume"].iloc[0]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (["Open", "High", "Low"], "line 1: missing column close; the header has 'Price', 'Open', 'High', 'Low'"),
        (["Close", "High", "Low"], "line 1: missing column open; the header has 'Price', 'Close', 'High', 'Low'"),
    ],
)
def test_a_yfinance_download_missing_a_price_is_named(columns, message):
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(yfinance_with(columns))
    assert message in str(raised.value)


def test_a_vendors_default_file_name_asks_for_the_ticker():
    data = BARS.to_csv(index=False, date_format="%Y-%m-%d").encode()
    with pytest.raises(
        FileFormatError, match=r"no ticker: the file name 'HistoricalData_1700000000000.csv' names none"
    ):
        parse_price_csv(data, filename="HistoricalData_1700000000000.csv")


@pytest.mark.parametrize(
    "header",
    [
        "Datum;Eröffnung;Hoch;Tief;Schluss;Volumen",  # onvista
        "Datum;Erster;Tageshoch;Tagestief;Schlusskurs;Stücke",  # Börse Frankfurt
        "Date;Ouverture;Plus haut;Plus bas;Clôture;Volume",  # Boursorama
        "Fecha;Apertura;Máximo;Mínimo;Cierre;Volumen",
        "Data;Apertura;Massimo;Minimo;Chiusura;Volume",
    ],
)
def test_european_exports_name_their_columns_in_their_own_language(header):
    lines = [header] + [
        f"{row.Date:%d.%m.%Y};{row.Open:.2f};{row.High:.2f};{row.Low:.2f};{row.Close:.2f};{row.Volume:.0f}".replace(
            ".", ","
        ).replace(",", ".", 2)
        for row in BARS.itertuples()
    ]
    parsed = parse("\n".join(lines).encode("utf-8"), ticker="SPX")
    assert (parsed.frame["close"].round(2) == BARS["Close"].round(2).to_numpy()).all()
    assert (parsed.frame["volume"] == BARS["Volume"].to_numpy()).all()


def with_dimension(data: bytes, reference: bytes) -> bytes:
    """The workbook with its first sheet's <dimension> tag replaced: some writers leave a wrong one."""
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content, replaced = re.subn(rb'<dimension ref="[^"]+"/>', reference, content)
                assert replaced == 1
            patched.writestr(item, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "reference",
    [b'<dimension ref="A1:F5"/>', b'<dimension ref="A1:E21"/>', b'<dimension ref="A1"/>', b""],
    ids=["too-few-rows", "too-few-columns", "one-cell", "none"],
)
def test_an_excel_sheet_is_read_whole_whatever_its_dimension_tag_says(reference):
    columns = ["Date", "Open", "High", "Low", "Close", "Volume"]
    data = with_dimension(workbook(("Prices", BARS[columns])), reference)
    parsed = parse(data, filename="SPX.xlsx")
    assert_the_fixture(parsed)
    assert (parsed.frame["volume"] == BARS["Volume"].to_numpy()).all()


def test_an_excel_sheet_with_an_empty_cell_far_to_the_right_of_each_row_still_reads():
    # Without a dimension tag openpyxl makes each row as wide as its last cell: a formatted cell in
    # column XFD would build 16,384 values a row; only the columns an upload may have are read.
    columns = ["Date", "Open", "High", "Low", "Close"]
    data = with_dimension(workbook(("Prices", BARS[columns])), b"")
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'(<row r="(\d+)"[^>]*>.*?)</row>', rb'\1<c r="XFD\2" s="0"/></row>', content)
            patched.writestr(item, content)
    table = read_excel_table(buffer.getvalue())
    assert len(table.cells.columns) == 200
    assert_the_fixture(parse(buffer.getvalue(), filename="SPX.xlsx"))


def test_a_wide_file_that_would_expand_past_the_row_bound_is_refused_before_it_is_expanded():
    tickers = [f"T{number:03d}" for number in range(100)]
    days = pd.bdate_range("1980-01-01", periods=10_001)
    body = "".join(f"{day:%Y-%m-%d}," + ",".join(["1"] * len(tickers)) + "\n" for day in days)
    data = ("Date," + ",".join(tickers) + "\n" + body).encode()
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as refused:
            parse_price_csv(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value) == (
        "the wide file holds 1,000,100 closes (100 ticker columns over 10,001 lines), more than the "
        "1,000,000 rows an upload may have: split it into several files"
    )
    assert peak < 400_000_000, "refused before a row per close is built"


def test_a_wide_file_of_as_many_closes_as_the_bound_is_read(monkeypatch):
    wide = pd.DataFrame({"Date": BARS["Date"], "SPX": BARS["Close"], "DUP": BARS["Close"]})
    wide.loc[0, "DUP"] = None
    data = wide.to_csv(index=False, date_format="%Y-%m-%d").encode()
    monkeypatch.setattr(wide_layout, "MAX_ROWS", 59)
    assert_the_fixture(parse(data))
    monkeypatch.setattr(wide_layout, "MAX_ROWS", 58)
    with pytest.raises(FileFormatError, match=r"holds 59 closes \(2 ticker columns over 30 lines\), more than the 58"):
        parse(data)


def test_a_yfinance_download_of_many_tickers_is_bounded_by_the_rows_it_makes(monkeypatch):
    monkeypatch.setattr(yfinance_layout, "MAX_ROWS", 89)
    with pytest.raises(FileFormatError, match=r"3 tickers over 30 lines make 90 rows, more than the 89 rows"):
        parse_price_csv(yfinance_csv("SPX", "DUP", "TRI"))


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("Data,Otwarcie,Najwyzszy,Najnizszy,Zamkniecie,Wolumen", 6),  # stooq.pl in Polish
        ("Date,Opening,Max,Min,Closing", 5),
        ("Date,aapl,msft", 3),
    ],
    ids=["stooq-pl", "english-words", "lower-case"],
)
def test_header_words_not_written_like_tickers_are_no_wide_file(header, columns):
    rows = [f"2018-01-0{day}," + ",".join(["2695.81"] * (columns - 1)) for day in (2, 3, 4)]
    with pytest.raises(UnrecognisedLayoutError, match="choose which column holds what") as refused:
        parse_price_csv("\n".join([header, *rows]).encode(), ticker="SPX")
    assert refused.value.columns == header.split(",")


def test_tickers_with_their_punctuation_still_make_a_wide_file():
    wide = pd.DataFrame(
        {"Date": BARS["Date"], "SPX": BARS["Close"], "^GSPC": BARS["Close"], "EURUSD=X": 1.1, "7203.T": 2.0}
    )
    parsed = parse(wide.to_csv(index=False, date_format="%Y-%m-%d").encode())
    assert sorted(pd.unique(parsed.frame["ticker"])) == ["7203.T", "EURUSD=X", "SPX", "^GSPC"]


def test_repeated_headers_each_with_a_byte_order_mark_are_dropped():
    # Two exports saved as UTF-8 with BOM and joined with cat: the second BOM starts a line in the middle.
    first = BARS.head(15).to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n")
    second = BARS.tail(15).to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n")
    data = codecs.BOM_UTF8 + first.encode() + codecs.BOM_UTF8 + second.encode()
    parsed = parse(data, ticker="SPX")
    assert "dropped 1 repeated header line (line 17)" in parsed.notes
    assert_the_fixture(parsed)


BLOOMBERG = [
    "Security,AAPL US Equity",
    "Start Date,2018-01-02",
    "End Date,2018-02-13",
    "",
    "Dates,PX_OPEN,PX_HIGH,PX_LOW,PX_LAST,PX_VOLUME",
]


def test_a_bloomberg_export_with_its_security_block_above_the_header():
    rows = [
        f"{row.Date:%Y-%m-%d},{row.Open},{row.High},{row.Low},{row.Close},{row.Volume:.0f}" for row in BARS.itertuples()
    ]
    parsed = parse("\n".join([*BLOOMBERG, *rows]).encode(), ticker="SPX")
    assert "header on line 5: the 3 lines of notes above it skipped" in parsed.notes
    assert_the_fixture(parsed)
    assert (parsed.frame["volume"] == BARS["Volume"].to_numpy()).all()


def test_an_unknown_header_below_a_metadata_block_is_offered_for_mapping():
    lines = ["Security,SPX Index", "Start Date,2018-01-02", "", "When,Level"] + [
        f"{day:%Y-%m-%d},{close}" for day, close in zip(BARS["Date"], BARS["Close"], strict=True)
    ]
    data = "\n".join(lines).encode()
    with pytest.raises(UnrecognisedLayoutError, match="line 4: layout not recognised") as refused:
        parse_price_csv(data, ticker="SPX")
    assert refused.value.columns == ["When", "Level"]
    parsed = parse(data, ticker="SPX", mapping={"date": "When", "close": "Level"})
    assert_the_fixture(parsed)


def test_a_title_cell_naming_a_date_column_does_not_stop_the_header_search():
    lines = ["Data", "Date,Open,High,Low,Close"] + [
        f"{row.Date:%Y-%m-%d},{row.Open},{row.High},{row.Low},{row.Close}" for row in BARS.itertuples()
    ]
    parsed = parse("\n".join(lines).encode(), ticker="SPX")
    assert "header on line 2: the 1 line of notes above it skipped" in parsed.notes
    assert_the_fixture(parsed)


def test_a_long_header_is_shortened_in_the_message_and_the_preview():
    names = ["Day", *(f"{'x' * 900}{number}" for number in range(150))]
    data = ("\n".join([",".join(names), "2018-01-02," + ",".join(["1"] * 150)])).encode()
    with pytest.raises(UnrecognisedLayoutError) as refused:
        parse_price_csv(data, ticker="SPX")
    assert len(str(refused.value)) < 2_000
    assert refused.value.columns == names, "the mapping names the columns as they are"
    assert refused.value.preview.map(len).max().max() <= 100


def cell_bomb(rows: int, columns: int) -> bytes:
    """A workbook whose one sheet is a grid of '1' cells under a header: kilobytes zipped, millions of cells."""
    source = zipfile.ZipFile(io.BytesIO(workbook(("Prices", BARS[["Date", "Close"]].head(1)))))
    header = b"<row>" + b'<c t="inlineStr"><is><t>Date</t></is></c>' * columns + b"</row>"
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(
                    rb"<sheetData>.*</sheetData>",
                    lambda _: b"<sheetData>" + header + row * rows + b"</sheetData>",
                    content,
                    flags=re.S,
                )
            bomb.writestr(item, content)
    return buffer.getvalue()


def test_a_small_workbook_of_millions_of_cells_is_refused_while_it_streams(monkeypatch):
    data = cell_bomb(20_000, 200)  # 4,000,200 cells in under 200 KB: openpyxl took minutes and GBs to build them
    assert len(data) < 200_000
    # A tenth of the bound, so that the test streams a tenth of the cells the bound lets through.
    monkeypatch.setattr(excel, "MAX_SHEET_CELLS", 200_000)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError) as refused:
            parse_price_csv(data, filename="SPX.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(refused.value) == (
        "the workbook holds more than the 200,000 cells a workbook may have (rows times columns: row 1,001 of a "
        "sheet 200 columns wide): delete what is not prices, or save the prices as CSV"
    )
    assert peak < 20_000_000, "refused before openpyxl builds the grid"


def test_the_cell_bound_is_the_largest_wide_file_of_one_ticker():
    # A cell in column GR of the first row, and one row numbered 10,001: openpyxl would build 2,000,200 values.
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c><c r="GR1"><v>1</v></c></row>'
    source = zipfile.ZipFile(io.BytesIO(workbook(("Prices", BARS[["Date", "Close"]].head(1)))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                rows = header + b'<row r="10001"><c r="A10001"><v>1</v></c></row>'
                content = re.sub(
                    rb"<sheetData>.*</sheetData>", b"<sheetData>" + rows + b"</sheetData>", content, flags=re.S
                )
                content = re.sub(rb"<dimension[^>]*/>", b"", content)
            bomb.writestr(item, content)
    assert excel.MAX_SHEET_CELLS == 2 * 1_000_000
    with pytest.raises(FileFormatError, match=r"more than the 2,000,000 cells .*row 10,001 of a sheet 200 columns"):
        parse_price_csv(buffer.getvalue(), filename="SPX.xlsx")


def test_a_sheet_is_bounded_by_its_rows_times_its_widest_row(monkeypatch):
    # Two cells a row, one in column A and one in column CV: openpyxl would build 100 values a row.
    monkeypatch.setattr(excel, "MAX_SHEET_CELLS", 1_000)
    data = with_dimension(workbook(("Prices", BARS[["Date", "Close"]])), b"")
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'(<row r="(\d+)"[^>]*>.*?)</row>', rb'\1<c r="CV\2"><v>1</v></c></row>', content)
            patched.writestr(item, content)
    grid = r"more than the 1,000 cells a workbook may have \(rows times columns: row 11 of a sheet 100 columns wide\)"
    with pytest.raises(FileFormatError, match=grid):
        parse_price_csv(buffer.getvalue(), filename="SPX.xlsx", ticker="SPX")
    monkeypatch.setattr(excel, "MAX_SHEET_CELLS", 31 * 100)
    assert_the_fixture(parse(buffer.getvalue(), filename="SPX.xlsx", ticker="SPX"))


def test_a_workbook_whose_first_sheet_is_no_prices_names_its_other_sheets():
    notes = pd.DataFrame({"Read me": ["Prices are on the next sheet"]})
    data = workbook(("Notes", notes), ("Prices", BARS), ("Chart data", BARS.head(2)))
    with pytest.raises(UnrecognisedLayoutError) as refused:
        parse_price_csv(data, filename="SPX.xlsx")
    assert str(refused.value).endswith(
        "; the workbook also has sheets 'Prices', 'Chart data': choose the sheet to read"
    )
    assert_the_fixture(parse(data, filename="SPX.xlsx", sheet="Prices"))
    with pytest.raises(UnrecognisedLayoutError) as chosen:
        parse_price_csv(data, filename="SPX.xlsx", sheet="Notes")
    assert "also has sheets" not in str(chosen.value), "a sheet chosen is the one meant"


def test_a_refinitiv_eikon_export_with_its_exchange_date_and_month_names():
    lines = ["Exchange Date,Close,Net,%Chg,Open,Low,High,Volume,Turnover - USD,Flow"] + [
        f"{row.Date:%d-%b-%Y},{row.Close},0,0%,{row.Open},{row.Low},{row.High},{row.Volume},,"
        for row in BARS.iloc[::-1].itertuples()
    ]
    parsed = parse("\n".join(lines).encode(), ticker="SPX")
    assert_the_fixture(parsed)
    assert "dates read as %d-%b-%Y" in parsed.notes
    two_digit = [line.replace("-2018,", "-18,") for line in lines]
    assert_the_fixture(parse("\n".join(two_digit).encode(), ticker="SPX"))


def test_a_wide_file_says_once_that_volume_is_0():
    wide = pd.DataFrame({"Date": BARS["Date"], "SPX": BARS["Close"], "DUP": BARS["Close"]})
    parsed = parse(wide.to_csv(index=False, date_format="%Y-%m-%d").encode())
    assert "closes only: open, high and low are the close" in parsed.notes
    assert [note for note in parsed.notes if "volume" in note] == ["no volume column: volume is 0"]


def sheet_stored_as(part: str, sheet_data: bytes, *, root: bytes = b"worksheet", prolog: bytes = b"") -> bytes:
    """A one-sheet workbook whose sheet part is named `part`, the workbook's relationships pointing to it.

    openpyxl opens a sheet wherever the relationships say, whatever the part's name or its root element.
    """
    source = zipfile.ZipFile(io.BytesIO(workbook(("Prices", BARS[["Date", "Close"]].head(1)))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in source.infolist():
            content = source.read(item.filename)
            name = item.filename
            if name == "xl/worksheets/sheet1.xml":
                name = part
                content = re.sub(rb"<sheetData>.*</sheetData>", lambda _: sheet_data, content, flags=re.S)
                content = re.sub(rb"<dimension[^>]*/>", b"", content)
                content = prolog + re.sub(rb"^<\?xml[^>]*\?>", b"", content).replace(b"worksheet", root)
            else:
                content = content.replace(b"worksheets/sheet1.xml", part.removeprefix("xl/").encode())
            patched.writestr(name, content)
    return buffer.getvalue()


def rows_out_to_xfd(count: int) -> bytes:
    """A header, then rows of one cell each in Excel's last column: openpyxl builds 16,384 values a row."""
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c>'
    header += b'<c r="B1" t="inlineStr"><is><t>Close</t></is></c></row>'
    rows = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (number, number) for number in range(2, count + 2))
    return b"<sheetData>" + header + rows + b"</sheetData>"


XFD_GRID = r"more than the 2,000,000 cells a workbook may have \(rows times columns: row 123 of a sheet 16,384 columns"


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.bin", "xl/worksheets/sheet1"])
def test_a_sheet_is_measured_before_it_is_read_whatever_its_part_is_named(part):
    data = sheet_stored_as(part, rows_out_to_xfd(3_000))
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo(part)
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=XFD_GRID):
            read_table(data, filename="SPX.xlsx")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, "refused before openpyxl builds the rows"


def test_a_sheet_part_the_size_check_cannot_measure_is_refused_not_read():
    # openpyxl reads the rows of whatever part the relationships name as a sheet, whatever its root element.
    data = sheet_stored_as("xl/worksheets/sheet1.xml", rows_out_to_xfd(3), root=b"notasheet")
    with pytest.raises(FileFormatError) as refused:
        read_table(data, filename="SPX.xlsx")
    assert str(refused.value) == (
        "sheet 'Prices' is stored in a part that is no worksheet the upload can check "
        "('xl/worksheets/sheet1.xml'): save the workbook from Excel again, or save the prices as CSV"
    )


@pytest.mark.parametrize("encoding", ["x-no-such-encoding", "Shift_JIS"])
def test_a_sheet_in_an_encoding_the_xml_reader_lacks_is_refused_as_unreadable(encoding):
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
    data = sheet_stored_as("xl/worksheets/sheet1.bin", rows_out_to_xfd(3), prolog=prolog)
    with pytest.raises(FileFormatError, match=r"^the file is not a readable Excel workbook \("):
        read_table(data, filename="SPX.xlsx")


def with_damaged_part(data: bytes, name: str, content: bytes | None = None) -> bytes:
    """The workbook with part `name` (added when content is given) damaged inside its compressed stream."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as patched:
        for item in source.infolist():
            patched.writestr(item, source.read(item.filename))
        if content is not None:
            patched.writestr(name, content)
    damaged = bytearray(buffer.getvalue())
    item = zipfile.ZipFile(io.BytesIO(bytes(damaged))).getinfo(name)
    start = item.header_offset + 30 + len(item.filename.encode()) + len(item.extra)
    for offset in range(start + 10, start + min(200, item.compress_size - 10)):
        damaged[offset] ^= 0x5A
    return bytes(damaged)


def test_a_damaged_image_that_a_read_only_workbook_never_opens_leaves_the_prices_readable():
    image = random.Random(7).randbytes(1_000) * 50
    data = with_damaged_part(workbook(("Prices", BARS)), "xl/media/image1.png", image)
    assert_the_fixture(parse(data, filename="SPX.xlsx"))


def test_a_damaged_sheet_is_refused_as_unreadable():
    data = with_damaged_part(workbook(("Prices", BARS)), "xl/worksheets/sheet1.xml")
    with pytest.raises(
        FileFormatError, match=r"^the file is not a readable Excel workbook \(damaged compressed data\)$"
    ):
        read_table(data, filename="SPX.xlsx")
