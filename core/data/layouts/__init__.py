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
    if mapping:
        return apply_mapping(cells, mapping)
    found = _detect(cells) or _below_notes(cells)
    if found is not None:
        return found
    names = header_names(cells)
    known = set(canonical_header(names))
    missing = [name for name in ("date", "close") if name not in known]
    problem = (
        f"missing {noun(len(missing), 'column')} {', '.join(missing)}"
        if missing
        else "the columns are not prices of known names"
    )
    raise UnrecognisedLayoutError(
        f"line 1: layout not recognised, {problem}; the header has {', '.join(repr(name) for name in names)}: "
        "choose which column holds what",
        columns=names,
        preview=cells.head(PREVIEW_ROWS),
    )


def _detect(cells: pd.DataFrame) -> Recognised | None:
    for detector in DETECTORS:
        found = detector(cells)
        if found is not None:
            return found
    return None


def _below_notes(cells: pd.DataFrame) -> Recognised | None:
    """The layout of a file whose header, the first row naming a date column, sits below lines of notes."""
    for position in range(1, min(NOTES_ROWS, len(cells) - 1)):
        if "date" in canonical_header([str(value).strip() for value in cells.iloc[position]]):
            found = _detect(cells.iloc[position:])
            if found is not None:
                skipped = (
                    f"header on line {cells.index[position]}: the {plural(position, 'line')} of notes above it skipped"
                )
                found.notes.insert(0, skipped)
            return found
    return None


__all__ = ["Recognised", "UnrecognisedLayoutError", "recognise"]
