"""Price CSVs in Yahoo's layout and its common variants."""

import io

import openpyxl
import pytest

from core.data.csv_prices import parse_price_csv, propose_ticker
from core.data.errors import FileFormatError
from core.data.validation import validate_prices
from tests.fixtures import gspc_2018_bytes

TEXT = gspc_2018_bytes().decode("utf-8")


def parse(data: bytes, **options):
    parsed = parse_price_csv(data, **({"ticker": "^GSPC"} | options))
    report, _ = validate_prices(parsed.frame, raw_date_column="raw_date")
    return parsed, report


def first_row(parsed) -> dict:
    return parsed.frame.iloc[0].to_dict()


def test_yahoo_layout_reads_every_row():
    parsed, report = parse(gspc_2018_bytes())
    assert report.ok
    assert len(parsed.frame) == 251
    row = first_row(parsed)
    assert (row["line"], str(row["date"].date()), row["open"], row["volume"]) == (
        2,
        "2018-01-02",
        2683.72998,
        3367250000,
    )
    assert parsed.frame["line"].iloc[-1] == 252


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
    ],
)
def test_each_encoding(encoding, expected):
    parsed, report = parse(TEXT.encode(encoding))
    assert parsed.encoding == expected
    assert report.ok
    assert first_row(parsed)["close"] == 2695.810059


def test_latin_1_with_accented_headers():
    text = TEXT.replace("Volume", "Volume,Remarque", 1).replace("\n2018-01-02,", "\n2018-01-02,", 1)
    lines = text.splitlines()
    lines = [lines[0]] + [line + ",clôture élevée" for line in lines[1:]]
    parsed, report = parse("\n".join(lines).encode("latin-1"))
    assert parsed.encoding == "latin-1"
    assert report.ok


def test_semicolons_and_decimal_commas():
    text = TEXT.replace(",", ";").replace(".", ",")
    parsed, report = parse(text.encode())
    assert parsed.separator == ";"
    assert report.ok
    assert first_row(parsed)["high"] == 2695.889893


def test_header_case_spacing_and_aliases():
    text = TEXT.replace(
        "Date,Open,High,Low,Close,Adj Close,Volume", " DATE , open,HIGH , Low,close , adj_close ,VOLUME "
    )
    parsed, report = parse(text.encode())
    assert report.ok
    assert first_row(parsed)["adjusted_close"] == 2695.810059


def test_without_adjusted_close_the_close_is_used():
    lines = [",".join(cells[:5] + cells[6:]) for cells in (line.split(",") for line in TEXT.splitlines())]
    parsed, report = parse("\n".join(lines).encode())
    assert report.ok
    assert (parsed.frame["adjusted_close"] == parsed.frame["close"]).all()
    assert parsed.notes == ("no adjusted close column: the close is used",)


def test_dates_both_ways_readable_are_read_day_first_in_a_decimal_comma_file_and_said_to_be_ambiguous():
    # 05/01 and 08/01: January in Frankfurt, May and August in New York. Every day here is 12 or less.
    european, report = parse(b"Date;Close\n05/01/2024;1,5\n08/01/2024;1,6\n")
    assert report.ok
    assert [str(day.date()) for day in european.frame["date"]] == ["2024-01-05", "2024-01-08"]
    assert (
        "dates read as %d/%m/%Y (day first, as files with decimal commas write them); every date here also reads "
        "as %m/%d/%Y: state that format if it is the one"
    ) in european.notes
    american, _ = parse(b"Date,Close\n05/01/2024,1.5\n08/01/2024,1.6\n")
    assert [str(day.date()) for day in american.frame["date"]] == ["2024-05-01", "2024-08-01"]
    assert (
        "dates read as %m/%d/%Y (month first); every date here also reads as %d/%m/%Y: state that format if it is "
        "the one"
    ) in american.notes


