"""Price files as people have them: every common CSV layout and Excel workbooks, in any common encoding."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

import numpy as np
import pandas as pd

from common.words import plural
from core.data.errors import FileFormatError
from core.data.excel import is_excel_name, read_excel_table
from core.data.frames import OHLCV_COLUMNS
from core.data.layouts import recognise
from core.data.layouts.base import EVENT_FIELDS
from core.data.splits import shows_split
from core.data.table import MAX_BYTES, MAX_ROWS, Table, read_text_table
from core.data.tickers import TickerError, normalise_ticker
from core.data.values import DatesRead, check_date_format, dates, decimal_comma_of, no_value, numbers

# The close first: a close-only file's open, high and low are copies of it, and a refusal names the close.
PRICES = ("close", "open", "high", "low", "adjusted_close")
NUMBER_COLUMNS = (*PRICES, "volume", *EVENT_FIELDS)


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


def read_table(
    data: bytes, *, filename: str = "", sheet: str | None = None, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """The file's cells: a workbook when it is named .xlsx, else delimited text."""
    if is_excel_name(filename):
        return read_excel_table(data, sheet=sheet, max_bytes=max_bytes, max_rows=max_rows)
    return read_text_table(data, max_bytes=max_bytes, max_rows=max_rows)


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
    found = recognise(table.cells, mapping=mapping)
    raw = found.frame
    if raw.empty:
        raise FileFormatError("the file has a header but no rows")
    notes = list(found.notes)
    frame = pd.DataFrame({"line": raw.index.to_numpy()})
    frame["ticker"] = _tickers(raw, ticker, filename, notes)
    frame["raw_date"] = raw["date"].to_numpy()
    decimal_comma = _decimal_comma(table, raw, notes)
    read = dates(raw["date"], date_format, day_first=decimal_comma)
    frame["date"] = read.values.to_numpy()
    if read.format and not date_format:
        notes.append(_dates_note(read, decimal_comma))
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
    )


def _dates_note(read: DatesRead, decimal_comma: bool) -> str:
    if not read.also_fits:
        return f"dates read as {read.format}"
    first = "day first" if read.format.startswith("%d") else "month first"
    why = ", as files with decimal commas write them" if decimal_comma and first == "day first" else ""
    return (
        f"dates read as {read.format} ({first}{why}); every date here also reads as {read.also_fits}: "
        "state that format if it is the one"
    )


def _decimal_comma(table: Table, raw: pd.DataFrame, notes: list[str]) -> bool:
    if table.separator in ("", ","):
        # A workbook's numbers are numbers: only its text cells spell a decimal mark, each column its own.
        # A comma between fields leaves the comma no decimal role (a quoted '1,5' still reads, column by column).
        return False
    columns = [raw[name] for name in NUMBER_COLUMNS if name in raw.columns]
    shown = decimal_comma_of(columns)
    if shown is not None:
        return shown
    if table.separator != ";":
        return False
    # Spreadsheets that write ';' between fields write decimal commas; '1.234' there is a thousand.
    if any(column.str.contains(".", regex=False).any() for column in columns):
        notes.append("no number shows its decimal mark: '.' read as a thousands separator, as ';' files write it")
    return True


def _volume(values: pd.Series, decimal_comma: bool, notes: list[str]) -> np.ndarray:
    # Sources mark a day with no recorded volume (indices, holidays): Investing.com '-', Nasdaq.com 'N/A'.
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
    }
)  # fmt: skip
# MarketWatch: "Download Data - STOCK_US_XNAS_AAPL.csv" (kind, country, exchange, ticker).
MARKETWATCH_NAME = re.compile(r"^download data - [a-z]+_[a-z]+_[a-z]+_(?P<ticker>[^_\s]+)$", re.IGNORECASE)
LONGEST_TICKER_IN_A_NAME = 10  # letters and digits: 'DOGE-USDT' has 8; 'HistoricalData' 14


def propose_ticker(filename: str) -> str | None:
    """A ticker from a file name like 'AAPL.csv', 'msft_daily.xlsx' or 'BRK-B (1).csv'; None if none fits.

    None too for a vendor's default name ('HistoricalData_1700000000000.csv', 'data.csv'): a ticker
    made of it would be stored under a name nobody chose.
    """
    stem = PurePath(filename).stem.strip()
    marketwatch = MARKETWATCH_NAME.match(stem)
    candidate = marketwatch["ticker"] if marketwatch else (re.split(r"[\s_()]+", stem) or [""])[0]
    letters = re.sub(r"[^A-Za-z0-9]", "", candidate)
    sheet = re.fullmatch(r"sheet\d*", letters.lower())
    if not letters or len(letters) > LONGEST_TICKER_IN_A_NAME or letters.lower() in GENERIC_FILE_WORDS or sheet:
        return None
    try:
        return normalise_ticker(candidate)
    except TickerError:
        return None


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
        except TickerError as error:
            line = raw.index[(raw["ticker"] == value).to_numpy()][0]
            raise FileFormatError(f"line {line}: {error}") from None
    return raw["ticker"].map(symbols).to_numpy(dtype=object)
