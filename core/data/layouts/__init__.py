"""One detector over the layout families: each module says whether a file is its kind and reads it."""

from __future__ import annotations

import pandas as pd

from common.words import noun, plural
from core.data.layouts import named, wide, yfinance
from core.data.layouts.base import Recognised, UnrecognisedLayoutError, canonical_header, header_names
from core.data.layouts.mapping import apply_mapping

# Most specific first: a yfinance file's first line alone would also pass for a named layout.
DETECTORS = (yfinance.recognise, named.recognise, wide.recognise)
PREVIEW_ROWS = 8
# Title and notes some exports put above their header (FRED's Excel download, Macrotrends): a dozen
# lines at most. Looking further would take a stray "Date" cell deep in a file for a header.
NOTES_ROWS = 30


def recognise(cells: pd.DataFrame, *, mapping: dict[str, str] | None = None) -> Recognised:
    """The file's rows in our columns; UnrecognisedLayoutError (with a preview) when no layout fits."""
    if not mapping:
        found = _detect(cells)
        if found is not None:
            return found
    header = _date_header(cells)
    table = cells.iloc[header:]
    found = apply_mapping(table, mapping) if mapping else _detect(table) if header else None
    if found is not None:
        if header:
            found.notes.insert(
                0, f"header on line {table.index[0]}: the {plural(header, 'line')} of notes above it skipped"
            )
        return found
    names = header_names(table)
    known = set(canonical_header(names))
    missing = [name for name in ("date", "close") if name not in known]
    problem = (
        f"missing {noun(len(missing), 'column')} {', '.join(missing)}"
        if missing
        else "the columns are not prices of known names"
    )
    raise UnrecognisedLayoutError(
        f"line {table.index[0]}: layout not recognised, {problem}; the header has "
        f"{', '.join(repr(name) for name in names)}: choose which column holds what",
        columns=names,
        preview=table.head(PREVIEW_ROWS),
    )


def _detect(cells: pd.DataFrame) -> Recognised | None:
    for detector in DETECTORS:
        found = detector(cells)
        if found is not None:
            return found
    return None


def _date_header(cells: pd.DataFrame) -> int:
    """Where the header is: the first row naming a date column, below any lines of title and notes; else the first."""
    for position in range(min(NOTES_ROWS, len(cells) - 1)):
        if "date" in canonical_header([str(value).strip() for value in cells.iloc[position]]):
            return position
    return 0


__all__ = ["Recognised", "UnrecognisedLayoutError", "recognise"]