def test_day_first_dates_are_recognised_or_stated():
    lines = TEXT.splitlines()
    day_first = [lines[0]] + [f"{line[8:10]}/{line[5:7]}/{line[:4]}{line[10:]}" for line in lines[1:]]
    data = "\n".join(day_first).encode()
    parsed, report = parse(data)
    assert report.ok
    assert "dates read as %d/%m/%Y" in parsed.notes
    assert str(first_row(parsed)["date"].date()) == "2018-01-02"
    _, report = parse(data, date_format="%Y/%m/%d")
    assert report.counts == {"unparseable date": 251}
    parsed, report = parse(data, date_format="%d/%m/%Y")
    assert report.ok
    assert str(first_row(parsed)["date"].date()) == "2018-01-02"


def test_blank_lines_keep_true_line_numbers():
    lines = TEXT.splitlines()
    text = "\n".join([lines[0], "", lines[1], "   ", lines[2].replace("2018-01-03", "2018-13-03")])
    parsed, report = parse(text.encode())
    assert list(parsed.frame["line"]) == [3, 5]
    assert [(o.line, o.rules) for o in report.examples] == [(5, ("unparseable date",))]


def test_a_ticker_column_serves_several_tickers():
    lines = TEXT.splitlines()[:3]
    text = "\n".join(
        ["Ticker," + lines[0]] + [f"msft,{line}" for line in lines[1:]] + [f"AAPL,{line}" for line in lines[1:]]
    )
    parsed = parse_price_csv(text.encode())
    assert list(parsed.frame["ticker"]) == ["AAPL", "AAPL", "MSFT", "MSFT"]
    assert parsed.layout == "long file with a ticker column"


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"", {}, "the file is empty"),
        (b"Date,Open,High,Low\n2018-01-02,1,2,0.5\n", {}, "missing column close; the header has"),
        (b"When,Price\n2018-01-02,1\n", {}, "line 1: layout not recognised, missing columns date, close;"),
        (b"Date,Open,High,Low,Close\n", {}, "a header but no rows"),
        (b"Date,Open,High,Low,Close\n2018-01-02,1,2,0.5,1\n", {"ticker": None}, "no ticker"),
        (
            b"Date,Open,High,Low,Close\n2018-01-02,1,2,0.5,1\n",
            {"ticker": "$$$"},
            "ticker: '$$$' is not a ticker",
        ),
    ],
)
def test_file_level_problems_are_named(data, options, message):
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(data, **({"ticker": "X"} | options))
    assert message in str(raised.value)


def german(text: str) -> str:
    """The fixture as a German spreadsheet writes it: ';' between fields, '2.695,81' for 2695.81."""
    lines = [line.split(",") for line in text.splitlines()]
    rows = [[cells[0]] + [f"{float(cell):,.2f}" for cell in cells[1:6]] + [f"{int(cells[6]):,}"] for cells in lines[1:]]
    swapped = [[cell.replace(",", "_").replace(".", ",").replace("_", ".") for cell in row] for row in rows]
    return "\n".join(";".join(row) for row in [lines[0], *swapped])


def test_dot_thousands_in_a_semicolon_file_are_read_as_thousands_in_every_cell():
    text = german(TEXT)
    assert text.splitlines()[1] == "2018-01-02;2.683,73;2.695,89;2.682,36;2.695,81;2.695,81;3.367.250.000"
    parsed, report = parse(text.encode())
    assert report.ok
    assert first_row(parsed)["volume"] == 3_367_250_000
    assert first_row(parsed)["close"] == 2695.81


def test_a_column_of_whole_numbers_follows_the_files_decimal_comma():
    text = (
        "Date;Open;High;Low;Close;Volume\n"
        "15.11.2018;1.234;1.240;1.230;1.235;397.518\n"
        "16.11.2018;1.236;1.246,5;1.232;1.240;4.179.140\n"
    )
    parsed, report = parse(text.encode())
    assert report.ok
    assert parsed.frame["open"].tolist() == [1234, 1236]
    assert parsed.frame["high"].tolist() == [1240, 1246.5]
    assert parsed.frame["volume"].tolist() == [397_518, 4_179_140]


def test_a_semicolon_file_with_decimal_points_keeps_them():
    parsed, report = parse(TEXT.replace(",", ";").encode())
    assert report.ok
    assert first_row(parsed)["high"] == 2695.889893


