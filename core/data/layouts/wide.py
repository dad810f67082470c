"""A wide file of closes: a date column, then one column per ticker."""

from __future__ import annotations

import pandas as pd

from common.words import plural
from core.data.frames import canonical_column
from core.data.layouts.base import Recognised, body_without_repeated_headers, header_names
from core.data.layouts.named import INDEX_NAMES
from core.data.tickers import TickerError, normalise_ticker
from core.data.values import no_value


def recognise(cells: pd.DataFrame) -> Recognised | None:
    """The layout when the first column is the date and every other header is a ticker symbol."""
    names = header_names(cells)
    if len(names) < 2 or (canonical_column(names[0]) != "date" and names[0].lower() not in INDEX_NAMES):
        return None
    spelled_like_columns = sorted({name.upper() for name in names[1:] if canonical_column(name)})
    if spelled_like_columns and not _tickers_spelled_like_columns(names[1:]):
        return None
    try:
        symbols = [normalise_ticker(name) for name in names[1:]]
    except TickerError:
        return None
    body, notes = body_without_repeated_headers(cells)
    parts = []
    for position, symbol in enumerate(symbols, start=1):
        closes = body[position]
        part = pd.DataFrame({"ticker": symbol, "date": body[0], "close": closes}, index=body.index)
        parts.append(part[~no_value(closes)])
    frame = pd.concat(parts)
    empty = len(body) * len(symbols) - len(frame)
    if empty:
        notes.append(f"skipped {plural(empty, 'empty cell')} (days a ticker did not trade)")
    for name in ("open", "high", "low"):
        frame[name] = frame["close"]
    notes.append("closes only: open, high and low are the close, volume is 0")
    if spelled_like_columns:
        what = "a ticker" if len(spelled_like_columns) == 1 else "tickers"
        notes.append(f"{' and '.join(spelled_like_columns)} read as {what}: the file has no close column")
    return Recognised(f"wide file of closes ({plural(len(symbols), 'ticker')}, one column each)", frame, notes)


def _tickers_spelled_like_columns(names: list[str]) -> bool:
    """Whether headers named like price columns are tickers (Lowe's is LOW, Dayforce DAY).

    Only in a file with no close column, beside at least one header no column is named like, and
    written in capitals as tickers are: 'Date, Open, High, Price' is a file of prices that lacks its
    close (to map by hand), not three tickers.
    """
    known = [canonical_column(name) for name in names]
    spelled_like = [name for name, column in zip(names, known, strict=True) if column]
    return (
        "close" not in known
        and "adjusted_close" not in known
        and None in known
        and all(name.strip().isupper() for name in spelled_like)
    )
