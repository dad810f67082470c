"""Excel workbooks (.xlsx) as the same grid of text cells a CSV gives, read within fixed bounds."""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import date, datetime
from xml.parsers import expat

import pandas as pd

from common.words import plural
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
# openpyxl builds every row of a sheet as wide as its widest, at about fifty times a CSV's cost a cell: a workbook
# is bounded by its grid of cells (rows times the widest row, every sheet together) where a CSV is bounded by its
# bytes. The bound is the largest wide file of closes an upload may be, one ticker over MAX_ROWS days: a date and
# a close a row. A file of full daily bars may then have over 280,000 rows; a longer one is read as CSV.
MAX_SHEET_CELLS = 2 * MAX_ROWS
# A workbook is a zip: refuse one that would inflate far beyond what its cells need (a zip bomb). 64 bytes a cell
# hold its XML with a reference, a style and a long number, and a shared string besides.
MAX_INFLATED_BYTES = 64 * MAX_SHEET_CELLS
# XML elements a worksheet may hold for each of its cells: a cell, its value (an inline string's two), its row.
ELEMENTS_PER_CELL = 4
# What a message quotes of the workbook's sheet names: a workbook may have hundreds, each of 31 characters.
SHOWN_SHEETS = 12
SHOWN_SHEET_CHARS = 40
# What openpyxl raises for a damaged or foreign file (lxml's XML errors are SyntaxErrors), expat for bad XML
# (a LookupError for an encoding Python does not know), and zipfile for a damaged compressed part.
UNREADABLE = (
    KeyError,
    LookupError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    OSError,
    EOFError,
    SyntaxError,
    zipfile.BadZipFile,
    zlib.error,
    expat.ExpatError,
)
# What reading a part up to its root element raises when it is no XML expat reads: an image, a binary part, an
# encoding expat lacks, or a damaged part openpyxl never opens (images are not read for a read-only workbook).
_NO_XML = (expat.ExpatError, ValueError, LookupError, EOFError, zipfile.BadZipFile, zlib.error)


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
    path = getattr(worksheet, "_worksheet_path", None)
    if path not in widths:
        # openpyxl opens the part the workbook's relationships name, whatever its name or root element: a part
        # the streaming check did not measure as a worksheet could build rows of any size.
        book.close()
        part = repr(shorten(str(path), SHOWN_SHEET_CHARS)) if path else "a chart or other non-table part"
        raise FileFormatError(
            f"sheet {shorten(worksheet.title, SHOWN_SHEET_CHARS)!r} is stored in a part that is no worksheet the "
            f"upload can check ({part}): save the workbook from Excel again, or save the prices as CSV"
        )
    # The <dimension> tag is the writer's claim, and openpyxl stops at it: a tag understating the sheet
    # would cut rows or columns off without a word. The streamed widths are what the sheet holds.
    worksheet.reset_dimensions()
    try:
        rows = _rows(worksheet, max_rows, widths[path])
    except FileFormatError:
        raise
    except UNREADABLE as error:
        raise FileFormatError(f"sheet {worksheet.title!r} cannot be read ({_error_name(error)})") from None
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
    others = () if sheet else tuple(book.sheetnames[1:])
    return Table(cells=cells, encoding="xlsx", separator="", serial_epoch=book.epoch, other_sheets=others)


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
        raise FileFormatError(f"sheet {asked} could be {sheet_list(matching, ' or ')}: type its name exactly")
    raise FileFormatError(f"sheet {asked} is not in the workbook; it has {sheet_list(names, ', ')}")


def sheet_list(names: list[str] | tuple[str, ...], joint: str = ", ") -> str:
    """Sheet names quoted for a message, the long ones and those past a dozen cut short."""
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
    """The workbook, read-only, and the widest column of each part that is a worksheet (by its name in the zip).

    Every part is measured whatever its name: the workbook's relationships may name any part as a sheet.
    Of parts sharing a name the last is measured, the one zipfile (and so openpyxl) opens by that name.
    """
    if not data.startswith(ZIP_SIGNATURE):
        raise FileFormatError(
            "the file is named .xlsx but is not an Excel workbook: save it from Excel again, or as CSV"
        )
    widths = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_inflated_size(archive)
            shape = _SheetShape(max_rows)
            for name in dict.fromkeys(archive.namelist()):
                try:
                    part = archive.open(name)
                except (NotImplementedError, RuntimeError):
                    continue  # compressed in a way zipfile lacks, or encrypted: openpyxl cannot open it either
                with part:
                    width = shape.widest_column(part)
                if width is not None:
                    widths[name] = width
    except zipfile.BadZipFile as error:
        raise FileFormatError(f"the workbook is damaged: {error}") from None
    except FileFormatError:
        raise
    except UNREADABLE as error:
        raise FileFormatError(f"the file is not a readable Excel workbook ({_error_name(error)})") from None
    from openpyxl import load_workbook  # heavy; only uploads of workbooks need it

    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True), widths
    except UNREADABLE as error:
        raise FileFormatError(f"the file is not a readable Excel workbook ({_error_name(error)})") from None


