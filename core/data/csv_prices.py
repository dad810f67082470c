"""Price files as people have them: every common CSV layout and Excel workbooks, in any common encoding."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePath

import numpy as np
import pandas as pd

from common.words import plural
from core.data.errors import FileFormatError
from core.data.excel import is_excel_name, read_excel_table, sheet_list
from core.data.frames import OHLCV_COLUMNS
from core.data.layouts import looks_like_date, recognise
from core.data.layouts.base import EVENT_FIELDS
from core.data.splits import shows_split
from core.data.table import MAX_BYTES, MAX_ROWS, Table, drop_blank_trailing_columns, read_text_table, shorten
from core.data.tickers import TickerError, normalise_ticker
from core.data.values import (
    EXCEL_EPOCH,
    DatesRead,
    Marks,
    check_date_format,
    dates,
    decimal_marks,
    no_value,
    numbers,
    quoted,
    serial_days,
)

# The close first: a close-only file's open, high and low are copies of it, and a refusal names the close.
PRICES = ("close", "open", "high", "low", "adjusted_close")
NUMBER_COLUMNS = (*PRICES, "volume", *EVENT_FIELDS)
# What a refusal of a workbook's first sheet says to do when the workbook has others.
CHOOSE_SHEET = "choose the sheet to read"
# A source line, a total, a disclaimer: a few lines. More lines after the last row of prices are bad rows.
FOOTER_LINES = 30


@dataclass(frozen=True)
class ParsedPrices:
    """Rows with their file line numbers; values that did not parse are NaN or NaT, for validation."""

    frame: pd.DataFrame  # line, ticker, raw_date, date, open, high, low, close, adjusted_close, volume
    encoding: str
    separator: str
    notes: tuple[str, ...] = ()
    layout: str = ""
    # line, ticker, date, dividend, split: what the file says of corporate actions, when it says anything
    events: pd.DataFrame | None = None
    # False when the file has no adjusted close column and the close (through the splits it reports) stands in.
    adjusted_close_given: bool = True


def read_table(
    data: bytes, *, filename: str = "", sheet: str | None = None, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """The file's cells, less empty columns at the right: a workbook when it is named .xlsx, else delimited text."""
    if is_excel_name(filename):
        table = read_excel_table(data, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows)
    else:
        table = read_text_table(data, max_bytes=max_bytes, max_rows=max_rows)
    if table.cells.empty:
        raise FileFormatError("the file holds no values, only separators")
    return replace(table, cells=drop_blank_trailing_columns(table.cells))


