"""A delimited text file as a grid of text cells keyed by line number, read within fixed bounds."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from core.data.encoding import decode
from core.data.errors import FileFormatError

# A 200,000-row price file is about 10 MB; these bounds leave room and still keep memory small.
MAX_BYTES = 60 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_FIELD_CHARS = 1_000
# The widest price table is a wide file of closes, one column per ticker; this leaves room for a big index.
MAX_COLUMNS = 200
SEPARATORS = (",", ";", "\t")
_WIDTH_SAMPLE_LINES = 200
# Enough lines to get past a title block (NOTES_ROWS in the layouts) into the table.
_SEPARATOR_SAMPLE_LINES = 50
_QUOTED = re.compile(r'"[^"]*"')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class Table:
    """Text cells; columns 0..n-1, the index is each row's line in the file (or row in the sheet)."""

    cells: pd.DataFrame
    encoding: str
    separator: str
    # A workbook's day 0, from which Excel counts the serial numbers of date cells that lost their date format;
    # None for text, whose plain numbers say no epoch (SAS and Stata count days from 1960, R from 1970).
    serial_epoch: datetime | None = None
    # The sheets of a workbook other than the one read, when none was chosen: where the prices may be instead.
    other_sheets: tuple[str, ...] = ()


def human_size(count: int) -> str:
    """1536 -> '2 KB'; sizes in messages a person reads."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):,.0f} MB"
    return f"{max(1, round(count / 1024)):,} KB"


def shorten(text: str, limit: int) -> str:
    """The text as it is, or cut to limit characters ending in an ellipsis: a value quoted in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_size(size: int, *, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a file of this many bytes as too large to read whole: on its bytes, or on a file's size before
    it is read (the command line's files)."""
    if size > max_bytes:
        raise FileFormatError(
            f"the file is {human_size(size)}, larger than the {human_size(max_bytes)} an upload may be: "
            "split it into several files"
        )


def check_bounds(data: bytes, *, max_bytes: int, max_rows: int) -> None:
    """Refuse a file too large to read whole, before any of it is parsed."""
    check_size(len(data), max_bytes=max_bytes)
    # Old Mac files end lines with a bare CR; Windows files with CR LF count once either way.
    lines = max(data.count(b"\n"), data.count(b"\r"))
    if lines > max_rows + 1:
        raise FileFormatError(
            f"the file has {lines:,} lines, more than the {max_rows:,} rows an upload may have: split it"
        )


def read_text_table(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS, comment: str | None = None
) -> Table:
    """Decode and split a CSV/TXT file; blank lines are dropped, the others keep their line numbers."""
    check_bounds(data, max_bytes=max_bytes, max_rows=max_rows)
    if data.isspace() or not data:
        raise FileFormatError("the file is empty")
    text, encoding = decode(data)
    lines = split_lines(text)
    separator = guess_separator(lines[:_SEPARATOR_SAMPLE_LINES])
    width = _width(lines[:_WIDTH_SAMPLE_LINES], separator)
    try:
        cells = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=None,
            names=range(width),
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            comment=comment,
            engine="c",
        )
    except (pd.errors.ParserError, csv.Error, ValueError) as error:
        raise FileFormatError(_parser_message(error)) from None
    records = len(cells)
    cells.index = _record_lines(text, separator, records, len(lines))
    cells = drop_blank_rows(cells)
    # Only a long line, or a quoted value over several lines, can hold a long field: the per-column
    # check runs when there is one.
    if records != len(lines) or max(map(len, lines)) > MAX_FIELD_CHARS:
        check_field_lengths(cells)
    return Table(cells=cells, encoding=encoding, separator=separator)


def split_lines(text: str) -> list[str]:
    """The text's lines as the CSV parsers split them: at CR LF, CR or LF only.

    str.splitlines() also breaks at U+2028, U+2029, NEL (0x85), form feed and the like, which the
    parsers keep inside a value: measured by it, a value of millions of characters is short lines.
    """
    if "\r" not in text:
        lines = text.split("\n")
    elif text.count("\r\n") == text.count("\n") == text.count("\r"):
        lines = text.split("\r\n")
    else:
        lines = _LINE_BREAK.split(text)
    if lines and not lines[-1]:
        lines.pop()  # the break that ends the last line starts none
    return lines


def drop_blank_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """The rows with at least one non-blank cell; only rows whose first cell is blank need a full look."""
    candidates = cells.index[cells[0].str.strip() == ""]
    if candidates.empty:
        return cells
    blank = (cells.loc[candidates].apply(lambda column: column.str.strip()) == "").all(axis=1)
    return cells.drop(index=blank.index[blank])


def drop_blank_trailing_columns(cells: pd.DataFrame) -> pd.DataFrame:
    """The cells less the columns at the right with no name and no value in any row.

    A separator ending every line (Excel's exports, hand edits) or a formatted empty column of a sheet
    makes one: to a layout it would be a header with no name, a ticker of none or a field of nothing.
    """
    width = len(cells.columns)

    def blank(position: int) -> bool:
        # A header's name fills the first cell, as a rule: only a column whose first cell is blank is read whole.
        return not cells.iat[0, position].strip() and (cells.iloc[:, position].str.strip() == "").all()

    while width > 1 and len(cells) and blank(width - 1):
        width -= 1
    return cells if width == len(cells.columns) else cells.iloc[:, :width]


def check_field_lengths(cells: pd.DataFrame) -> None:
    """Refuse a cell too long to be a date, a price or a ticker, naming its line and column."""
    for column in cells.columns:
        lengths = cells[column].str.len()
        if len(lengths) and lengths.max() > MAX_FIELD_CHARS:
            line = lengths.idxmax()
            raise FileFormatError(
                f"line {line}, column {column + 1} holds a value of {int(lengths.max()):,} characters "
                f"(at most {MAX_FIELD_CHARS:,}): this is not a price or ticker table"
            )


def guess_separator(head: list[str]) -> str:
    """The separator that splits the most lines into the same number of fields: a title above the table has none."""

    def agreement(separator: str) -> int:
        counts = Counter(line.count(separator) for line in head if line.strip())
        counts.pop(0, None)
        return max(counts.values(), default=0)

    return max(SEPARATORS, key=agreement)


def _width(head: list[str], separator: str) -> int:
    for number, line in enumerate(head, start=1):
        _check_columns(line, separator, number)
    try:
        rows = csv.reader(head, delimiter=separator)
        return max((len(row) for row in rows), default=1) or 1
    except csv.Error:
        # A field larger than the csv module's limit: pandas reads it, and the length check names it.
        return max(line.count(separator) + 1 for line in head)


def _check_columns(line: str, separator: str, number: int) -> None:
    """Refuse a line too wide for a price table before it is split into a cell per field."""
    if line.count(separator) < MAX_COLUMNS:
        return
    # Quoted separators do not split; dropping the quoted text counts the fields without building them.
    fields = _QUOTED.sub("", line).count(separator) + 1
    if fields > MAX_COLUMNS:
        raise FileFormatError(
            f"line {number} has {fields:,} fields, more than the {MAX_COLUMNS} columns an upload may have: "
            "this is not a price or ticker table"
        )


def _record_lines(text: str, separator: str, records: int, lines: int) -> pd.Index:
    """Each record's line in the file: a quoted cell over several lines makes one record of them."""
    if records == lines:
        return pd.RangeIndex(1, records + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    starts, read = [], 0
    try:
        for _ in reader:
            starts.append(read + 1)
            read = reader.line_num
    except csv.Error:
        starts = []
    if len(starts) != records:
        return pd.RangeIndex(1, records + 1)
    return pd.Index(starts)


def _parser_message(error: Exception) -> str:
    found = _FIELD_COUNT.search(str(error))
    if found:
        expected, line, saw = found.groups()
        return f"line {line} has {int(saw):,} fields, the header has {expected}"
    return f"the file cannot be read as a table: {str(error).strip()[:200]}"