def _error_name(error: BaseException) -> str:
    # zlib names its one exception "error", which says nothing in a message.
    return "damaged compressed data" if isinstance(error, zlib.error) else type(error).__name__


def _check_inflated_size(archive: zipfile.ZipFile) -> None:
    inflated = sum(entry.file_size for entry in archive.infolist())
    if inflated > MAX_INFLATED_BYTES:
        raise FileFormatError(
            f"the workbook inflates to {human_size(inflated)}, more than the {human_size(MAX_INFLATED_BYTES)} allowed"
        )


class _NotASheetError(Exception):
    """The part's root is no worksheet: nothing of it is a cell."""


class _SheetShape:
    """Refuses, streaming each worksheet's XML, a sheet too long, a row too wide, or a workbook of too many cells.

    openpyxl builds each row whole, as wide as the sheet's widest, and a sheet without a stated size whole as it
    opens the workbook: a few kilobytes zipped can hold millions of cells, built before any bound could cut them.
    expat's callbacks see each element once and keep nothing, at a fraction of ElementTree's cost; they run
    for every element of every sheet, so they do as little as they can.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.cells = 0  # every sheet's, so far
        self.grids = 0  # rows times the widest row, of the sheets streamed already
        self.elements = 0
        self.max_elements = ELEMENTS_PER_CELL * MAX_SHEET_CELLS

    def widest_column(self, part) -> int | None:
        """The widest column of a worksheet part, None when the part is no worksheet; refuses as it streams.

        A part that cannot be read up to its root element is no worksheet measured: read_excel_table refuses
        a sheet stored in one.
        """
        self.row, self.row_cells, self.column, self.widest = 0, 0, 0, 0
        self.in_worksheet = False
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self._root
        try:
            self.parser.ParseFile(part)
        except _NotASheetError:
            return None
        except _NO_XML:
            if self.in_worksheet:
                raise
            return None
        self.grids += self.row * self.widest
        return self.widest

    def _root(self, tag: str, attributes: dict[str, str]) -> None:
        if tag.rpartition(":")[2] != "worksheet":
            raise _NotASheetError
        self.in_worksheet = True
        self.parser.StartElementHandler = self._start

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        self.elements += 1
        if tag == "c" or tag[-2:] == ":c":
            self.row_cells += 1
            self.cells += 1
            self.column = _column_of(attributes.get("r"), self.column + 1)
            if self.row_cells > MAX_COLUMNS:
                raise FileFormatError(
                    f"row {self.row} of a sheet has more than {MAX_COLUMNS} cells, more columns than a price table "
                    "has: delete the others, or save the prices as CSV"
                )
            if self.column > self.widest:
                self.widest = self.column
                self._check_cells()
            elif self.cells > MAX_SHEET_CELLS:
                self._check_cells()
        elif tag == "row" or tag[-4:] == ":row":
            self.row, self.row_cells, self.column = int(attributes.get("r") or self.row + 1), 0, 0
            if self.row > self.max_rows + 1:
                raise _too_many_rows(self.max_rows)
            self._check_cells()
        elif self.elements > self.max_elements:
            raise FileFormatError(
                f"the workbook's sheets hold more than {self.max_elements:,} XML elements, more than the "
                f"{MAX_SHEET_CELLS:,} cells a workbook may have need: save the prices as CSV"
            )

    def _check_cells(self) -> None:
        if max(self.grids + self.row * self.widest, self.cells) > MAX_SHEET_CELLS:
            raise FileFormatError(
                f"the workbook holds more than the {MAX_SHEET_CELLS:,} cells a workbook may have (rows times "
                f"columns: row {self.row:,} of a sheet {plural(self.widest, 'column')} wide): delete what is not "
                "prices, or save the prices as CSV"
            )


_COLUMN_NUMBERS: dict[str, int] = {}


def _column_of(reference: str | None, following: int) -> int:
    """The column number of a cell reference ('C7' is 3); a cell without one follows the one before it."""
    letters = (reference or "").rstrip("0123456789")
    number = _COLUMN_NUMBERS.get(letters)
    if number is not None:
        return number
    # Excel's last column is XFD: longer letters are no column openpyxl will read either.
    if not letters or len(letters) > 3 or not (letters.isascii() and letters.isalpha()):
        return following
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    # Each sheet names the same few columns a million times; at most 16,384 are ever named (A to XFD).
    _COLUMN_NUMBERS[letters] = number
    return number


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
