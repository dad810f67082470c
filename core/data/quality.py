"""A data-quality report per ticker: coverage against the exchange calendar, staleness, and suspicious days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.data.calendar import calendar_for, exchange_for, last_trading_day
from core.data.splits import SplitCandidate, split_candidates
from core.data.validation import rule_masks
from db.repositories.actor import Actor
from db.repositories.prices import read_actions, read_prices

OUTLIER_SDS = 8.0
LISTED_DAYS = 10  # dates listed per finding; the counts are complete
OHLC_RULES = ("high below low", "open outside low-high", "close outside low-high")


@dataclass(frozen=True)
class QualityReport:
    ticker: str
    exchange: str
    rows: int
    first_day: date | None
    last_day: date | None
    last_trading_day: date
    missing_days: list[date] = field(default_factory=list)
    zero_volume_days: list[date] = field(default_factory=list)
    outliers: list[tuple[date, float]] = field(default_factory=list)  # day, log return in standard deviations
    split_candidates: list[SplitCandidate] = field(default_factory=list)
    ohlc_unrepaired: list[date] = field(default_factory=list)
    reported_splits: list[SplitCandidate] = field(default_factory=list)  # from the source, no confirmation needed

    @property
    def stale(self) -> bool:
        return self.last_day is None or self.last_day < self.last_trading_day

    def problems(self) -> list[str]:
        """One plain sentence per finding; empty when the ticker looks clean."""
        if self.rows == 0:
            return [f"{self.ticker}: no prices stored"]
        found = []
        if self.stale:
            found.append(f"stale: the last bar is {self.last_day}, the exchange last traded on {self.last_trading_day}")
        if self.missing_days:
            missing = _days(len(self.missing_days))
            found.append(f"{missing} missing against the {self.exchange} calendar{_list(self.missing_days)}")
        if self.zero_volume_days:
            found.append(f"{_days(len(self.zero_volume_days))} with zero volume{_list(self.zero_volume_days)}")
        if self.outliers:
            shown = ", ".join(f"{day} ({sds:+.1f} sd)" for day, sds in self.outliers[:LISTED_DAYS])
            found.append(f"{len(self.outliers)} return(s) beyond {OUTLIER_SDS:g} standard deviations: {shown}")
        if self.split_candidates:
            shown = ", ".join(f"{c.date} ({c.label})" for c in self.split_candidates)
            found.append(f"possible split(s), to confirm: {shown}")
        if self.reported_splits:
            shown = ", ".join(f"{c.date} ({c.label})" for c in self.reported_splits)
            found.append(f"split(s) reported by the source: {shown}; the adjusted close accounts for them")
        if self.ohlc_unrepaired:
            inconsistent = _days(len(self.ohlc_unrepaired))
            found.append(f"{inconsistent} with open or close outside low-high, unrepaired{_list(self.ohlc_unrepaired)}")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticker": self.ticker,
            "exchange": self.exchange,
            "rows": self.rows,
            "first_day": _iso(self.first_day),
            "last_day": _iso(self.last_day),
            "last_trading_day": _iso(self.last_trading_day),
            "stale": self.stale,
            "missing_days": [_iso(day) for day in self.missing_days],
            "zero_volume_days": [_iso(day) for day in self.zero_volume_days],
            "outliers": [{"date": _iso(day), "sds": round(sds, 2)} for day, sds in self.outliers],
            "split_candidates": [candidate.to_dict() for candidate in self.split_candidates],
            "reported_splits": [candidate.to_dict() for candidate in self.reported_splits],
            "ohlc_unrepaired": [_iso(day) for day in self.ohlc_unrepaired],
            "problems": self.problems(),
        }


def quality_report(
    prices: pd.DataFrame, *, ticker: str, today: date, reported: list[tuple[date, Fraction]] | None = None
) -> QualityReport:
    """The report of one ticker's bars (columns date, open, high, low, close, adjusted_close, volume).

    reported: the splits the source gave (day, new shares per old); detection does not ask about those days.
    """
    reported = reported or []
    exchange = exchange_for(ticker)
    last_session = last_trading_day(today, ticker)
    if prices.empty:
        return QualityReport(ticker, exchange, 0, None, None, last_session)
    prices = prices.sort_values("date").reset_index(drop=True)
    days = pd.to_datetime(prices["date"]).dt.normalize()
    first, last = days.iloc[0], days.iloc[-1]
    calendar = calendar_for(ticker)
    start = max(first, calendar.first_session)
    end = min(last, calendar.last_session)
    sessions = calendar.sessions_in_range(start, end) if start <= end else pd.DatetimeIndex([])
    missing = sessions.tz_localize(None).difference(pd.DatetimeIndex(days))
    returns = np.diff(np.log(prices["adjusted_close"].to_numpy(dtype=float)))
    outliers = []
    if len(returns) > 2 and np.nanstd(returns) > 0:
        scores = (returns - np.nanmean(returns)) / np.nanstd(returns)
        outliers = [(days.iloc[i + 1].date(), float(scores[i])) for i in np.flatnonzero(np.abs(scores) > OUTLIER_SDS)]
    masks = rule_masks(prices.assign(ticker=ticker))
    unrepaired = pd.concat([masks[rule] for rule in OHLC_RULES], axis=1).any(axis=1).to_numpy()
    return QualityReport(
        ticker=ticker,
        exchange=exchange,
        rows=len(prices),
        first_day=first.date(),
        last_day=last.date(),
        last_trading_day=last_session,
        missing_days=[day.date() for day in missing],
        zero_volume_days=[day.date() for day in days[(prices["volume"] == 0).to_numpy()]],
        outliers=outliers,
        split_candidates=[c for c in split_candidates(prices) if c.date not in {day for day, _ in reported}],
        ohlc_unrepaired=[day.date() for day in days[unrepaired]],
        reported_splits=[SplitCandidate(day, factor, float(factor)) for day, factor in reported],
    )


def ticker_quality(*, session: Session, actor: Actor, ticker: str, today: date) -> QualityReport:
    """The report of the prices the actor sees for one ticker (their own rows win over shared ones)."""
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    actions = read_actions(session=session, actor=actor, ticker=ticker)
    splits = actions[actions["kind"] == "split"].drop_duplicates("date")
    reported = [
        (day, Fraction(value).limit_denominator(100))
        for day, value in zip(splits["date"], splits["value"], strict=True)
    ]
    return quality_report(prices, ticker=ticker, today=today, reported=reported)


def tickers_with_problems(*, session: Session, actor: Actor, tickers: list[str], today: date) -> dict[str, list[str]]:
    """For the screener and the Train page: each ticker with problems, and what they are (staleness aside)."""
    flagged = {}
    for ticker in tickers:
        report = ticker_quality(session=session, actor=actor, ticker=ticker, today=today)
        problems = [p for p in report.problems() if not p.startswith("stale")]
        if problems:
            flagged[ticker] = problems
    return flagged


def _days(count: int) -> str:
    return f"{count:,} day{'' if count == 1 else 's'}"


def _list(days: list[date]) -> str:
    shown = ", ".join(str(day) for day in days[:LISTED_DAYS])
    return f": {shown}{'…' if len(days) > LISTED_DAYS else ''}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
