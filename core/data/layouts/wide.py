"""A wide file of closes: a date column, then one column per ticker."""

from __future__ import annotations

import pandas as pd

from common.words import plural
from core.data.layouts.base import (
    Recognised,
    body_without_repeated_headers,
    canonical_name,
    check_expanded_rows,
    header_names,
)
from core.data.layouts.named import INDEX_NAMES
from core.data.table import MAX_ROWS
from core.data.tickers import MAX_TICKER_LENGTH, TICKER_PATTERN, normalise_ticker
from core.data.values import no_value


def recognise(cells: pd.DataFrame) -> Recognised | None:
    """The layout when the first column is the date and every other header is a ticker symbol."""
    names = header_names(cells)
    if len(names) < 2 or (canonical_name(names[0]) != "date" and names[0].lower() not in INDEX_NAMES):
        return None
    # Upper-cased, any word would pass for a ticker: stooq.pl's 'Otwarcie' or 'Closing' are column names
    # in words no alias knows, for the user to map, not tickers to invent. Sources write tickers in capitals.
    if not all(_written_as_ticker(name) for name in names[1:]):
        return None
    spelled_like_columns = sorted({name for name in names[1:] if canonical_name(name)})
    if spelled_like_columns and not _tickers_spelled_like_columns(names[1:]):
        return None
    symbols = [normalise_ticker(name) for name in names[1:]]
    body, notes = body_without_repeated_headers(cells)
    traded = [~no_value(body[position]) for position in range(1, len(symbols) + 1)]
    closes = sum(int(mask.sum()) for mask in traded)
    # Each close becomes a row: a file within the line bound can still hold 200 times its lines in rows.
    check_expanded_rows(
        closes,
        MAX_ROWS,
        f"the wide file holds {closes:,} closes ({plural(len(symbols), 'ticker column')} over "
        f"{plural(len(body), 'line')})",
    )
    parts = []
    for position, (symbol, mask) in enumerate(zip(symbols, traded, strict=True), start=1):
        part = pd.DataFrame({"ticker": symbol, "date": body[0], "close": body[position]}, index=body.index)
        parts.append(part[mask])
    frame = pd.concat(parts)
    empty = len(body) * len(symbols) - len(frame)
    if empty:
        notes.append(f"skipped {plural(empty, 'empty cell')} (days a ticker did not trade)")
    for name in ("open", "high", "low"):
        frame[name] = frame["close"]
    notes.append("closes only: open, high and low are the close")
    if spelled_like_columns:
        what = "a ticker" if len(spelled_like_columns) == 1 else "tickers"
        notes.append(f"{' and '.join(spelled_like_columns)} read as {what}: the file has no close column")
    return Recognised(f"wide file of closes ({plural(len(symbols), 'ticker')}, one column each)", frame, notes)


def _written_as_ticker(name: str) -> bool:
    return len(name) <= MAX_TICKER_LENGTH and TICKER_PATTERN.match(name) is not None


def _tickers_spelled_like_columns(names: list[str]) -> bool:
    """Whether headers named like price columns are tickers (Lowe's is LOW, Dayforce DAY).

    Only in a file with no close column, beside at least one header no column is named like, and (as
    every header here) written in capitals as tickers are: 'Date, Open, High, Price' is a file of prices
    that lacks its close (to map by hand), not three tickers.
    """
    known = [canonical_name(name) for name in names]
    return "close" not in known and "adjusted_close" not in known and None in known
