"""Files that are not price tables, or are hostile: each is refused with a message naming the problem."""

import codecs
import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from core.data.csv_prices import parse_price_csv
from core.data.errors import FileFormatError
from core.data.tickers import parse_ticker_file
from tests.fixtures import gspc_2018_bytes

TEXT = gspc_2018_bytes().decode("utf-8")


def zipped_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("prices.csv", TEXT)
    return buffer.getvalue()


def long_field_csv() -> bytes:
    lines = TEXT.splitlines()
    lines[3] = lines[3] + "," + "x" * 200_000
    return "\n".join(lines).encode()


BAD_FILES = {
    "a program": (Path("/bin/ls").read_bytes()[:300_000], "binary"),
    "a zip renamed .csv": (zipped_csv(), "zip archive"),
    "UTF-16 with an odd byte count": (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le") + b"\x00", "odd number of bytes"),
    "UTF-8 BOM then invalid bytes": (codecs.BOM_UTF8 + b"Date,Open\xff\xfe,High\n", "not UTF-8"),
    "a 200 KB field": (long_field_csv(), "line 4"),
    # A saved page, or a site's "Too many requests" page saved under .csv.
    "a web page": (b"\xef\xbb\xbf\n  <!DOCTYPE html>\n<html><body>Too many requests</body></html>", "web page (HTML)"),
    "a chart API's JSON": (b'{"chart": {"result": [{"timestamp": [1546300800]}]}}', "JSON data"),
    "XML": (b'<?xml version="1.0"?><prices/>', "XML document"),
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_price_file_that_is_not_text_is_named(name):
    data, words = BAD_FILES[name]
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(data, ticker="SPX")
    assert words in str(raised.value)


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_ticker_list_that_is_not_text_is_named(name):
    data, words = BAD_FILES[name]
    if name == "a 200 KB field":
        data = b"Ticker,Note\nMSFT,ok\nAAPL," + b"y" * 200_000 + b"\n"
        words = "line 3"
    tickers, problems = parse_ticker_file(data)
    assert tickers == []
    assert len(problems) == 1
    assert words in problems[0]


def test_an_impossible_date_format_is_named():
    with pytest.raises(FileFormatError, match=r"date format '%Q'"):
        parse_price_csv(gspc_2018_bytes(), ticker="SPX", date_format="%Q")


def test_a_date_format_without_a_day_is_named():
    with pytest.raises(FileFormatError, match=r"date format 'Y'"):
        parse_price_csv(gspc_2018_bytes(), ticker="SPX", date_format="Y")


def test_a_file_over_the_byte_bound_is_refused_before_reading():
    with pytest.raises(FileFormatError, match=r"larger than the 1 KB"):
        parse_price_csv(gspc_2018_bytes(), ticker="SPX", max_bytes=1024)


def test_a_file_over_the_row_bound_is_refused_before_parsing():
    with pytest.raises(FileFormatError, match=r"more than the 100 rows"):
        parse_price_csv(gspc_2018_bytes(), ticker="SPX", max_rows=100)


def test_a_file_past_the_row_bound_is_refused_without_reading_it():
    data = b"Date,Open,High,Low,Close,Volume\n" + b"2018-01-02,1,2,0.5,1,100\n" * 200_000
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"200,001 lines, more than the 100,000 rows"):
            parse_price_csv(data, ticker="BIG", max_rows=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(data) / 10, "refusing must not copy or decode the file"


def yahoo_lines(count: int) -> list[str]:
    return TEXT.splitlines()[: count + 1]


def with_volumes_written_with_commas(lines: list[str]) -> str:
    # A spreadsheet saved as CSV without quotes: "4,096,610,000" splits into four fields.
    rows = [line.rsplit(",", 1) for line in lines[1:]]
    return "\n".join([lines[0]] + [f"{row},{int(volume):,}" for row, volume in rows])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Date,Close,Volume\n2018-12-27,2,488.83,4096610000\n", "line 2 has 4 fields, the header has 3"),
        (with_volumes_written_with_commas(yahoo_lines(3)), "line 2 has 10 fields, the header has 7"),
        (
            "\n".join([*yahoo_lines(251)[:250], yahoo_lines(251)[250] + ",1"]),
            "line 251 has 8 fields, the header has 7",
        ),
        (
            "S&P 500 prices\n" + with_volumes_written_with_commas(yahoo_lines(3)),
            "line 3 has 10 fields, the header has 7",
        ),
    ],
    ids=["close with a thousands comma", "yahoo volumes with commas", "past the first 200 lines", "below a title"],
)
def test_a_row_with_more_fields_than_its_header_is_refused(text, message):
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(text.encode(), ticker="SPX")
    assert message in str(raised.value)


def test_a_short_file_with_a_million_columns_is_refused_before_it_is_split():
    data = b"Date,Close\n2018-12-31," + b"1," * 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"line 2 has 1,000,002 fields, more than the 200 columns"):
            parse_price_csv(data, ticker="SPX")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(data), "refusing must not build a cell per field"


def test_a_wide_line_past_the_first_lines_is_refused_too():
    data = "\n".join(yahoo_lines(251)) + "\n2019-01-02," + "1," * 5_000 + "\n"
    with pytest.raises(FileFormatError, match=r"line 253 has 5,002 fields, the header has 7"):
        parse_price_csv(data.encode(), ticker="SPX")


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_the_row_bound_counts_every_kind_of_line_ending(ending):
    data = TEXT.replace("\n", ending).encode()
    with pytest.raises(FileFormatError, match=r"more than the 100 rows"):
        parse_price_csv(data, ticker="SPX", max_rows=100)
    assert len(parse_price_csv(data, ticker="SPX").frame) == 251


@pytest.mark.parametrize(
    ("date_format", "message"),
    [
        ("%d.%d.%Y", "date format '%d.%d.%Y': it uses %d twice"),
        ("%d.%M.%Y", "date format '%d.%M.%Y': %M is a time code (minutes), not a date's; the month is %m"),
        ("%H:%M %d.%m.%Y", "date format '%H:%M %d.%m.%Y': %H is a time code (hours), not a date's; a time of day"),
        ("%d %Y", "date format '%d %Y': it needs a month (%m, %b or %B)"),
    ],
)
def test_a_date_format_that_cannot_name_a_day_is_refused(date_format, message):
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(gspc_2018_bytes(), ticker="SPX", date_format=date_format)
    assert message in str(raised.value)