def test_a_column_mixing_decimal_marks_is_refused_naming_the_lines():
    text = "Date;Close\n15.11.2018;1.246,5\n16.11.2018;1247.25\n"
    with pytest.raises(FileFormatError) as raised:
        parse(text.encode())
    assert "close: line 2 has '1.246,5' with a decimal comma, line 3 has '1247.25' with a decimal point" in str(
        raised.value
    )


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_title_above_a_semicolon_or_tab_file(separator):
    data = ("S&P 500 daily prices\n" + TEXT.replace(",", separator)).encode()
    parsed, report = parse(data)
    assert parsed.separator == separator
    assert report.ok
    assert len(parsed.frame) == 251
    assert "header on line 2: the 1 line of notes above it skipped" in parsed.notes


@pytest.mark.parametrize("marker", ["N/A", "--", "", "-"])
def test_a_volume_marked_missing_is_zero_with_a_note(marker):
    lines = TEXT.splitlines()[:3]
    text = "\n".join([lines[0]] + [line.rsplit(",", 1)[0] + "," + marker for line in lines[1:]])
    parsed, report = parse(text.encode())
    assert report.ok
    assert parsed.frame["volume"].tolist() == [0, 0]
    shown = repr(marker) if marker else "blank"
    assert f"volume {shown} read as 0 on 2 days" in parsed.notes


def test_a_quoted_cell_over_several_lines_keeps_the_file_lines_of_the_rows_below():
    text = 'Date,Close,Note\n2018-12-27,10,"multi\nline\nnote"\n2018-12-28,11,x\n2018-12-31,-5,x\n'
    parsed, report = parse(text.encode())
    assert list(parsed.frame["line"]) == [2, 5, 6]
    assert [example.line for example in report.examples] == [6]


def test_a_semicolon_file_whose_numbers_do_not_show_their_decimal_mark_reads_points_and_says_so():
    # EURUSD=X to three decimals: nothing in the file says '.' separates thousands, so it is the decimal point.
    parsed, report = parse(b"Date;Open;High;Low;Close\n2024-01-02;1.095;1.099;1.091;1.094\n", ticker="EURUSD=X")
    assert report.ok
    assert parsed.frame["close"].tolist() == [1.094]
    assert parsed.frame["high"].tolist() == [1.099]
    assert (
        "no number shows its decimal mark: '.' read as the decimal point (close '1.094' as 1.094); a decimal "
        "comma or a number like 1.234.567 anywhere in the file would have made it a thousands separator"
    ) in parsed.notes


def test_a_number_with_two_dot_groups_makes_the_dots_of_a_semicolon_file_thousands():
    parsed, report = parse(b"Date;Close;Volume\n2018-11-15;2.730;1.234.567\n2018-11-16;2.736;397.518\n")
    assert report.ok
    assert parsed.frame["close"].tolist() == [2730, 2736]
    assert parsed.frame["volume"].tolist() == [1_234_567, 397_518]
    assert (
        "'.' read as a thousands separator in close ('2.730' as 2730), as volume shows it ('1.234.567')" in parsed.notes
    )


def test_a_decimal_comma_in_a_comma_separated_file_makes_the_dots_of_other_columns_thousands():
    # Google Sheets' CSV download in a German locale: decimal commas quoted, volumes dotted.
    text = (
        "Date,Open,High,Low,Close,Volume\n"
        '2024-01-02,"123,45","125,10","122,00","124,00","812.345"\n'
        '2024-01-03,"124,00","126,00","123,50","125,50","901.234"\n'
    )
    parsed, report = parse(text.encode(), ticker="MSFT")
    assert report.ok
    assert parsed.frame["volume"].tolist() == [812_345, 901_234]
    assert parsed.frame["open"].tolist() == [123.45, 124.0]
    assert (
        "'.' read as a thousands separator in volume ('812.345' as 812345), as close shows a decimal comma ('124,00')"
    ) in parsed.notes


