"""Excel workbooks (.xlsx) as the same grid of text cells a CSV gives, read within fixed bounds."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pandas as pd

from core.data.errors import FileFormatError
from core.data.table import MAX_BYTES, MAX_ROWS, Table, check_field_lengths, drop_blank_rows, human_size

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ZIP_SIGNATURE = b"PK\x03\x04"
# A workbook is a zip: refuse one that would inflate far beyond what prices need (a zip bomb).
MAX_INFLATED_BYTES = 400 * 1024 * 1024
MAX_COLUMNS = 200
# What openpyxl raises for a damaged or foreign file (lxml's XML errors are SyntaxErrors).
UNREADABLE = (KeyError, ValueError, TypeError, IndexError, AttributeError, OSError, SyntaxError, zipfile.BadZipFile)


def is_excel_name(filename: str) -> bool:
    return filename.lower().endswith(EXCEL_SUFFIXES)


def sheet_names(data: bytes) -> list[str]:
    """The workbook's sheets, for the page to offer; [] when the file is not a workbook."""
    try:
        return list(_open(data).sheetnames)
    except FileFormatError:
        return []


def read_excel_table(
    data: bytes, *, sheet: str | None = None, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> Table:
    """The first sheet (or the named one) as text cells keyed by row number; dates as ISO text."""
    if len(data) > max_bytes:
        raise FileFormatError(f"the workbook is {human_size(len(data))}, larger than the {human_size(max_bytes)} limit")
    book = _open(data)
    if sheet and sheet not in book.sheetnames:
        raise FileFormatError(f"sheet {sheet!r} is not in the workbook; it has {', '.join(map(repr, book.sheetnames))}")
    worksheet = book[sheet] if sheet else book.worksheets[0]
    try:
        rows = _rows(worksheet, max_rows)
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
    return Table(cells=cells, encoding="xlsx", separator="")


def _rows(worksheet, max_rows: int) -> list[list[str]]:
    rows = []
    for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > max_rows + 1:
            raise FileFormatError(f"the sheet has more than the {max_rows:,} rows an upload may have: split it")
        rows.append([_text(value) for value in row[:MAX_COLUMNS]])
    return rows


def _open(data: bytes):
    if not data.startswith(ZIP_SIGNATURE):
        raise FileFormatError(
            "the file is named .xlsx but is not an Excel workbook: save it from Excel again, or as CSV"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(entry.file_size for entry in archive.infolist())
    except zipfile.BadZipFile as error:
        raise FileFormatError(f"the workbook is damaged: {error}") from None
    if inflated > MAX_INFLATED_BYTES:
        raise FileFormatError(
            f"the workbook inflates to {human_size(inflated)}, more than the {human_size(MAX_INFLATED_BYTES)} allowed"
        )
    from openpyxl import load_workbook  # heavy; only uploads of workbooks need it

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UNREADABLE as error:
        raise FileFormatError(f"the file is not a readable Excel workbook ({type(error).__name__})") from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
