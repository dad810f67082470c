"""Files with one header line naming the columns: Yahoo, Stooq, Investing.com, Nasdaq.com, Alpha Vantage, pandas."""

from __future__ import annotations

import pandas as pd

from core.data.layouts.base import (
    Recognised,
    body_without_repeated_headers,
    canonical_header,
    fill_missing_range,
    header_names,
)

# pandas.DataFrame.to_csv() writes the index first, under no name or these.
INDEX_NAMES = ("", "index", "unnamed: 0")
DAILY = "D"


def recognise(cells: pd.DataFrame) -> Recognised | None:
    """The layout when the first line names a date and a close column, else None."""
    names = header_names(cells)
    lowered = [name.lower() for name in names]
    columns = canonical_header(names)
    from_index = "date" not in columns and lowered[0] in INDEX_NAMES
    if from_index:
        columns[0] = "date"
    # Investing.com calls the close "Price".
    price_is_close = "close" not in columns and "price" in lowered
    if price_is_close:
        columns[lowered.index("price")] = "close"
    if "date" not in columns or "close" not in columns:
        return None
    body, notes = body_without_repeated_headers(cells)
    frame = pd.DataFrame(index=body.index)
    for position, name in enumerate(columns):
        if name and name not in frame.columns:
            frame[name] = body[position]
    fill_missing_range(frame, names, cells.index[0], notes)
    if "period" in frame.columns:
        frame = _daily_only(frame, notes)
    return Recognised(_vendor(names, lowered, columns, from_index, price_is_close), frame, notes)


def _vendor(names: list[str], lowered: list[str], columns: list, from_index: bool, price_is_close: bool) -> str:
    if names[0].startswith("<"):
        return "Stooq bulk file (<TICKER>,<PER>,<DATE>,…)"
    if "close/last" in lowered:
        return "Nasdaq.com historical quotes"
    if price_is_close:
        return "Investing.com historical data"
    if lowered[0] == "timestamp":
        return "Alpha Vantage daily adjusted" if "dividend" in columns else "Alpha Vantage daily"
    if from_index:
        return "pandas to_csv (dates in the first, unnamed column)"
    if "ticker" in columns:
        return "long file with a ticker column"
    return "Date, Open, High, Low, Close columns (Yahoo, Stooq daily and the like)"


def _daily_only(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Stooq's bulk files mix periods; only daily bars are prices of a day."""
    daily = frame["period"].str.strip().str.upper().isin([DAILY, ""])
    if not daily.all():
        notes.append(f"dropped {int((~daily).sum()):,} rows that are not daily bars (<PER> other than D)")
    return frame.loc[daily].drop(columns="period")
