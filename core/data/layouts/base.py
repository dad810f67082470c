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
    """The rows after the header, less copies of the header (files concatenated from several exports)."""
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


def canonical_header(names: list[str]) -> list[str | None]:
    return [canonical_column(name) for name in names]
