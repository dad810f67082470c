"""One detector over the layout families: each module says whether a file is its kind and reads it."""

from __future__ import annotations

import pandas as pd

from common.words import noun
from core.data.layouts import named, wide, yfinance
from core.data.layouts.base import Recognised, UnrecognisedLayoutError, canonical_header, header_names
from core.data.layouts.mapping import apply_mapping

# Most specific first: a yfinance file's first line alone would also pass for a named layout.
DETECTORS = (yfinance.recognise, named.recognise, wide.recognise)
PREVIEW_ROWS = 8


def recognise(cells: pd.DataFrame, *, mapping: dict[str, str] | None = None) -> Recognised:
    """The file's rows in our columns; UnrecognisedLayoutError (with a preview) when no layout fits."""
    if mapping:
        return apply_mapping(cells, mapping)
    for detector in DETECTORS:
        found = detector(cells)
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


__all__ = ["Recognised", "UnrecognisedLayoutError", "recognise"]