def test_a_workbooks_text_cells_with_a_decimal_comma_make_the_dots_of_other_columns_thousands():
    book = openpyxl.Workbook()
    book.active.append(["Datum", "Schluss", "Volumen"])
    book.active.append(["02.01.2024", "1.234,56", "1.234"])
    book.active.append(["03.01.2024", "1.240,00", "2.345"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed, report = parse(buffer.getvalue(), ticker="SAP", filename="SAP.xlsx")
    assert report.ok
    assert parsed.frame["close"].tolist() == [1234.56, 1240.0]
    assert parsed.frame["volume"].tolist() == [1234, 2345]


# onvista's export of a stock under 10 EUR: prices to three decimals, each of which reads as a thousand too.
XETRA_THREE_DECIMALS = (
    "Datum;Eröffnung;Hoch;Tief;Schluss;Volumen\n"
    "02.01.2024;6,650;6,782;6,604;6,742;11452731\n"
    "03.01.2024;6,700;6,716;6,548;6,590;9382441\n"
)


def test_a_semicolon_file_of_three_decimal_prices_reads_their_commas_as_decimal_marks_and_says_so():
    parsed, report = parse(XETRA_THREE_DECIMALS.encode(), ticker="LHA.DE")
    assert report.ok
    assert parsed.frame["close"].tolist() == [6.742, 6.59]
    assert parsed.frame["open"].tolist() == [6.65, 6.7]
    assert parsed.frame["volume"].tolist() == [11_452_731, 9_382_441]
    assert (
        "',' read as the decimal mark in close, open, high, low ('6,742' as 6.742), as usual in files with ';' "
        "between fields; a decimal point anywhere in the file would have made it a thousands separator"
    ) in parsed.notes


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Date\tClose\n2024-01-02\t6,742\n2024-01-03\t6,590\n", "as usual in files with tabs between fields"),
        ('Datum,Schluss\n02.01.2024,"6,742"\n03.01.2024,"6,590"\n', "as usual in files dated like '02.01.2024'"),
        (
            'Date,Close,Adj Close\n2024-01-02,"6,742","6,65"\n2024-01-03,"6,590","6,5"\n',
            "as adjusted_close shows a decimal comma ('6,65')",
        ),
        (
            'Date,Close,Volume\n2024-01-02,"6,742","11.452.731"\n2024-01-03,"6,590",9382441\n',
            "as volume shows '.' grouping thousands ('11.452.731')",
        ),
    ],
    ids=["tabs", "dotted-dates", "decimal-comma-elsewhere", "dot-groups-elsewhere"],
)
def test_what_else_the_file_shows_makes_a_comma_that_reads_both_ways_a_decimal_mark(text, why):
    parsed, report = parse(text.encode(), ticker="LHA.DE")
    assert report.ok
    assert parsed.frame["close"].tolist() == [6.742, 6.59]
    assert any(
        note.startswith("',' read as the decimal mark in close ('6,742' as 6.742), " + why) for note in parsed.notes
    )


def test_a_comma_separated_file_of_quoted_thousands_reads_them_as_thousands_and_says_so():
    text = 'Date,Open,High,Low,Close,Volume\n2024-01-02,"1,234","1,240","1,230","1,235",100\n'
    parsed, report = parse(text.encode(), ticker="BRK-A")
    assert report.ok
    assert parsed.frame["open"].tolist() == [1234]
    assert parsed.frame["close"].tolist() == [1235]
    assert (
        "',' read as a thousands separator in close, open, high, low ('1,235' as 1235): no number shows its "
        "decimal mark; a decimal comma like '1,5', ';' or tabs between fields, or dates like 31.01.2024 would "
        "have made it the decimal mark"
    ) in parsed.notes


def test_a_decimal_point_elsewhere_makes_a_comma_that_reads_both_ways_a_thousands_separator_even_between_semicolons():
    parsed, report = parse(b"Date;Close;Volume\n2024-01-02;185.6;1,234\n2024-01-03;184.2;2,345\n", ticker="AAPL")
    assert report.ok
    assert parsed.frame["close"].tolist() == [185.6, 184.2]
    assert parsed.frame["volume"].tolist() == [1234, 2345]
    assert (
        "',' read as a thousands separator in volume ('1,234' as 1234), as close shows a decimal point ('185.6')"
    ) in parsed.notes


