"""Ticker symbols as Yahoo spells them: BRK-B, ^GSPC, EURUSD=X, 7203.T."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from common.errors import BadInput
from core.data.errors import FileFormatError
from core.data.table import read_text_table

# Letters and digits with the separators Yahoo uses: '.' for exchanges, '-' for share classes,
# '^' leading indices, '=' for currencies and futures.
TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]{0,14}(=[A-Z])?$")
MAX_TICKER_LENGTH = 20
# A watchlist is short; a list file this large is a mistake.
MAX_LIST_BYTES = 1024 * 1024
MAX_LIST_ROWS = 20_000
# What a list's header, or the word before a list on one line, calls its symbols.
LIST_HEADERS = ("ticker", "tickers", "symbol", "symbols")
# Other words a one-column list's header may be; each could also be a ticker of its own.
OTHER_HEADER_WORDS = frozenset({"stock", "stocks", "name", "names", "code", "codes", "security", "securities"})


class TickerError(BadInput, ValueError):
    """A symbol is not a ticker; the message quotes it."""


def normalise_ticker(raw: str) -> str:
    """Upper-cased, trimmed symbol; raises TickerError naming the symbol when it cannot be a ticker."""
    trimmed = raw.strip()
    symbol = trimmed.upper()
    # ASCII as sent, not once upper-cased: Unicode's upper case of ß is SS, of ﬁ FI and of ı I, another ticker.
    ascii_as_sent = trimmed.isascii()
    if not ascii_as_sent or not symbol or len(symbol) > MAX_TICKER_LENGTH or not TICKER_PATTERN.match(symbol):
        raise TickerError(f"{trimmed!r} is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)")
    return symbol


def parse_ticker_text(text: str) -> tuple[list[str], list[str]]:
    """Symbols from free text (commas, spaces or lines; '#' starts a comment): (valid, problems)."""
    return normalise_tickers(_tokens(text))


def normalise_tickers(candidates: Iterable[str]) -> tuple[list[str], list[str]]:
    valid: dict[str, None] = {}
    problems = []
    for candidate in candidates:
        try:
            valid[normalise_ticker(candidate)] = None
        except TickerError as error:
            problems.append(str(error))
    return list(valid), problems


def _tokens(text: str) -> list[str]:
    tokens = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        tokens.extend(token for token in re.split(r"[,;\s]+", line) if token)
    return tokens


def _is_list_header(first: str, below: Sequence[str]) -> bool:
    """Whether the first cell of a one-column list is its header rather than a ticker.

    Ticker(s) and Symbol(s) are a header however they are written. Stock(s), Name(s), Code(s) and
    Security/Securities, in any case, are a header only when written otherwise than every ticker below
    them: `Code` or `code` over AAPL, `CODE` over aapl; `CODE` over AAPL is the ticker CODE.
    """
    word = first.strip()
    if word.lower() in LIST_HEADERS:
        return True
    return word.lower() in OTHER_HEADER_WORDS and all(_lettering(cell) != _lettering(word) for cell in below)


def _names_columns(row: Sequence[str]) -> bool:
    """Whether a table's first row is a header: a word a header uses, or a name not written as tickers are.

    'Company', 'Weight' and 'Apple Inc.' are names; 'AAPL' and 'aapl' could be tickers, as in the text box.
    """
    cells = [cell.strip() for cell in row if cell.strip()]
    if any(cell.lower() in LIST_HEADERS or cell.lower() in OTHER_HEADER_WORDS for cell in cells):
        return True
    return any(_lettering(cell) == "mixed" or not TICKER_PATTERN.match(cell.upper()) for cell in cells)


def _lettering(cell: str) -> str:
    """How a cell is written: "upper" (no small letter, as tickers are), "lower", or "mixed"."""
    stripped = cell.strip()
    if stripped == stripped.upper():
        return "upper"
    return "lower" if stripped == stripped.lower() else "mixed"


def parse_ticker_file(data: bytes, *, column: str | None = None) -> tuple[list[str], list[str]]:
    """Symbols from an uploaded list: one per line (TXT), one line of them ('AAPL,MSFT,GOOG'), or one column of a
    CSV, by name if it has several.

    Blank lines and '#' comments are ignored, duplicates removed; returns (valid, problems).
    A file that is not a readable list (binary, broken encoding, huge) is one problem naming why.
    """
    try:
        cells = read_text_table(data, max_bytes=MAX_LIST_BYTES, max_rows=MAX_LIST_ROWS, comment="#").cells
    except FileFormatError as error:
        return [], [str(error)]
    if cells.empty:
        return [], ["the file lists no tickers"]
    rows = [[cell for cell in row] for row in cells.itertuples(index=False)]
    width = max(sum(1 for cell in row if cell.strip()) for row in rows)
    if column is None and len(rows) == 1 and not any(cell.strip().lower() in LIST_HEADERS for cell in rows[0]):
        # One line of symbols is a list written across ('AAPL,MSFT,GOOG', 'AAPL MSFT'), as in the text box;
        # a line naming a Ticker column is a header with no rows under it.
        return normalise_tickers(_tokens(" ".join(rows[0])))
    if width == 1 and column is None:
        candidates = [next(cell for cell in row if cell.strip()) for row in rows]
        if candidates and _is_list_header(candidates[0], candidates[1:]):
            candidates = candidates[1:]
        # A line may hold several symbols apart by spaces ('AAPL MSFT'), read as the text box reads them.
        return normalise_tickers(_tokens("\n".join(candidates)))
    if column is None and not _names_columns(rows[0]):
        # Lines of symbols ('AAPL,MSFT' over 'GOOG,AMZN'), not a table under a header: read as if pasted.
        return normalise_tickers(_tokens("\n".join(" ".join(row) for row in rows)))
    header = [name.strip().lower() for name in rows[0]]
    wanted = (column or "").strip().lower()
    if not wanted:
        wanted = next((name for name in ("ticker", "symbol", "tickers", "symbols") if name in header), "")
    if wanted not in header:
        names = ", ".join(repr(name) for name in rows[0] if name)
        return [], [f"no column {column or 'Ticker or Symbol'!r} in the header ({names}); name the column to use"]
    position = header.index(wanted)
    return normalise_tickers(row[position] for row in rows[1:] if row[position].strip())
