"""The user's own mapping of header names to our fields, for a layout nothing else recognised."""

from __future__ import annotations

import pandas as pd

from core.data.errors import FileFormatError
from core.data.layouts.base import FIELDS, Recognised, body_without_repeated_headers, header_names, shown_names
from core.data.table import shorten

MAPPABLE = ("ticker", *FIELDS)


def apply_mapping(cells: pd.DataFrame, mapping: dict[str, str]) -> Recognised:
    """The rows under the first line, with each chosen column read as the field it was mapped to."""
    names = header_names(cells)
    chosen = {name: column for name, column in mapping.items() if column}
    unknown = sorted(set(chosen) - set(MAPPABLE))
    if unknown:
        raise FileFormatError(f"mapping: {shorten(', '.join(unknown), 80)} is not a field ({', '.join(MAPPABLE)})")
    absent = [column for column in chosen.values() if column not in names]
    if absent:
        raise FileFormatError(f"mapping: no column {shorten(absent[0], 80)!r} in the header ({shown_names(names)})")
    missing = [name for name in ("date", "close") if name not in chosen]
    if missing:
        raise FileFormatError(f"mapping: choose the column of {' and '.join(missing)}")
    body, notes = body_without_repeated_headers(cells)
    frame = pd.DataFrame({name: body[names.index(column)] for name, column in chosen.items()}, index=body.index)
    for name in ("open", "high", "low"):
        if name not in frame.columns:
            frame[name] = frame["close"]
            notes.append(f"no {name} column mapped: the close is used")
    return Recognised("columns mapped by hand", frame, notes)
