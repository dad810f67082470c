"""The one error a refused file raises: its message names the problem and where it is."""

from __future__ import annotations

from common.errors import BadInput


class FileFormatError(BadInput, ValueError):
    """The file as a whole cannot be read as prices or tickers; the message says what is wrong and where."""

    # A workbook's sheets other than the first, when the first was read unasked and is no prices.
    other_sheets: tuple[str, ...] = ()
