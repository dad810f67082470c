"""One detector over the layout families: each module says whether a file is its kind and reads it."""

from __future__ import annotations

import re

import pandas as pd

from common.words import noun, plural
from core.data.layouts import named, wide, yfinance
from core.data.layouts.base import (
    Recognised,
    UnrecognisedLayoutError,
    canonical_header,
    header_names,
    shown_names,
)
from core.data.layouts.mapping import apply_mapping
from core.data.table import shorten

# Most specific first: a yfinance file's first line alone would also pass for a named layout.
DETECTORS = (yfinance.recognise, named.recognise, wide.recognise)
PREVIEW_ROWS = 8
# Title and notes some exports put above their header (FRED's Excel download, Macrotrends): a dozen
# lines at most. Looking further would take a stray "Date" cell deep in a file for a header.
NOTES_ROWS = 30
# Dates as exports write them (2024-01-31, 20240131, 01/31/2024, 31.01.2024, Jan 31, 2024, 31 Jan 2024,
# a time after any): a header has them in the row below it, a title or a block of metadata has not.
_DATE_LIKE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8}"
    r"|[a-z]{3,9}\.? \d{1,2},? \d{4}|\d{1,2}[ -][a-z]{3,9}\.?[ -]\d{2,4})([ t].*)?$",
    re.IGNORECASE,
)
# What the preview shows of each cell: enough to tell a column by; a file may hold 1,000 characters there.
PREVIEW_CELL_CHARS = 100


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
        f"line {table.index[0]}: layout not recognised, {problem}; the header has {shown_names(names)}: "
        "choose which column holds what",
        columns=names,
        preview=table.head(PREVIEW_ROWS).map(lambda cell: shorten(str(cell), PREVIEW_CELL_CHARS)),
    )


def _detect(cells: pd.DataFrame) -> Recognised | None:
    for detector in DETECTORS:
        found = detector(cells)
        if found is not None:
            return found
    return None


def _date_header(cells: pd.DataFrame) -> int:
    """Where the header is, below any lines of title and notes; else the first row.

    The first row naming a date column with a date below it: a title 'Data' or a line 'Start Date, ...'
    of a metadata block names one too. Failing that, the first naming one; failing that, the first row
    of names with a date below its first cell, for the user to map columns no alias knows.
    """
    rows = min(NOTES_ROWS, len(cells) - 1)
    naming = []
    for position in range(rows):
        columns = canonical_header(header_names(cells.iloc[position:]))
        if "date" in columns:
            if looks_like_date(cells.iat[position + 1, columns.index("date")]):
                return position
            naming.append(position)
    if naming:
        return naming[0]
    for position in range(rows):
        names = [name for name in header_names(cells.iloc[position:]) if name]
        below = [name for name in header_names(cells.iloc[position + 1 :]) if name]
        if len(names) > 1 and below and looks_like_date(below[0]) and not any(map(looks_like_date, names)):
            return position
    return 0


def looks_like_date(cell: object) -> bool:
    """Whether a cell is written as a date is (a mistyped one too), rather than a word or a number."""
    return _DATE_LIKE.match(str(cell).strip()) is not None


__all__ = ["Recognised", "UnrecognisedLayoutError", "looks_like_date", "recognise"]
