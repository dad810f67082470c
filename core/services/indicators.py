"""The Indicators page's actions: the tickers to chart, one ticker's chart data, and a screener run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from common.errors import BadInput
from core.auth.roles import Permission, require
from core.indicator_view import IndicatorParams, indicator_view
from core.preferences import Preferences, load_preferences
from core.screener import Criteria, screen
from core.services.market import DateRangeError
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.prices import list_cached_tickers


class BadParameters(BadInput):
    """An indicator parameter the computation refuses; the message names it."""


@dataclass(frozen=True)
class TickerSpan:
    """A ticker the actor can chart, from its first to its last day over every source they see."""

    ticker: str
    first_date: date
    last_date: date


@dataclass(frozen=True)
class IndicatorsStart:
    """What the page needs before any choice: the actor's preferences and chartable tickers."""

    preferences: Preferences
    tickers: list[TickerSpan]

    def span(self, ticker: str) -> TickerSpan:
        return next(span for span in self.tickers if span.ticker == ticker)


@dataclass(frozen=True)
class IndicatorChart:
    """Prices with their indicators for the chosen days, and the last day's values as a table."""

    view: pd.DataFrame
    latest: pd.Series

    @property
    def empty(self) -> bool:
        return self.view.empty


def open_indicators(actor: Actor) -> IndicatorsStart:
    """The actor's preferences and the tickers they can chart, one line per ticker."""
    require(actor, Permission.READ)
    with session_scope(action="open indicators", read_only=True) as session:
        preferences = load_preferences(session=session, actor=actor)
        cached = list_cached_tickers(session=session, actor=actor)
    spans: dict[str, TickerSpan] = {}
    for row in cached:
        seen = spans.get(row.ticker)
        first = min(row.first_date, seen.first_date) if seen else row.first_date
        last = max(row.last_date, seen.last_date) if seen else row.last_date
        spans[row.ticker] = TickerSpan(row.ticker, first, last)
    return IndicatorsStart(preferences, [spans[ticker] for ticker in sorted(spans)])


def chart_data(
    actor: Actor,
    ticker: str,
    *,
    start: date | None,
    end: date | None,
    params: IndicatorParams,
    adjusted: bool = False,
) -> IndicatorChart:
    """A ticker's prices (as traded, or adjusted) and indicators between start and end.

    Refuses a reversed range (read, it is no days at all: "no prices" would hide the typo) and a
    parameter the indicators cannot be computed with, naming it.
    """
    require(actor, Permission.READ)
    if start and end and start > end:
        raise DateRangeError(f"Date range: the first day ({start}) comes after the last ({end}).")
    with session_scope(action=f"chart {ticker}", read_only=True) as session:
        try:
            view = indicator_view(
                session=session, actor=actor, ticker=ticker, start=start, end=end, params=params, adjusted=adjusted
            )
        except ValueError as error:
            raise BadParameters(f"Parameters: {error}") from None
    latest = view.iloc[-1].drop(["date", "source"]) if not view.empty else pd.Series(dtype=object)
    return IndicatorChart(view, latest)


def run_screener(actor: Actor, criteria: Criteria) -> pd.DataFrame:
    """The tickers the actor can see whose latest indicators meet every criterion."""
    require(actor, Permission.READ)
    with session_scope(action="screen tickers", read_only=True) as session:
        return screen(session=session, actor=actor, criteria=criteria)