YFINANCE_HISTORY_ACROSS_DST = (
    "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
    "2024-03-08 00:00:00-05:00,169.15,170.73,168.49,170.73,76114600,0.0,0.0\n"
    "2024-03-11 00:00:00-04:00,172.94,174.38,172.05,172.75,60139500,0.0,0.0\n"
)


def test_a_yfinance_history_across_a_change_of_utc_offset_keeps_each_rows_date():
    parsed, report = parse(YFINANCE_HISTORY_ACROSS_DST.encode(), ticker="AAPL")
    assert report.ok
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-03-08", "2024-03-11"]


def test_utc_marked_and_plain_dates_in_one_file_keep_their_dates():
    parsed, report = parse(b"Date,Close\n2024-03-08T00:00:00Z,1\n2024-03-11,2\n2024-03-12 00:00:00+01:00,3\n")
    assert report.ok
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-03-08", "2024-03-11", "2024-03-12"]


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("Date,Close,Volume\n1/2/2024 16:00:00,185.64,82488700\n1/3/2024 16:00:00,184.25,58414500\n", {}),
        (
            "Date,Close,Volume\n1/2/2024 16:00:00,185.64,82488700\n1/3/2024 16:00:00,184.25,58414500\n",
            {"date_format": "%m/%d/%Y %H:%M:%S"},
        ),
        ("Datum;Schluss;Volumen\n02.01.2024 00:00;185,64;100\n03.01.2024 00:00;184,25;100\n", {}),
        (
            "Datum;Schluss;Volumen\n02.01.2024 00:00;185,64;100\n03.01.2024 00:00;184,25;100\n",
            {"date_format": "%d.%m.%Y %H:%M"},
        ),
    ],
    ids=["GOOGLEFINANCE", "GOOGLEFINANCE stated", "German Excel", "German Excel stated"],
)  # fmt: skip
def test_daily_rows_with_a_time_of_day_read_as_their_dates(text, options):
    parsed, report = parse(text.encode(), ticker="AAPL", **options)
    assert report.ok
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-01-02", "2024-01-03"]
    assert parsed.frame["close"].tolist() == [185.64, 184.25]


def test_a_time_of_day_other_than_midnight_is_said_to_be_left_out():
    parsed, _ = parse(b"Date,Close\n1/2/2024 16:00:00,185.64\n1/3/2024 16:00:00,184.25\n")
    assert "the time of day on the dates (16:00) left out: one row is one day" in parsed.notes
    midnight, _ = parse(b"Date,Close\n2024-03-08 00:00:00-05:00,1\n2024-03-11 00:00:00-04:00,2\n")
    assert not any("time of day" in note for note in midnight.notes)


@pytest.mark.parametrize(
    "text",
    [
        "Datetime,Close\n2024-01-02T14:30:00Z,185.64\n2024-01-02T15:30:00Z,185.50\n",
        "Date,Close\n1/2/2024 9:30:00,185.64\n1/2/2024 10:30:00,185.50\n",
    ],
)
def test_intraday_rows_are_refused_naming_the_lines(text):
    with pytest.raises(FileFormatError) as raised:
        parse_price_csv(text.encode(), ticker="AAPL")
    assert "lines 2 and 3 are both dated 2024-01-02, at different times" in str(raised.value)
    assert "intraday" in str(raised.value)


def test_one_time_a_day_per_ticker_in_a_long_file_is_daily():
    text = "Date,Ticker,Close\n2024-01-02 16:00,AAPL,1\n2024-01-02 15:00,7203.T,2\n2024-01-03 16:00,AAPL,3\n"
    parsed, report = parse(text.encode(), ticker=None)
    assert report.ok
    assert len(parsed.frame) == 3


