"""What a layout hands on: the rows as text in our columns, the layout's name, and what it noticed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from common.words import noun, plural
from core.data.errors import FileFormatError
from core.data.frames import canonical_column
from core.data.table import shorten

FIELDS = ("date", "open", "high", "low", "close", "adjusted_close", "volume")
EVENT_FIELDS = ("dividend", "split")
# Field mnemonics of exports that name their columns by code rather than by word, reduced to letters
# as canonical_column reduces a header: Bloomberg's BDH sheets ('Dates', 'PX_LAST').
VENDOR_ALIASES = {
    "dates": "date",
    "pxopen": "open",
    "pxhigh": "high",
    "pxlow": "low",
    "pxlast": "close",
    "pxvolume": "volume",
}
# What a message quotes of a header: enough names, each long enough, to recognise it by.
SHOWN_NAMES = 12
SHOWN_NAME_CHARS = 40
# A byte-order mark starts each part of exports joined with cat; it is no whitespace to str.strip().
_BOM = "\ufeff"


@dataclass
class Recognised:
    """frame: text cells indexed by line, columns among ticker, FIELDS and EVENT_FIELDS."""

    layout: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)


class UnrecognisedLayoutError(FileFormatError):
    """No layout fits; carries the header and the first rows so the user can map the columns."""

    def __init__(self, message: str, *, columns: list[str], preview: pd.DataFrame) -> None:
        super().__init__(message)
        self.columns = columns
        self.preview = preview


def header_names(cells: pd.DataFrame) -> list[str]:
    """The first row's cells, trimmed."""
    return [_trimmed(str(value)) for value in cells.iloc[0]]


def shown_names(names: list[str]) -> str:
    """Header names quoted for a message, the long ones and those past a dozen cut short."""
    shown = ", ".join(repr(shorten(name, SHOWN_NAME_CHARS)) for name in names[:SHOWN_NAMES])
    more = len(names) - SHOWN_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _trimmed(text: str) -> str:
    return text.strip().lstrip(_BOM).strip()


def _trimmed_cells(values: pd.Series) -> pd.Series:
    return values.str.strip().str.lstrip(_BOM).str.strip()


def body_without_repeated_headers(cells: pd.DataFrame, header_rows: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """The rows after the header, less copies of the header (files concatenated from several exports).

    Raises FileFormatError for a row with more fields than the header: the header's names would be read
    off the wrong cells (an unquoted "4,096,610,000" is four fields).
    """
    check_row_widths(cells, header_rows)
    body = cells.iloc[header_rows:]
    header = _trimmed_cells(cells.iloc[0])
    first = body.iloc[:, 0].str.strip()
    marked = first.str.startswith(_BOM)
    if marked.any():
        first = first.where(~marked, _trimmed_cells(first[marked]))
    # Only rows whose first cell repeats the header's can be header lines: the rest are not compared.
    maybe = (first == header.iloc[0]).to_numpy()
    repeated = pd.Series(False, index=body.index)
    if maybe.any():
        candidates = body.loc[maybe]
        repeated[maybe] = (candidates.apply(_trimmed_cells) == header).all(axis=1).to_numpy()
    if header_rows > 1:
        # A repeated multi-row header: drop each of its lines where the first line repeats.
        starts = [body.index.get_loc(line) for line in body.index[repeated]]
        drop = {position + offset for position in starts for offset in range(header_rows)}
        repeated = pd.Series([i in drop for i in range(len(body))], index=body.index)
    notes = []
    if repeated.any():
        count = int(repeated.sum())
        lines = ", ".join(str(line) for line in body.index[repeated][:5])
        more = "…" if count > 5 else ""
        notes.append(f"dropped {plural(count, 'repeated header line')} ({noun(count, 'line')} {lines}{more})")
    return body.loc[~repeated], notes


def check_row_widths(cells: pd.DataFrame, header_rows: int = 1) -> None:
    """Refuse the first row holding a value to the right of the header's last name."""
    filled = cells.iloc[:header_rows].apply(lambda column: column.str.strip() != "").any()
    width = int(filled.to_numpy().nonzero()[0].max()) + 1 if filled.any() else 0
    beyond = cells.iloc[header_rows:, width:]
    if beyond.empty:
        return
    wider = beyond.apply(lambda column: column.str.strip() != "").any(axis=1)
    if wider.any():
        line = wider.index[wider.to_numpy()][0]
        fields = int((cells.loc[line].str.strip() != "").to_numpy().nonzero()[0].max()) + 1
        raise FileFormatError(f"line {line} has {fields} fields, the header has {width}")


def fill_missing_range(frame: pd.DataFrame, names: list[str], line: int, notes: list[str]) -> None:
    """A close-only file is fine (open, high and low become the close); a partial set is a mistake."""
    missing = [name for name in ("close", "open", "high", "low") if name not in frame.columns]
    found = shown_names(names)
    if "close" in missing or 0 < len(missing) < 3:
        columns = f"{noun(len(missing), 'column')} {', '.join(missing)}"
        raise FileFormatError(f"line {line}: missing {columns}; the header has {found}")
    if missing:
        for name in missing:
            frame[name] = frame["close"]
        notes.append("no open, high or low columns: each is the close")


def check_expanded_rows(rows: int, limit: int, what: str) -> None:
    """Refuse a layout that makes more rows than an upload may have, before they are built.

    The line bound is checked as the file is read; a layout with several tickers on a line makes
    a row of each, so a file within that bound can still make hundreds of times as many rows.
    """
    if rows > limit:
        raise FileFormatError(f"{what}, more than the {limit:,} rows an upload may have: split it into several files")


def canonical_name(name: object) -> str | None:
    """Our name for a header (canonical_column), or a vendor's code for one (Bloomberg's PX_LAST)."""
    return canonical_column(name) or VENDOR_ALIASES.get(re.sub(r"[^a-z]", "", str(name).lower()))


def canonical_header(names: list[str]) -> list[str | None]:
    return [canonical_name(name) for name in names]
