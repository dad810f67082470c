"""What a layout hands on: the rows as text in our columns, the layout's name, and what it noticed."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from common.words import noun, plural
from core.data.errors import FileFormatError
from core.data.frames import canonical_column

FIELDS = ("date", "open", "high", "low", "close", "adjusted_close", "volume")
EVENT_FIELDS = ("dividend", "split")


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
    return [str(value).strip() for value in cells.iloc[0]]


def body_without_repeated_headers(cells: pd.DataFrame, header_rows: int = 1) -> tuple[pd.DataFrame, list[str]]:
    """The rows after the header, less copies of the header (files concatenated from several exports).

    Raises FileFormatError for a row with more fields than the header: the header's names would be read
    off the wrong cells (an unquoted "4,096,610,000" is four fields).
    """
    check_row_widths(cells, header_rows)
    body = cells.iloc[header_rows:]
    header = cells.iloc[0].str.strip()
    # Only rows whose first cell repeats the header's can be header lines: the rest are not compared.
    maybe = (body.iloc[:, 0].str.strip() == header.iloc[0]).to_numpy()
    repeated = pd.Series(False, index=body.index)
    if maybe.any():
        candidates = body.loc[maybe]
        repeated[maybe] = (candidates.apply(lambda column: column.str.strip()) == header).all(axis=1).to_numpy()
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
    found = ", ".join(repr(name) for name in names)
    if "close" in missing or 0 < len(missing) < 3:
        columns = f"{noun(len(missing), 'column')} {', '.join(missing)}"
        raise FileFormatError(f"line {line}: missing {columns}; the header has {found}")
    if missing:
        for name in missing:
            frame[name] = frame["close"]
        notes.append("no open, high or low columns: each is the close")


def canonical_header(names: list[str]) -> list[str | None]:
    return [canonical_column(name) for name in names]