@pytest.mark.parametrize(
    ("filename", "ticker"),
    [
        # Investing.com names a download after the instrument's name or a pair, not its ticker...
        ("Apple Stock Price History.csv", None), ("EUR_USD Historical Data.csv", None),
        ("Bitcoin Historical Data.csv", None),
        # ...spreadsheets after their default workbook (English, German, French), Google Sheets after the title.
        ("Book1.csv", None), ("Mappe1.xlsx", None), ("Classeur1.csv", None), ("book2.xlsx", None),
        ("My portfolio - Sheet1.csv", None), ("my portfolio.csv", None),
        # A ticker named by the file still is.
        ("AAPL.csv", "AAPL"), ("BRK-B.csv", "BRK-B"), ("^GSPC.csv", "^GSPC"), ("VOD.L_daily.csv", "VOD.L"),
        ("aapl (1).csv", "AAPL"), ("AAPL Historical Data.csv", "AAPL"), ("aapl_us_d.csv", "AAPL"),
        ("spx_d.csv", "SPX"), ("AAPL - Sheet1.csv", "AAPL"), ("MSFT 2020-2024.csv", "MSFT"),
        ("AAPL - Copy.csv", "AAPL"),
    ],
)  # fmt: skip
def test_vendor_and_default_file_names_give_no_ticker(filename, ticker):
    assert propose_ticker(filename) == ticker


def test_a_file_named_by_a_vendor_asks_for_the_ticker():
    with pytest.raises(FileFormatError, match=r"no ticker: the file name 'Bitcoin Historical Data.csv' names none"):
        parse_price_csv(b"Date,Close\n2024-01-02,1\n", filename="Bitcoin Historical Data.csv")


@pytest.mark.parametrize("written", ["2", "2:1", "2/1"])
def test_splits_a_file_reports_without_an_adjusted_close_adjust_the_closes_before_them(written):
    # A 2:1 split on the third day: the raw close halves, the adjusted close must not.
    text = "\n".join(
        [
            "Date,Open,High,Low,Close,Volume,Stock Splits",
            "2024-01-02,100,101,99,100,10,0",
            "2024-01-03,101,103,100,102,10,0",
            f"2024-01-04,51,52,50,51.5,20,{written}",
            "2024-01-05,52,53,51,52,20,0",
        ]
    )
    parsed = parse_price_csv(text.encode(), ticker="SPLT")
    assert list(parsed.frame["close"]) == [100, 102, 51.5, 52]
    assert list(parsed.frame["adjusted_close"]) == [50, 51, 51.5, 52]
    assert "no adjusted close column: the close, divided by the 1 split the file reports on the days before it" in (
        parsed.notes
    )
    assert list(parsed.events["split"]) == [0, 0, 2, 0]


def split_file(close: list[float], *, adjusted: list[float] | None = None, written: str = "2") -> bytes:
    """Four days with a 2:1 split reported on the third; the close and adjusted columns as given."""
    header = "Date,Close,Volume,Stock Splits" + (",Adj Close" if adjusted else "")
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    rows = [
        ",".join(
            [day, str(value), "10", written if number == 2 else "0", *([str(adjusted[number])] if adjusted else [])]
        )
        for number, (day, value) in enumerate(zip(days, close, strict=True))
    ]
    return "\n".join([header, *rows]).encode()


def test_a_yfinance_history_whose_close_already_runs_through_its_split_is_not_divided_again():
    # yfinance's history() writes split-adjusted closes beside the Stock Splits it reports.
    parsed = parse_price_csv(split_file([50, 51, 51.5, 52]), ticker="SPLT")
    assert list(parsed.frame["adjusted_close"]) == [50, 51, 51.5, 52]
    assert "no adjusted close column: the close is used; it already runs through the 1 split the file reports" in (
        parsed.notes
    )


def test_an_adjusted_close_that_leaves_a_reported_split_in_is_divided_by_it():
    parsed = parse_price_csv(split_file([100, 102, 51.5, 52], adjusted=[99, 101, 51, 51.5]), ticker="SPLT")
    assert list(parsed.frame["adjusted_close"]) == [49.5, 50.5, 51, 51.5]
    assert "the adjusted close falls by the 1 split the file reports: divided by it on the days before" in parsed.notes


