"""A data-quality report per ticker: coverage against the exchange calendar, staleness, and suspicious days."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from fractions import Fraction
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from common.words import plural
from core.data.calendar import as_instant, calendar_for_exchange, exchange_for, last_closed_session
from core.data.splits import SplitCandidate, shows_split, split_candidates_of
from core.data.validation import rule_masks
from db.repositories.actor import Actor
from db.repositories.prices import read_actions, read_prices

OUTLIER_SDS = 8.0
UNCHANGED_DAYS = 5  # a trading week of one close: a suspension, a delisting or a vendor repeating itself
LISTED_DAYS = 10  # dates listed per finding; the counts are complete
OHLC_RULES = ("high below low", "open outside low-high", "close outside low-high")


@dataclass(frozen=True)
class QualityReport:
    ticker: str
    exchange: str
    rows: int
    first_day: date | None
    last_day: date | None
    last_trading_day: date  # the exchange's newest session closed when the report was made
    missing_days: list[date] = field(default_factory=list)
    off_calendar_days: list[date] = field(default_factory=list)  # bars on days the exchange had no session
    zero_volume_days: list[date] = field(default_factory=list)
    outliers: list[tuple[date, float]] = field(default_factory=list)  # day, log return in standard deviations
    split_candidates: list[SplitCandidate] = field(default_factory=list)
    ohlc_unrepaired: list[date] = field(default_factory=list)
    # Splits the source reported, which the adjusted close runs through, and those it still shows.
    reported_splits: list[SplitCandidate] = field(default_factory=list)
    unadjusted_splits: list[SplitCandidate] = field(default_factory=list)
    # The longest run of one adjusted close (first day, last day, days), if it lasts UNCHANGED_DAYS or more.
    unchanged_closes: tuple[date, date, int] | None = None

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
            missing = plural(len(self.missing_days), "day")
            found.append(f"{missing} missing against the {self.exchange} calendar{_list(self.missing_days)}")
        if self.off_calendar_days:
            off = plural(len(self.off_calendar_days), "day")
            found.append(f"{off} the {self.exchange} calendar has no session on{_list(self.off_calendar_days)}")
        if self.zero_volume_days:
            found.append(f"{plural(len(self.zero_volume_days), 'day')} with zero volume{_list(self.zero_volume_days)}")
        if self.outliers:
            shown = ", ".join(f"{day} ({sds:+.1f} sd)" for day, sds in self.outliers[:LISTED_DAYS])
            found.append(f"{plural(len(self.outliers), 'return')} beyond {OUTLIER_SDS:g} standard deviations: {shown}")
        if self.split_candidates:
            shown = ", ".join(f"{c.date} ({c.label})" for c in self.split_candidates)
            found.append(f"{plural(len(self.split_candidates), 'possible split')} to confirm: {shown}")
        if self.reported_splits:
            shown = ", ".join(f"{c.date} ({c.label})" for c in self.reported_splits)
            reported = plural(len(self.reported_splits), "split")
            found.append(f"{reported} reported by the source: {shown}; the adjusted close accounts for them")
        if self.unadjusted_splits:
            shown = ", ".join(f"{c.date} ({c.label})" for c in self.unadjusted_splits)
            reported = plural(len(self.unadjusted_splits), "split")
            found.append(
                f"{reported} reported by the source but left in the adjusted close: {shown}; "
                "returns jump on those days until prices that account for them are loaded"
            )
        if self.unchanged_closes:
            first, last, days = self.unchanged_closes
            found.append(f"close unchanged for {days} days in a row, {first} to {last}")
        if self.ohlc_unrepaired:
            inconsistent = plural(len(self.ohlc_unrepaired), "day")
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
            "off_calendar_days": [_iso(day) for day in self.off_calendar_days],
            "zero_volume_days": [_iso(day) for day in self.zero_volume_days],
            "outliers": [{"date": _iso(day), "sds": round(sds, 2)} for day, sds in self.outliers],
            "split_candidates": [candidate.to_dict() for candidate in self.split_candidates],
            "reported_splits": [candidate.to_dict() for candidate in self.reported_splits],
            "unadjusted_splits": [candidate.to_dict() for candidate in self.unadjusted_splits],
            "ohlc_unrepaired": [_iso(day) for day in self.ohlc_unrepaired],
            "unchanged_closes": _run_dict(self.unchanged_closes),
            "problems": self.problems(),
        }


def quality_report(
    prices: pd.DataFrame,
    *,
    ticker: str,
    today: date | datetime,
    reported: list[tuple[date, Fraction]] | None = None,
) -> QualityReport:
    """The report of one ticker's bars (columns date, open, high, low, close, adjusted_close, volume).

    today: when staleness is judged, an aware datetime (a bare day counts from its first instant in UTC,
    before any of its sessions closed). reported: the splits the source gave (day, new shares per old);
    detection does not ask about those days.
    """
    reports = quality_reports(prices.assign(ticker=ticker), today=today, reported={ticker: reported or []})
    return reports.get(ticker) or QualityReport(
        ticker, exchange_for(ticker), 0, None, None, last_closed_session(as_instant(today), ticker)
    )


def quality_reports(
    prices: pd.DataFrame, *, today: date | datetime, reported: dict[str, list[tuple[date, Fraction]]] | None = None
) -> dict[str, QualityReport]:
    """The reports of several tickers' bars (quality_report's columns plus ticker), by ticker.

    The row rules run once over every ticker's rows and the calendar is read once per exchange:
    per ticker, pandas' fixed cost per operation outweighed the arithmetic.
    """
    reported = reported or {}
    if prices.empty:
        return {}
    prices = prices.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    masks = rule_masks(prices)
    series = _Series(
        days=pd.to_datetime(prices["date"]).to_numpy().astype("datetime64[D]"),
        close=prices["close"].to_numpy(dtype=float),
        adjusted=prices["adjusted_close"].to_numpy(dtype=float),
        zero_volume=(prices["volume"] == 0).to_numpy(),
        unrepaired=np.logical_or.reduce([masks[rule].to_numpy() for rule in OHLC_RULES]),
    )
    tickers = prices["ticker"].to_numpy()
    starts = np.flatnonzero(tickers[1:] != tickers[:-1]) + 1
    reports = {}
    for start, end in pairwise([0, *starts.tolist(), len(prices)]):
        ticker = str(tickers[start])
        reports[ticker] = _report(ticker, series.part(start, end), as_instant(today), reported.get(ticker, []))
    return reports


@dataclass(frozen=True)
class _Series:
    """The columns a report reads, as arrays: slicing numpy costs nothing, slicing pandas does."""

    days: np.ndarray  # datetime64[D]
    close: np.ndarray
    adjusted: np.ndarray
    zero_volume: np.ndarray
    unrepaired: np.ndarray

    def part(self, start: int, end: int) -> _Series:
        # Views, never copies: astuple deep-copied every array of every ticker, 0.16 s of a 500-ticker screen.
        return _Series(*(getattr(self, column.name)[start:end] for column in fields(self)))


def _report(ticker: str, series: _Series, now: datetime, reported: list[tuple[date, Fraction]]) -> QualityReport:
    days = series.days
    sessions = _session_days(exchange_for(ticker))
    within = sessions[sessions.searchsorted(days[0]) : sessions.searchsorted(days[-1], side="right")]
    missing = np.setdiff1d(within, days, assume_unique=True)
    # Days outside the calendar's own span (before 1990, or past its horizon) are not judged.
    judged = days[(days >= sessions[0]) & (days <= sessions[-1])]
    off_calendar = np.setdiff1d(judged, sessions, assume_unique=True)
    reported_days = {day for day, _ in reported}
    candidates = [c for c in split_candidates_of(days, series.adjusted) if c.date not in reported_days]
    # A 1:1 "split" is a candidate a person rejected: not asked again, nothing to report.
    splits = [SplitCandidate(day, factor, float(factor)) for day, factor in reported if factor != 1]
    left_in = [split for split in splits if _left_in(split, days, series.adjusted)]
    return QualityReport(
        ticker=ticker,
        exchange=exchange_for(ticker),
        rows=len(days),
        first_day=days[0].astype(object),
        last_day=days[-1].astype(object),
        last_trading_day=last_closed_session(now, ticker),
        missing_days=missing.astype(object).tolist(),
        off_calendar_days=off_calendar.astype(object).tolist(),
        zero_volume_days=days[series.zero_volume].astype(object).tolist(),
        outliers=_outliers(days, series.adjusted, explained={c.date for c in candidates + left_in}),
        split_candidates=candidates,
        ohlc_unrepaired=days[series.unrepaired].astype(object).tolist(),
        reported_splits=[split for split in splits if split not in left_in],
        unadjusted_splits=left_in,
        unchanged_closes=_longest_unchanged(days, series.adjusted),
    )


def _longest_unchanged(days: np.ndarray, adjusted: np.ndarray) -> tuple[date, date, int] | None:
    """The longest run of days with one adjusted close, if it lasts UNCHANGED_DAYS or more."""
    if len(adjusted) < UNCHANGED_DAYS:
        return None
    moved = np.flatnonzero(np.r_[True, adjusted[1:] != adjusted[:-1], True])  # where each run starts, and the end
    lengths = np.diff(moved)
    longest = int(np.argmax(lengths))
    if lengths[longest] < UNCHANGED_DAYS:
        return None
    start, end = moved[longest], moved[longest + 1] - 1
    return days[start].astype(object), days[end].astype(object), int(lengths[longest])


def _outliers(days: np.ndarray, adjusted: np.ndarray, *, explained: set[date]) -> list[tuple[date, float]]:
    """Days whose log return lies beyond OUTLIER_SDS standard deviations, split days aside.

    A split left in the series is reported as a split; counted here too it would also widen the
    deviation every other day is measured against.
    """
    returns = np.diff(np.log(adjusted))
    returns[np.isin(days[1:], np.array(sorted(explained), dtype="datetime64[D]"))] = np.nan
    if np.count_nonzero(~np.isnan(returns)) <= 2:
        return []
    deviation = np.nanstd(returns)
    if not deviation > 0:
        return []
    scores = (returns - np.nanmean(returns)) / deviation
    return [(days[i + 1].astype(object), float(scores[i])) for i in np.flatnonzero(np.abs(scores) > OUTLIER_SDS)]


def _left_in(split: SplitCandidate, days: np.ndarray, adjusted: np.ndarray) -> bool:
    position = int(days.searchsorted(np.datetime64(split.date, "D")))
    if position == 0 or position >= len(days) or days[position] != np.datetime64(split.date, "D"):
        return False
    return bool(shows_split(adjusted[position - 1], adjusted[position], float(split.factor)))


def ticker_quality(*, session: Session, actor: Actor, ticker: str, today: date | datetime) -> QualityReport:
    """The report of the prices the actor sees for one ticker (their own rows win over shared ones)."""
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    actions = read_actions(session=session, actor=actor, ticker=ticker)
    return quality_report(prices, ticker=ticker, today=today, reported=_reported_splits(actions))


def _reported_splits(actions: pd.DataFrame) -> list[tuple[date, Fraction]]:
    splits = actions[actions["kind"] == "split"].drop_duplicates("date")
    return [
        (day, Fraction(value).limit_denominator(100))
        for day, value in zip(splits["date"], splits["value"], strict=True)
    ]


def reported_splits_of(actions: pd.DataFrame) -> dict[str, list[tuple[date, Fraction]]]:
    """The splits reported or decided for each ticker of actions read with a ticker column, as reports take them."""
    return {str(ticker): _reported_splits(group) for ticker, group in actions.groupby("ticker", sort=False)}


def problems_of(
    prices: pd.DataFrame, actions: pd.DataFrame, *, tickers: list[str], today: date | datetime
) -> dict[str, list[str]]:
    """Each of the tickers with problems, and what they are (staleness aside), from their prices and reported
    actions as read for several tickers at once (both with a ticker column): for the screener and the Train
    page, which read them only when the series changed."""
    reports = quality_reports(prices, today=today, reported=reported_splits_of(actions))
    flagged = {}
    for ticker in tickers:
        report = reports.get(ticker) or quality_report(prices.iloc[:0], ticker=ticker, today=today)
        problems = [p for p in report.problems() if not p.startswith("stale")]
        if problems:
            flagged[ticker] = problems
    return flagged


@cache
def _session_days(exchange: str) -> np.ndarray:
    """Every session of an exchange's calendar as numpy days, for set arithmetic without pandas."""
    return calendar_for_exchange(exchange).sessions.to_numpy().astype("datetime64[D]")


def _list(days: list[date]) -> str:
    shown = ", ".join(str(day) for day in days[:LISTED_DAYS])
    return f": {shown}{'…' if len(days) > LISTED_DAYS else ''}"


def _run_dict(run: tuple[date, date, int] | None) -> dict[str, Any] | None:
    return None if run is None else {"first_day": _iso(run[0]), "last_day": _iso(run[1]), "days": run[2]}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
