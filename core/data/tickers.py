"""Ticker symbols as Yahoo spells them: BRK-B, ^GSPC, EURUSD=X, 7203.T."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Letters and digits with the separators Yahoo uses: '.' for exchanges, '-' for share classes,
# '^' leading indices, '=' for currencies and futures.
TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-]{0,14}(=[A-Z])?$")
MAX_TICKER_LENGTH = 20


class TickerError(ValueError):
    """A symbol is not a ticker; the message quotes it."""


def normalise_ticker(raw: str) -> str:
    """Upper-cased, trimmed symbol; raises TickerError naming the symbol when it cannot be a ticker."""
    symbol = raw.strip().upper()
    if not symbol or len(symbol) > MAX_TICKER_LENGTH or not TICKER_PATTERN.match(symbol):
        raise TickerError(
            f"{raw.strip()!r} is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC, EURUSD=X, 7203.T)"
        )
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