def test_an_adjusted_close_that_runs_through_a_reported_split_is_kept():
    parsed = parse_price_csv(split_file([100, 102, 51.5, 52], adjusted=[49.5, 50.5, 51, 51.5]), ticker="SPLT")
    assert list(parsed.frame["adjusted_close"]) == [49.5, 50.5, 51, 51.5]
    assert not any("split" in note for note in parsed.notes)


LONG_FILE = "\n".join(
    [
        "Ticker,Date,Close",
        "AAA,2024-01-02,10",
        "BBB,2024-01-02,20",
        "AAA,2024-01-03,11",
        "BBB,2024-01-03,21",
    ]
)


def test_a_typed_ticker_does_not_silently_rename_a_file_of_several_tickers():
    with pytest.raises(FileFormatError, match=r"the file names 2 tickers \(AAA, BBB\) in its Ticker column"):
        parse_price_csv(LONG_FILE.encode(), ticker="XYZ")
    both = parse_price_csv(LONG_FILE.encode())
    assert sorted(set(both.frame["ticker"])) == ["AAA", "BBB"]


def test_a_typed_ticker_renames_a_file_of_one_ticker_and_says_so():
    one = "\n".join(line for line in LONG_FILE.splitlines() if not line.startswith("BBB"))
    parsed = parse_price_csv(one.encode(), ticker="^aaa")
    assert set(parsed.frame["ticker"]) == {"^AAA"}
    assert "the file's ticker AAA stored as ^AAA, as you named it" in parsed.notes
    assert "the file's ticker" not in " ".join(parse_price_csv(one.encode(), ticker="aaa").notes)


def test_a_semicolon_file_without_decimal_commas_still_reads_ambiguous_dates_day_first():
    parsed, report = parse(b"Date;Close\n05/01/2024;12\n08/01/2024;13\n")
    assert report.ok
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-01-05", "2024-01-08"]
    assert any("(day first, as files with ';' between fields write them)" in note for note in parsed.notes)


def test_a_malformed_ticker_is_quoted_short_in_the_report():
    text = "Date,Ticker,Close\n2024-01-02,AAPL,1\n2024-01-02," + "X/" * 300 + ",2\n"
    parsed, report = parse(text.encode(), ticker=None)
    assert report.counts == {"malformed ticker": 1}
    [example] = report.examples
    assert example.line == 3
    assert example.values["ticker"] == "X/" * 19 + "X…"
    assert list(parsed.frame["ticker"]) == ["AAPL", "X/" * 300]


