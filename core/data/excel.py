"""Excel workbooks (.xlsx) as the same grid of text cells a CSV gives, read within fixed bounds."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from xml.etree.ElementTree import iterparse

import pandas as pd

from core.data.errors import FileFormatError
from core.data.table import (
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    Table,
    check_field_lengths,
    drop_blank_rows,
    human_size,
    shorten,
)

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ZIP_SIGNATURE = b"PK\x03\x04"
# A workbook is a zip: refuse one that would inflate far beyond what prices need (a zip bomb).
MAX_INFLATED_BYTES = 400 * 1024 * 1024
# What openpyxl raises for a damaged or foreign file (lxml's XML errors are SyntaxErrors).
# What a message quotes of the workbook's sheet names: a workbook may have hundreds, each of 31 characters.
SHOWN_SHEETS = 12
SHOWN_SHEET_CHARS = 40
UNREADABLE = (KeyError, ValueError, TypeError, IndexError, AttributeError, OSError, SyntaxError, zipfile.BadZipFile)


def is_excel_name(filename: str) -> bool:
    return filename.lower().endswith(EXCEL_SUFFIXES)


def sheet_names(data: bytes) -> list[str]:
    """The workbook's sheets, for the page to offer; [] when the file is not a workbook."""
    try:
        return list(_open(data)[0].sheetnames)
    except FileFormatError:
        return []


def read_excel_table(
    data: bytes, *, sheet: str | None = None, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """The first sheet (or the named one) as text cells keyed by row number; dates as ISO text."""
    if len(data) > max_bytes:
        raise FileFormatError(f"the workbook is {human_size(len(data))}, larger than the {human_size(max_bytes)} limit")
    book, widths = _open(data, max_rows)
    try:
        worksheet = book[_sheet_named(sheet, book.sheetnames)] if sheet else book.worksheets[0]
    except FileFormatError:
        book.close()
        raise
    # The <dimension> tag is the writer's claim, and openpyxl stops at it: a tag understating the sheet
    # would cut rows or columns off without a word. The streamed widths are what the sheet holds.
    worksheet.reset_dimensions()
    path = str(getattr(worksheet, "_worksheet_path", "")).lstrip("/")
    width = widths.get(path, max(widths.values(), default=0))
    try:
        rows = _rows(worksheet, max_rows, width)
    except FileFormatError:
        raise
    except UNREADABLE as error:
        raise FileFormatError(f"sheet {worksheet.title!r} cannot be read ({type(error).__name__})") from None
    finally:
        book.close()
    if not rows:
        raise FileFormatError(f"sheet {worksheet.title!r} is empty")
    width = max(len(row) for row in rows)
    cells = pd.DataFrame([row + [""] * (width - len(row)) for row in rows], index=range(1, len(rows) + 1))
    cells = drop_blank_rows(cells)
    if cells.empty:
        raise FileFormatError(f"sheet {worksheet.title!r} is empty")
    check_field_lengths(cells)
    return Table(cells=cells, encoding="xlsx", separator="", serial_epoch=book.epoch)


def _sheet_named(typed: str, names: list[str]) -> str:
    """The sheet a typed name means: the one so named, else the one named so but for spaces around it and case.

    Excel keeps spaces around a sheet's name, which a name typed or pasted into a form loses; and it tells
    no two sheets apart by case. openpyxl does, so two sheets may still match: the name must then be exact.
    """
    if typed in names:
        return typed
    wanted = typed.strip().casefold()
    matching = [name for name in names if name.strip().casefold() == wanted]
    if len(matching) == 1:
        return matching[0]
    asked = repr(shorten(typed, SHOWN_SHEET_CHARS))
    if matching:
        raise FileFormatError(f"sheet {asked} could be {_sheet_list(matching, ' or ')}: type its name exactly")
    raise FileFormatError(f"sheet {asked} is not in the workbook; it has {_sheet_list(names, ', ')}")


def _sheet_list(names: list[str], joint: str) -> str:
    shown = joint.join(repr(shorten(name, SHOWN_SHEET_CHARS)) for name in names[:SHOWN_SHEETS])
    more = len(names) - SHOWN_SHEETS
    return f"{shown} and {more} more" if more > 0 else shown


def _rows(worksheet, max_rows: int, width: int) -> list[list[str]]:
    """The sheet's values as text, each row at most MAX_COLUMNS wide.

    Without a dimension openpyxl makes a row as wide as its last cell: one formatted cell in column
    XFD would build 16,384 values. A stated max_col bounds every row to the sheet's widest one.
    """
    rows = []
    cells = worksheet.iter_rows(values_only=True, max_col=min(width, MAX_COLUMNS) or None)
    for number, row in enumerate(cells, start=1):
        if number > max_rows + 1:
            raise _too_many_rows(max_rows)
        rows.append([_text(value) for value in row[:MAX_COLUMNS]])
    return rows


def _too_many_rows(max_rows: int) -> FileFormatError:
    return FileFormatError(f"the sheet has more than the {max_rows:,} rows an upload may have: split it")


def _open(data: bytes, max_rows: int = MAX_ROWS):
    """The workbook, read-only, and the widest column each worksheet part holds (by its path in the zip)."""
    if not data.startswith(ZIP_SIGNATURE):
        raise FileFormatError(
            "the file is named .xlsx but is not an Excel workbook: save it from Excel again, or as CSV"
        )
    widths = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_inflated_size(archive)
            for entry in archive.infolist():
                if entry.filename.lower().endswith(".xml"):
                    with archive.open(entry) as part:
                        widths[entry.filename.lstrip("/")] = _check_sheet_shape(part, max_rows)
    except zipfile.BadZipFile as error:
        raise FileFormatError(f"the workbook is damaged: {error}") from None
    except FileFormatError:
        raise
    except UNREADABLE as error:
        raise FileFormatError(f"the file is not a readable Excel workbook ({type(error).__name__})") from None
    from openpyxl import load_workbook  # heavy; only uploads of workbooks need it

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True), widths
    except UNREADABLE as error:
        raise FileFormatError(f"the file is not a readable Excel workbook ({type(error).__name__})") from None


