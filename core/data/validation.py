"""Checks on price rows before they are stored, with a report a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.frames import PRICE_COLUMNS
from core.data.tickers import TickerError, normalise_ticker

EXAMPLE_ROWS = 20
# Float noise in a provider's numbers must not read as a close outside the day's range.
RANGE_TOLERANCE = 1e-9
# No exchange quoted daily prices before 1800; a year like 0001 or 9999 is a typo or a placeholder, and
# later steps (target days after the last one, calendars) cannot even name the day after 9999-12-31.
EARLIEST_DAY = pd.Timestamp("1800-01-01")
# Volumes are stored as 64-bit integers; a larger number would wrap round to a negative one.
VOLUME_LIMIT = 2.0**63
# A file's malformed ticker is quoted back in the report; a cell can hold 1,000 characters.
SHOWN_TICKER_CHARS = 40


@dataclass(frozen=True)
class Offence:
    line: int
    rules: tuple[str, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class ValidationReport:
    rows: int
    counts: dict[str, int]
    examples: list[Offence] = field(default_factory=list)
    invalid_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.invalid_rows == 0

    @property
    def valid_rows(self) -> int:
        return self.rows - self.invalid_rows

    def summary(self) -> str:
        if self.ok:
            return f"{self.rows} rows, all valid"
        rules = "; ".join(f"{rule}: {count}" for rule, count in self.counts.items())
        return f"{self.invalid_rows} of {self.rows} rows invalid ({rules})"

    def lines(self) -> list[str]:
        """The report as text: one line per rule, then the first offending rows with their line numbers."""
        text = [self.summary()]
        text += [f"  line {o.line}: {', '.join(o.rules)} {o.values}" for o in self.examples]
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "invalid_rows": self.invalid_rows,
            "counts": self.counts,
            "examples": [{"line": o.line, "rules": list(o.rules), "values": o.values} for o in self.examples],
        }


def rule_masks(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """For each rule, which rows break it. Expects our columns plus 'ticker'; dates may be NaT."""
    prices = frame[list(PRICE_COLUMNS)].astype(float)
    volume = frame["volume"].astype(float)
    dates = pd.to_datetime(frame["date"], errors="coerce")
    numbers = pd.concat([prices, volume], axis=1).to_numpy()
    tolerance = RANGE_TOLERANCE * prices["high"].abs()
    low, high = prices["low"] - tolerance, prices["high"] + tolerance
    # Tomorrow in UTC still counts: east of Greenwich a market's day begins before UTC's does.
    latest_day = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=1)
    return {
        "malformed ticker": _malformed_tickers(frame["ticker"]),
        "unparseable date": dates.isna(),
        "date before 1800": dates < EARLIEST_DAY,
        "date after today": dates > latest_day,
        "duplicate ticker and date": dates.notna() & frame.assign(_d=dates).duplicated(["ticker", "_d"], keep="first"),
        "missing or infinite number": pd.Series(~np.isfinite(numbers).all(axis=1), index=frame.index),
        "price not above zero": (prices <= 0).any(axis=1),
        "high below low": prices["high"] < prices["low"],
        "open outside low-high": (prices["open"] < low) | (prices["open"] > high),
        "close outside low-high": (prices["close"] < low) | (prices["close"] > high),
        "negative volume": volume < 0,
        "volume too large to store": volume >= VOLUME_LIMIT,
    }


def validate_prices(
    frame: pd.DataFrame, *, line_column: str = "line", raw_date_column: str | None = None
) -> tuple[ValidationReport, pd.Series]:
    """The report, and a mask of the rows that break no rule."""
    masks = rule_masks(frame)
    broken = pd.DataFrame(masks)
    invalid = broken.any(axis=1)
    counts = {rule: int(mask.sum()) for rule, mask in masks.items() if mask.any()}
    examples = []
    for index in frame.index[invalid][:EXAMPLE_ROWS]:
        row = frame.loc[index]
        values = {"ticker": _shortened(row["ticker"])} if broken.at[index, "malformed ticker"] else {}
        values |= {"date": str(row[raw_date_column] if raw_date_column else row["date"])}
        values |= {column: _plain(row[column]) for column in (*PRICE_COLUMNS, "volume")}
        rules = tuple(rule for rule in masks if broken.at[index, rule])
        examples.append(Offence(line=int(row[line_column]), rules=rules, values=values))
    report = ValidationReport(rows=len(frame), counts=counts, examples=examples, invalid_rows=int(invalid.sum()))
    return report, ~invalid


def _malformed_tickers(tickers: pd.Series) -> pd.Series:
    """Symbols that are no ticker ('BRK/B'): a long file's rows keep theirs as written, to be refused by line."""
    malformed = {}
    for value in pd.unique(tickers):
        try:
            normalise_ticker(str(value))
            malformed[value] = False
        except TickerError:
            malformed[value] = True
    return tickers.map(malformed).astype(bool)


def _shortened(value: Any) -> str:
    text = str(value)
    return text if len(text) <= SHOWN_TICKER_CHARS else text[: SHOWN_TICKER_CHARS - 1] + "…"


def _plain(value: Any) -> Any:
    """Numbers as JSON takes them (the report is stored in data_uploads)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value