# SIX Swiss Exchange and Liechtenstein banks' exports: apostrophes group thousands, the point is decimal.
SWISS = (
    "Datum;Eröffnung;Hoch;Tief;Schluss;Volumen\n"
    "03.01.2024;999.500;1'010.25;998.000;1'005.75;1’200’000\n"
    "04.01.2024;1'005.75;1'012.00;1'001.50;1'010.00;980'500\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_apostrophe_thousands_are_read_and_show_the_decimal_point(encoding):
    parsed, report = parse(SWISS.encode(encoding), ticker="NESN.SW")
    assert report.ok, report.lines()
    assert parsed.frame["close"].tolist() == [1005.75, 1010.0]
    assert parsed.frame["high"].tolist() == [1010.25, 1012.0]
    # '999.500' reads both ways; the apostrophes show a decimal point, so it is not 999,500.
    assert parsed.frame["open"].tolist() == [999.5, 1005.75]
    assert parsed.frame["volume"].tolist() == [1_200_000, 980_500]
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-01-03", "2024-01-04"]


def workbook_of(*rows: list) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_excel_serial_numbers_in_a_workbooks_date_column_are_dates():
    # A date column that lost its date format: openpyxl gives the serial numbers Excel stores.
    data = workbook_of(["Date", "Close"], [45293, 10.5], [45294.0, 11.0], ["2024-01-04", 11.5])
    parsed, report = parse(data, ticker="SPX", filename="SPX.xlsx")
    assert report.ok, report.lines()
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-01-02", "2024-01-03", "2024-01-04"]
    assert "2 dates read as Excel serial numbers (45293 as 2024-01-02)" in parsed.notes


def test_excel_serial_numbers_with_a_time_of_day_keep_their_day():
    data = workbook_of(["Date", "Close"], [45293.6666666667, 10.5], [45294.6666666667, 11.0])
    parsed, report = parse(data, ticker="SPX", filename="SPX.xlsx")
    assert report.ok, report.lines()
    assert [str(day.date()) for day in parsed.frame["date"]] == ["2024-01-02", "2024-01-03"]
    assert "the time of day on the dates (16:00) left out: one row is one day" in parsed.notes


def test_a_workbooks_numbers_outside_the_serial_span_are_not_taken_for_serials():
    # A number like 20240102 is a date written YYYYMMDD; 123 is no date at all.
    data = workbook_of(["Date", "Close"], [20240102, 10.5], [123, 11.0])
    parsed, report = parse(data, ticker="SPX", filename="SPX.xlsx")
    assert str(parsed.frame["date"].iloc[0].date()) == "2024-01-02"
    assert [(o.line, o.rules) for o in report.examples] == [(3, ("unparseable date",))]


def test_a_csvs_serial_numbers_are_left_unread_and_the_note_says_why():
    # Days counted from 1960 (SAS, Stata) or 1970 (R) fall in the same span: in text they say no epoch.
    parsed, report = parse(b"Date,Close\n45293,10.5\n45294,11\n", ticker="SPX")
    assert report.counts == {"unparseable date": 2}
    assert any(
        note.startswith("the dates are plain numbers (45293, …): Excel serial numbers are read from a workbook only")
        for note in parsed.notes
    )


@pytest.mark.parametrize(
    ("footer", "count", "first"),
    [
        ("Source: Bloomberg\n", 1, "'Source: Bloomberg'"),
        ("Total,21,21,21,21\n", 1, "'Total'"),
        ("\nData provided for information only.\nAll rights reserved\n", 2, "'Data provided for infor…'"),
    ],
    ids=["source", "total", "blank-then-disclaimer"],
)
def test_footer_lines_after_the_last_row_are_ignored_with_a_note(footer, count, first):
    text = "Date,Open,High,Low,Close\n2024-01-02,10,11,9,10\n2024-01-03,10,12,9,11\n" + footer
    parsed, report = parse(text.encode())
    assert report.ok, report.lines()
    assert parsed.frame["line"].tolist() == [2, 3]
    lines = "line" if count == 1 else "lines"
    assert f"ignored {count} footer {lines} after line 3, the last row of prices (first {first})" in parsed.notes


def test_a_workbooks_footer_is_ignored_too():
    data = workbook_of(["Date", "Close"], ["2024-01-02", 10], ["2024-01-03", 11], [], ["Source: FactSet", None])
    parsed, report = parse(data, ticker="SPX", filename="SPX.xlsx")
    assert report.ok, report.lines()
    assert any(note.startswith("ignored 1 footer line after line 3") for note in parsed.notes)


@pytest.mark.parametrize(
    "text",
    [
        # A date that only fails to parse is a row of prices with a typo, not a footer.
        "Date,Close\n2024-01-02,10\n2024-13-03,11\n",
        # So is a number where the date goes, and a row with prices and no date.
        "Date,Close\n2024-01-02,10\n123,11\n",
        "Date,Close\n2024-01-02,10\n,11\n",
    ],
    ids=["typo", "number", "no-date"],
)
def test_a_bad_last_row_that_is_no_footer_still_refuses_the_file_by_line(text):
    parsed, report = parse(text.encode(), ticker="SPX")
    assert [(o.line, o.rules) for o in report.examples] == [(3, ("unparseable date",))]
    assert not any("footer" in note for note in parsed.notes)


def test_a_bad_row_between_rows_of_prices_refuses_the_file_whatever_follows():
    text = "Date,Close\n2024-01-02,10\nTotal,10\n2024-01-03,11\nSource: Bloomberg\n"
    parsed, report = parse(text.encode(), ticker="SPX")
    assert [(o.line, o.rules) for o in report.examples] == [(3, ("unparseable date",))]
    assert "ignored 1 footer line after line 4, the last row of prices (first 'Source: Bloomberg')" in parsed.notes
