"""yfinance's download(...).to_csv(): three header lines (Price / Ticker / Date), one or several tickers."""

from __future__ import annotations

import pandas as pd

from common.words import plural
from core.data.frames import canonical_column
from core.data.layouts.base import Recognised, body_without_repeated_headers, check_expanded_rows, fill_missing_range
from core.data.table import MAX_ROWS

HEADER_LINES = 3


def recognise(cells: pd.DataFrame) -> Recognised | None:
    """The layout when the first cells of three lines read Price, Ticker, Date (in either of the first two orders)."""
    if len(cells) <= HEADER_LINES or len(cells.columns) < 2:
        return None
    first = [str(value).strip().lower() for value in cells.iloc[:HEADER_LINES, 0]]
    if sorted(first[:2]) != ["price", "ticker"] or first[2] != "date":
        return None
    # download(group_by="ticker") puts the ticker line first.
    field_line, ticker_line = (0, 1) if first[0] == "price" else (1, 0)
    fields = [canonical_column(value) for value in cells.iloc[field_line, 1:]]
    symbols = [str(value).strip() for value in cells.iloc[ticker_line, 1:]]
    body, notes = body_without_repeated_headers(cells, header_rows=HEADER_LINES)
    count = len(dict.fromkeys(symbols))
    # Each ticker on a line becomes a row of its own: bounded before any is built.
    check_expanded_rows(
        len(body) * count,
        MAX_ROWS,
        f"the download's {plural(count, 'ticker')} over {plural(len(body), 'line')} make {len(body) * count:,} rows",
    )
    parts = []
    for symbol in dict.fromkeys(symbols):
        part = pd.DataFrame({"ticker": symbol, "date": body[0]}, index=body.index)
        for position, (name, owner) in enumerate(zip(fields, symbols, strict=True), start=1):
            if name and owner == symbol and name not in part.columns:
                part[name] = body[position]
        parts.append(part)
    frame = pd.concat(parts)
    names = [str(value).strip() for value in cells.iloc[field_line]]
    fill_missing_range(frame, names, cells.index[field_line], notes)
    prices = ["open", "high", "low", "close"]
    # Several tickers in one download pad each with empty days on which only the others traded.
    padded = (frame[prices].apply(lambda column: column.str.strip()) == "").all(axis=1)
    if padded.any():
        notes.append(f"skipped {plural(int(padded.sum()), 'empty day')} (days only other tickers traded)")
    return Recognised(f"yfinance download ({plural(count, 'ticker')}, three header lines)", frame[~padded], notes)
