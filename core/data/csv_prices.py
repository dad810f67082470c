"""Price CSVs as people have them: Yahoo's layout and its variants, in any common encoding."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.encoding import decode
from core.data.frames import OHLCV_COLUMNS, PRICE_COLUMNS, canonical_column
from core.data.tickers import TickerError, normalise_ticker

REQUIRED = ("date", "open", "high", "low", "close")
SEPARATORS = (",", ";", "\t")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


class CsvFormatError(ValueError):
    """The file as a whole cannot be read as prices; the message says what is wrong and where."""


@dataclass(frozen=True)
class ParsedPrices:
    """Rows with their file line numbers; values that did not parse are NaN or NaT, for validation."""

    frame: pd.DataFrame  # line, ticker, raw_date, date, open, high, low, close, adjusted_close, volume
    encoding: str
    separator: str
    notes: tuple[str, ...] = ()


def _separator(header: str) -> str:
    return max(SEPARATORS, key=header.count)


def _numbers(values: pd.Series, separator: str) -> pd.Series:
    text = values.str.strip().str.replace(" ", "", regex=False).str.replace("\u00a0", "", regex=False)
    if separator == ";":
        comma = text.str.match(_DECIMAL_COMMA, na=False)
        text = text.where(~comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    thousands = text.str.match(_THOUSANDS_COMMA, na=False)
    text = text.where(~thousands, text.str.replace(",", "", regex=False))
    return pd.to_numeric(text.replace("", np.nan), errors="coerce")


def _dates(values: pd.Series, date_format: str | None) -> pd.Series:
    text = values.str.strip()
    if date_format:
        parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()


def parse_price_csv(data: bytes, *, ticker: str | None = None, date_format: str | None = None) -> ParsedPrices:
    """Read a price file; raise CsvFormatError for problems of the whole file (encoding, header, ticker)."""
    if not data.strip():
        raise CsvFormatError("the file is empty")
    text, encoding = decode(data)
    lines = text.splitlines()
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise CsvFormatError("the file has no rows")
    header_line, header_text = numbered[0]
    separator = _separator(header_text)
    rows = list(csv.reader([line for _, line in numbered], delimiter=separator))
    header = [canonical_column(name) for name in rows[0]]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        found = ", ".join(repr(name.strip()) for name in rows[0])
        raise CsvFormatError(f"line {header_line}: missing column(s) {', '.join(missing)}; the header has {found}")
    if len(rows) < 2:
        raise CsvFormatError("the file has a header but no rows")

    width = len(header)
    body = [row + [""] * (width - len(row)) for row in rows[1:]]
    columns = [name or f"_unused{i}" for i, name in enumerate(header)]
    raw = pd.DataFrame([row[:width] for row in body], columns=columns)
    raw = raw.loc[:, ~raw.columns.duplicated()]
    frame = pd.DataFrame({"line": [number for number, _ in numbered[1:]]})
    frame["ticker"] = _tickers(raw, ticker, [number for number, _ in numbered[1:]])
    frame["raw_date"] = raw["date"].to_numpy()
    frame["date"] = _dates(raw["date"], date_format).to_numpy()
    notes = []
    for column in PRICE_COLUMNS:
        if column in raw.columns:
            frame[column] = _numbers(raw[column], separator).to_numpy()
    if "adjusted_close" not in raw.columns:
        frame["adjusted_close"] = frame["close"]
        notes.append("no adjusted close column: the close is used")
    if "volume" in raw.columns:
        frame["volume"] = _numbers(raw["volume"], separator).to_numpy()
    else:
        frame["volume"] = 0.0
        notes.append("no volume column: volume is 0")
    frame = frame[["line", "ticker", "raw_date", *OHLCV_COLUMNS]]
    return ParsedPrices(frame=frame, encoding=encoding, separator=separator, notes=tuple(notes))


def _tickers(raw: pd.DataFrame, ticker: str | None, line_numbers: list[int]) -> list[str]:
    if ticker:
        try:
            return [normalise_ticker(ticker)] * len(raw)
        except TickerError as error:
            raise CsvFormatError(f"ticker: {error}") from None
    if "ticker" not in raw.columns:
        raise CsvFormatError("no ticker: name one, or add a Ticker column to the file")
    symbols = []
    for number, value in zip(line_numbers, raw["ticker"], strict=True):
        try:
            symbols.append(normalise_ticker(value))
        except TickerError as error:
            raise CsvFormatError(f"line {number}: {error}") from None
    return symbols