def parse_price_csv(
    data: bytes,
    *,
    ticker: str | None = None,
    date_format: str | None = None,
    filename: str = "",
    sheet: str | None = None,
    mapping: dict[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> ParsedPrices:
    """Read a price file of any known layout; raise FileFormatError for problems of the whole file."""
    if date_format:
        check_date_format(date_format)
    table = read_table(data, filename=filename, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows)
    try:
        found = recognise(table.cells, mapping=mapping)
    except FileFormatError as error:
        if table.other_sheets:
            # Said on the error itself, so that a refusal asking for a column mapping still offers the columns.
            sheets = "sheets" if len(table.other_sheets) > 1 else "a sheet"
            error.args = (f"{error}; the workbook also has {sheets} {sheet_list(table.other_sheets)}: {CHOOSE_SHEET}",)
            error.other_sheets = table.other_sheets
        raise
    raw = found.frame
    if raw.empty:
        raise FileFormatError("the file has a header but no rows")
    notes = list(found.notes)
    raw = _without_footer(raw, table.serial_epoch, date_format, notes)
    frame = pd.DataFrame({"line": raw.index.to_numpy()})
    frame["ticker"] = _tickers(raw, ticker, filename, notes)
    frame["raw_date"] = raw["date"].to_numpy()
    decimal_comma = _decimal_comma(raw, table.separator, notes)
    # Locales that write decimal commas, or ';' between fields, write the day first: 05/01 is the 5th of January.
    day_first = "as files with decimal commas write them" if decimal_comma else ""
    if table.separator == ";" and not decimal_comma:
        day_first = "as files with ';' between fields write them"
    read = _read_dates(raw["date"], table.serial_epoch, date_format, day_first=bool(day_first), notes=notes)
    frame["date"] = read.values.to_numpy()
    if read.format and not date_format:
        notes.append(_dates_note(read, why_day_first=day_first))
    if read.times is not None:
        _check_one_row_a_day(frame, read.times, notes)
    for column in PRICES:
        if column in raw.columns:
            frame[column] = numbers(raw[column], decimal_comma=decimal_comma).to_numpy()
    if "volume" in raw.columns:
        frame["volume"] = _volume(raw["volume"], decimal_comma, notes)
    else:
        frame["volume"] = 0.0
        notes.append("no volume column: volume is 0")
    events = _events(raw, frame, decimal_comma)
    order = np.lexsort((frame["line"].to_numpy(), frame["date"].to_numpy(), frame["ticker"].to_numpy()))
    if (np.diff(order) != 1).any():
        notes.append("rows sorted by date")
    frame = frame.iloc[order].reset_index(drop=True)
    if events is not None:
        events = events.iloc[order].reset_index(drop=True)
    adjusted_close_given = "adjusted_close" in frame.columns
    frame["adjusted_close"], note = _adjusted_through_reported_splits(frame, events)
    if note:
        notes.append(note)
    frame = frame[["line", "ticker", "raw_date", *OHLCV_COLUMNS]]
    return ParsedPrices(
        frame=frame,
        encoding=table.encoding,
        separator=table.separator,
        notes=tuple(notes),
        layout=found.layout,
        events=events,
        adjusted_close_given=adjusted_close_given,
    )


def _without_footer(
    raw: pd.DataFrame, serial_epoch: datetime | None, date_format: str | None, notes: list[str]
) -> pd.DataFrame:
    """The rows less the lines after the last row of prices that hold none: a source, a total, a disclaimer.

    Such a line's date cell holds words, not a date ('Source: Bloomberg', 'Total'), or no digit ('---'), or
    nothing and no close either. A mistyped date ('2024-13-03'), a number ('123') or a close with no date is a
    bad row, and stays to be refused by line; so does anything like a footer with a row of prices after it.
    """
    # A wide or yfinance file has a row per ticker on each line. Sorting beats np.unique's hashing tenfold here.
    lines = np.sort(raw.index.to_numpy())
    distinct = lines[np.r_[True, lines[1:] != lines[:-1]]]
    tail = raw.loc[raw.index >= distinct[-(FOOTER_LINES + 1) :][0]]
    cells = tail["date"].str.strip()
    dated = cells.map(looks_like_date)
    if serial_epoch is not None:
        dated |= serial_days(cells, serial_epoch).notna()
    if date_format:
        dated |= dates(cells, date_format).values.notna()
    priced = ~no_value(tail["close"]) if "close" in tail.columns else pd.Series(False, index=tail.index)
    worded = cells.str.contains(r"[^\W\d_]", regex=True) | ~cells.str.contains(r"\d", regex=True)
    footer_like = (~dated & ((worded & (cells != "")) | ((cells == "") & ~priced))).groupby(level=0).all()
    data_lines = footer_like.index[~footer_like.to_numpy()]
    if data_lines.empty:
        return raw  # no row of prices near the end, or a file of nothing else: its rows are refused by line
    last = int(data_lines.max())
    footer = raw.index > last
    if not footer.any():
        return raw
    footer_lines = np.unique(raw.index[footer])
    first = raw.loc[raw.index == footer_lines[0]].iloc[0]
    shown = first["date"] if first["date"].strip() else next((cell for cell in first if str(cell).strip()), "")
    count = len(footer_lines)
    notes.append(
        f"ignored {plural(count, 'footer line')} after line {last}, the last row of prices (first {quoted(shown)})"
    )
    return raw.loc[~footer]


def _read_dates(
    cells: pd.Series, serial_epoch: datetime | None, date_format: str | None, *, day_first: bool, notes: list[str]
) -> DatesRead:
    """The dates; in a workbook, a number Excel counts days with is the day it counts (dates() reads the rest)."""
    serials = serial_days(cells, serial_epoch) if serial_epoch is not None else None
    if serials is None or not serials.notna().any():
        read = dates(cells, date_format, day_first=day_first)
        if serial_epoch is None and not date_format:
            _note_plain_number_dates(cells, read, notes)
        return read
    counted = serials.notna()
    read = dates(cells.where(~counted, ""), date_format, day_first=day_first)
    days = serials.dt.normalize()
    seconds = (serials - days).dt.total_seconds()
    times = read.times
    if (seconds[counted] != 0).any():
        # A serial's fraction is a time of day: checked as a written one is, for intraday rows.
        times = seconds.where(counted) if times is None else times.where(~counted, seconds)
    notes.append(
        f"{plural(int(counted.sum()), 'date')} read as Excel serial numbers "
        f"({shorten(cells[counted].iloc[0].strip(), 24)} as {days[counted].iloc[0]:%Y-%m-%d})"
    )
    return DatesRead(read.values.where(~counted, days), read.format, read.also_fits, times)


def _note_plain_number_dates(cells: pd.Series, read: DatesRead, notes: list[str]) -> None:
    """Say why a text file's dates written as Excel serial numbers are not read, and what to do."""
    if read.values.notna().any():
        return
    given = cells.str.strip() != ""
    if given.any() and serial_days(cells[given], EXCEL_EPOCH).notna().all():
        notes.append(
            f"the dates are plain numbers ({shorten(cells[given].iloc[0].strip(), 24)}, …): Excel serial numbers "
            "are read from a workbook only, as other programs count days from other epochs (SAS and Stata from "
            "1960, R from 1970); upload the workbook, or format the column as dates before saving it as CSV"
        )


def _dates_note(read: DatesRead, *, why_day_first: str) -> str:
    if not read.also_fits:
        return f"dates read as {read.format}"
    first = "day first" if read.format.startswith("%d") else "month first"
    why = f", {why_day_first}" if why_day_first and first == "day first" else ""
    return (
        f"dates read as {read.format} ({first}{why}); every date here also reads as {read.also_fits}: "
        "state that format if it is the one"
    )


def _check_one_row_a_day(frame: pd.DataFrame, times: pd.Series, notes: list[str]) -> None:
    """Refuse intraday rows, which a day's date would merge; note a time of day that was left out.

    A daily file may stamp each day with a time (GOOGLEFINANCE's 16:00:00, German Excel's 00:00): the day
    is the row. Two times on one day of one ticker are bars of an intraday file.
    """
    seconds = times.to_numpy(dtype=float)
    timed = np.isfinite(seconds) & (seconds != 0) & frame["date"].notna().to_numpy()
    if not timed.any():
        return
    rows = frame.loc[timed, ["line", "ticker", "date"]].assign(seconds=seconds[timed])
    distinct = rows.drop_duplicates(["ticker", "date", "seconds"])
    again = distinct[distinct.duplicated(["ticker", "date"], keep=False)]
    if not again.empty:
        first = again.iloc[0]
        second = again[(again["ticker"] == first["ticker"]) & (again["date"] == first["date"])].iloc[1]
        of = f" for {first['ticker']}" if frame["ticker"].nunique() > 1 else ""
        raise FileFormatError(
            f"lines {first['line']} and {second['line']} are both dated {first['date']:%Y-%m-%d}{of}, at different "
            f"times ({_clock(first['seconds'])} and {_clock(second['seconds'])}): this is intraday data; upload "
            "daily prices, one row a day"
        )
    shown = sorted(set(distinct["seconds"]))
    clocks = ", ".join(_clock(value) for value in shown[:3]) + (", …" if len(shown) > 3 else "")
    notes.append(f"the time of day on the dates ({clocks}) left out: one row is one day")


def _clock(seconds: float) -> str:
    minutes, second = divmod(round(seconds), 60)
    clock = f"{minutes // 60:02d}:{minutes % 60:02d}"
    return clock + (f":{second:02d}" if second else "")


def _decimal_comma(raw: pd.DataFrame, separator: str, notes: list[str]) -> bool:
    """Whether the file writes decimal commas, so that its '.' groups thousands.

    The file's numbers tell first, whatever separates its fields: a decimal comma in any column ('123,45',
    quoted in a comma-separated file) or a number only a grouping '.' writes ('1.234.567') says so; a decimal
    point or a number only a grouping ',' writes ('1,234,567') says not. Without either, '.' is the decimal
    point: EURUSD=X at '1.094' is not 1094. A comma that reads both ways ('6,650') is then read as the file's
    locale writes it: ';' or tabs between fields, or dates like 02.01.2024, write decimal commas. The notes say
    how a number that reads both ways was read, and why.
    """
    columns = [raw[name] for name in NUMBER_COLUMNS if name in raw.columns]
    # Both signs are rare, so most files are decided by two quick scans of each column.
    marks = {column.name: decimal_marks(column) for column in columns if _may_show_a_decimal_comma(column)}
    shown = next((name for name, mark in marks.items() if mark.comma), None)
    for column in columns:
        if column.name in marks or not column.str.contains(".", regex=False).any():
            continue
        marks[column.name] = decimal_marks(column)
        if shown is None and marks[column.name].comma is False:
            break  # a decimal point shown and no comma: '.' is one everywhere, and ',' groups thousands
    pointed = next((name for name, mark in marks.items() if mark.comma is False), None)
    undecided = {name: mark for name, mark in marks.items() if mark.comma is None}
    dots = _cells_reading_both_ways(raw, {name: mark.example for name, mark in undecided.items()})
    commas = _cells_reading_both_ways(raw, {name: mark.comma_either_way for name, mark in undecided.items()})
    locale = _decimal_comma_locale(raw["date"], separator) if commas and not shown and not pointed else None
    decimal_comma = shown is not None or locale is not None
    if dots and decimal_comma:
        first, cell = next(iter(dots.items()))
        if shown:
            evidence = marks[shown].example
            how = "a decimal comma" if "," in evidence else "it"
            why = f"as {shown} shows {how} ({quoted(evidence)})"
        else:
            why = f"as ',' is the decimal mark in {locale}"
        notes.append(
            f"'.' read as a thousands separator in {', '.join(dots)} ({quoted(cell)} as "
            f"{_plain_number(raw[first], cell, decimal_comma=True)}), {why}"
        )
    elif dots and not pointed:
        first, cell = next(iter(dots.items()))
        notes.append(
            f"no number shows its decimal mark: '.' read as the decimal point ({first} {quoted(cell)} as "
            f"{_plain_number(raw[first], cell, decimal_comma=False)}); a decimal comma or a number like "
            "1.234.567 anywhere in the file would have made it a thousands separator"
        )
    if commas:
        notes.append(_comma_note(raw, commas, marks, shown=shown, pointed=pointed, locale=locale))
    return decimal_comma


def _cells_reading_both_ways(raw: pd.DataFrame, examples: dict[str, str | None]) -> dict[str, str]:
    """Each column's cell that reads both ways, the close first, a column copying another left out."""
    named = [name for name, cell in examples.items() if cell]
    # A close-only file's open, high and low are copies of its close: a note names the close alone.
    distinct = [
        name for at, name in enumerate(named) if not any(raw[name].equals(raw[before]) for before in named[:at])
    ]
    return {name: examples[name] for name in distinct}


# Dates written day first with dots, as locales writing decimal commas write them: 02.01.2024, 2.1.24.
_DOTTED_DATE = r"\d{1,2}\.\d{1,2}\.(\d{4}|\d{2})(?!\d)"
_DATES_LOOKED_AT = 100


def _decimal_comma_locale(dates: pd.Series, separator: str) -> str | None:
    """Files whose locale writes decimal commas, as this file shows itself one of them; None when it does not."""
    if separator == ";":
        return "files with ';' between fields"
    if separator == "\t":
        return "files with tabs between fields"
    written = dates.str.strip()
    written = written[written != ""].head(_DATES_LOOKED_AT)
    if len(written) and written.str.match(_DOTTED_DATE, na=False).all():
        return f"files dated like {quoted(written.iloc[0])}"
    return None


def _comma_note(
    raw: pd.DataFrame,
    commas: dict[str, str],
    marks: dict[str, Marks],
    *,
    shown: str | None,
    pointed: str | None,
    locale: str | None,
) -> str:
    """How a comma that reads both ways ('6,650': 6.65 or 6650) was read, and why."""
    first, cell = next(iter(commas.items()))
    decimal_comma = shown is not None or locale is not None
    read = f"in {', '.join(commas)} ({quoted(cell)} as {_plain_number(raw[first], cell, decimal_comma=decimal_comma)})"
    if shown:
        evidence = marks[shown].example
        how = "a decimal comma" if "," in evidence else "'.' grouping thousands"
        return f"',' read as the decimal mark {read}, as {shown} shows {how} ({quoted(evidence)})"
    if locale:
        return (
            f"',' read as the decimal mark {read}, as usual in {locale}; a decimal point anywhere in the file "
            "would have made it a thousands separator"
        )
    if pointed:
        evidence = marks[pointed].example
        how = "a decimal point" if "." in evidence else "',' grouping thousands"
        return f"',' read as a thousands separator {read}, as {pointed} shows {how} ({quoted(evidence)})"
    return (
        f"',' read as a thousands separator {read}: no number shows its decimal mark; a decimal comma like '1,5', "
        "';' or tabs between fields, or dates like 31.01.2024 would have made it the decimal mark"
    )


def _may_show_a_decimal_comma(values: pd.Series) -> bool:
    return bool(values.str.contains(r",|\.\d{3}\.", regex=True).any())


def _plain_number(column: pd.Series, cell: str, *, decimal_comma: bool) -> str:
    value = numbers(pd.Series([cell], name=column.name), decimal_comma=decimal_comma).iloc[0]
    return np.format_float_positional(value, trim="-")


def _volume(values: pd.Series, decimal_comma: bool, notes: list[str]) -> np.ndarray:
    # Sources mark a day with no recorded volume (indices, holidays): Investing.com '-', Nasdaq.com 'N/A'.
    # A layout leaves NaN where a ticker of a yfinance download has no volume column.
    values = values.fillna("")
    none = no_value(values)
    volume = numbers(values.where(~none, "0"), decimal_comma=decimal_comma)
    if none.any():
        markers = sorted({marker.strip() for marker in values[none]})
        shown = " or ".join(repr(marker) if marker else "blank" for marker in markers)
        notes.append(f"volume {shown} read as 0 on {plural(int(none.sum()), 'day')}")
    return volume.to_numpy()


def _events(raw: pd.DataFrame, frame: pd.DataFrame, decimal_comma: bool) -> pd.DataFrame | None:
    present = [name for name in EVENT_FIELDS if name in raw.columns]
    if not present:
        return None
    events = frame[["line", "ticker", "date"]].copy()
    for name in present:
        read = _split_factors if name == "split" else numbers
        events[name] = read(raw[name], decimal_comma=decimal_comma).to_numpy()
    return events


def _split_factors(values: pd.Series, *, decimal_comma: bool) -> pd.Series:
    """New shares per old: yfinance writes 2.0 for a 2:1 split, other exports '2:1' or '2/1'."""
    ratio = values.astype(str).str.strip().str.extract(r"^(\d+(?:\.\d+)?)\s*[:/]\s*(\d+(?:\.\d+)?)$")
    written = ratio[0].notna()
    factors = numbers(values.where(~written, "0"), decimal_comma=decimal_comma)
    factors[written] = ratio.loc[written, 0].astype(float) / ratio.loc[written, 1].astype(float)
    return factors


def _adjusted_through_reported_splits(frame: pd.DataFrame, events: pd.DataFrame | None) -> tuple[pd.Series, str]:
    """The adjusted close (or the close, if the file has none) divided by each reported split it still shows.

    Returns come from the adjusted close: a 2:1 split left in it reads as a -69 % log return that day.
    Whether a series was adjusted is read off the series itself, on each split's day: yfinance's
    history() writes split-adjusted closes beside its Stock Splits, hand-made files write raw ones,
    and dividing a series that already runs through a split would put the jump back in, inverted.
    Rows are sorted by ticker and date.
    """
    has_adjusted = "adjusted_close" in frame.columns
    series = frame["adjusted_close"] if has_adjusted else frame["close"]
    reported = (
        events["split"].where(lambda f: (f > 0) & (f != 1), 1.0).fillna(1.0)
        if events is not None and "split" in events
        else pd.Series(1.0, index=frame.index)
    )
    tickers = frame["ticker"].to_numpy()
    same_ticker = np.r_[False, tickers[1:] == tickers[:-1]]
    before = series.shift(1).to_numpy(dtype=float)
    factor = reported.to_numpy(dtype=float)
    left_in = same_ticker & (factor != 1.0) & shows_split(before, series.to_numpy(dtype=float), factor)
    factors = reported.where(left_in, 1.0)

    def after_each_day(day_factors: pd.Series) -> pd.Series:
        values = day_factors.to_numpy(dtype=float)
        through = np.cumprod(values[::-1])[::-1]
        return pd.Series(through / values, index=day_factors.index)

    adjusted = series / factors.groupby(tickers).transform(after_each_day)
    return adjusted, _splits_note(has_adjusted, divided=int(left_in.sum()), reported=int((factor != 1.0).sum()))


def _splits_note(has_adjusted: bool, *, divided: int, reported: int) -> str:
    each = "it" if divided == 1 else "each"
    splits = f"the {plural(divided, 'split')} the file reports"
    if has_adjusted:
        return f"the adjusted close falls by {splits}: divided by {each} on the days before" if divided else ""
    through = reported - divided
    if divided:
        note = f"no adjusted close column: the close, divided by {splits} on the days before {each}"
        return note + (f"; it already runs through {plural(through, 'other')}" if through else "")
    if through:
        runs_through = f"the {plural(through, 'split')} the file reports"
        return f"no adjusted close column: the close is used; it already runs through {runs_through}"
    return "no adjusted close column: the close is used"


def _check_renaming(raw: pd.DataFrame, named: str, notes: list[str]) -> None:
    """A typed ticker names a file of one ticker; over several it would merge their days into duplicates."""
    if "ticker" not in raw.columns:
        return
    found = sorted({str(value).strip().upper() for value in pd.unique(raw["ticker"])})
    if len(found) > 1:
        shown = ", ".join(found[:5]) + (", …" if len(found) > 5 else "")
        raise FileFormatError(
            f"the file names {len(found)} tickers ({shown}) in its Ticker column: leave the ticker empty to "
            "import each under its own name, or upload one ticker's rows"
        )
    if found and found[0] != named:
        notes.append(f"the file's ticker {found[0]} stored as {named}, as you named it")


# Words vendors and spreadsheets name their downloads with, which a first word would take for a ticker.
GENERIC_FILE_WORDS = frozenset(
    {
        "data", "prices", "price", "quotes", "quote", "history", "historical", "historicaldata", "download",
        "export", "chart", "table", "sheet", "untitled", "file", "stock", "stocks", "daily", "fredgraph",
        "spreadsheet", "copy", "kopie", "copie",
    }
)  # fmt: skip
# A new workbook's or sheet's default name, as Excel and Google Sheets give it in English, German ('Mappe1',
# 'Tabelle1'), French ('Classeur1', 'Feuil1'), Spanish, Italian, Dutch, Portuguese, Polish and Swedish.
DEFAULT_SHEET_NAME = re.compile(
    r"(book|mappe|classeur|libro|cartel|map|pasta|zeszyt|tabelle|feuil|hoja|foglio|blad|planilha|arkusz)\d+"
    r"|sheet\d*",
    re.IGNORECASE,
)
# MarketWatch: "Download Data - STOCK_US_XNAS_AAPL.csv" (kind, country, exchange, ticker).
MARKETWATCH_NAME = re.compile(r"^download data - [a-z]+_[a-z]+_[a-z]+_(?P<ticker>[^_\s]+)$", re.IGNORECASE)
LONGEST_TICKER_IN_A_NAME = 10  # letters and digits: 'DOGE-USDT' has 8; 'HistoricalData' 14


def propose_ticker(filename: str) -> str | None:
    """A ticker from a file name like 'AAPL.csv', 'msft_daily.xlsx' or 'BRK-B (1).csv'; None if none fits.

    None too for a vendor's or a spreadsheet's default name ('HistoricalData_1700000000000.csv',
    'data.csv', 'Book1.csv', 'Bitcoin Historical Data.csv', 'My portfolio - Sheet1.csv'): a ticker made
    of it would be stored under a name nobody chose. So the first word must be written as tickers are
    (not 'Apple' or 'Bitcoin', names in mixed case), and every other word say nothing of the ticker: a
    vendor's word, a number or date, a copy's '(1)', Stooq's '_us_d' ('EUR_USD' names a pair, 'My
    portfolio' a title, neither a ticker).
    """
    stem = PurePath(filename).stem.strip()
    marketwatch = MARKETWATCH_NAME.match(stem)
    words = [marketwatch["ticker"]] if marketwatch else [word for word in re.split(r"[\s_()]+", stem) if word]
    candidate = words[0] if words else ""
    letters = re.sub(r"[^A-Za-z0-9]", "", candidate)
    if not letters or len(letters) > LONGEST_TICKER_IN_A_NAME or _says_no_ticker(candidate):
        return None
    # Sources write tickers in capitals, tools and people sometimes in lower case; 'Apple' is a name.
    root = re.split(r"[.\-=]", candidate.lstrip("^"))[0]
    if re.search(r"[a-z]", root) and re.search(r"[A-Z]", root):
        return None
    if not all(_says_no_ticker(word) or len(re.sub(r"[^A-Za-z]", "", word)) <= 2 for word in words[1:]):
        return None
    try:
        return normalise_ticker(candidate)
    except TickerError:
        return None


def _says_no_ticker(word: str) -> bool:
    letters = re.sub(r"[^A-Za-z0-9]", "", word)
    return letters.lower() in GENERIC_FILE_WORDS or bool(DEFAULT_SHEET_NAME.fullmatch(letters))


def _tickers(raw: pd.DataFrame, ticker: str | None, filename: str, notes: list[str]) -> np.ndarray:
    if ticker:
        try:
            named = normalise_ticker(ticker)
        except TickerError as error:
            raise FileFormatError(f"ticker: {error}") from None
        _check_renaming(raw, named, notes)
        return np.full(len(raw), named, dtype=object)
    if "ticker" not in raw.columns:
        proposed = propose_ticker(filename)
        if proposed is None:
            named = f"the file name {PurePath(filename).name[:80]!r} names none" if filename else "none named"
            raise FileFormatError(f"no ticker: {named}; type one, or add a Ticker column to the file")
        notes.append(f"ticker {proposed} taken from the file name")
        return np.full(len(raw), proposed, dtype=object)
    symbols = {}
    for value in pd.unique(raw["ticker"]):
        try:
            symbols[value] = normalise_ticker(value)
        except TickerError:
            # Kept as written: validation names the row and the ticker, and skips it when bad rows are skipped.
            symbols[value] = str(value).strip()
    return raw["ticker"].map(symbols).to_numpy(dtype=object)