def _check_inflated_size(archive: zipfile.ZipFile) -> None:
    inflated = sum(entry.file_size for entry in archive.infolist())
    if inflated > MAX_INFLATED_BYTES:
        raise FileFormatError(
            f"the workbook inflates to {human_size(inflated)}, more than the {human_size(MAX_INFLATED_BYTES)} allowed"
        )


def _check_sheet_shape(part, max_rows: int) -> int:
    """Refuse a sheet too long or a row too wide, streaming its XML; returns its widest column (0 if no sheet).

    openpyxl builds each row whole, and a sheet without a stated size whole as it opens the workbook:
    a row of millions of cells would be built before any bound could cut it.
    """
    open_elements, number, cells, column, widest = [], 0, 0, 0, 0
    for event, element in iterparse(part, events=("start", "end")):
        name = element.tag.rpartition("}")[2]
        if event == "start":
            if not open_elements and name != "worksheet":
                return 0
            open_elements.append(element)
            if name == "row":
                number, cells, column = int(element.get("r") or number + 1), 0, 0
                if number > max_rows + 1:
                    raise _too_many_rows(max_rows)
            continue
        open_elements.pop()
        if open_elements:
            # Each element is dropped once read, so the sheet is never held whole.
            open_elements[-1].remove(element)
        if name == "c":
            cells += 1
            column = _column_of(element.get("r"), column + 1)
            widest = max(widest, column)
            if cells > MAX_COLUMNS:
                raise FileFormatError(
                    f"row {number} of a sheet has more than {MAX_COLUMNS} cells, more columns than a price table "
                    "has: delete the others, or save the prices as CSV"
                )
    return widest


def _column_of(reference: str | None, following: int) -> int:
    """The column number of a cell reference ('C7' is 3); a cell without one follows the one before it."""
    letters = (reference or "").rstrip("0123456789")
    # Excel's last column is XFD: longer letters are no column openpyxl will read either.
    if not letters or len(letters) > 3 or not (letters.isascii() and letters.isalpha()):
        return following
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
