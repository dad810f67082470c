"""Keeping the stored indicators, and the screener's latest row of each ticker, in step with the cached prices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.data.calendar import days_a_year
from core.indicator_view import adjusted_prices
from core.indicators import compute_all
from db.repositories.indicators import (
    INDICATOR_COLUMNS,
    drop_indicators_without_prices,
    read_scope_prices,
    read_view_prices,
    replace_latest,
    upsert_indicators,
)
from db.repositories.prices import any_prices, owners_of


def refresh_indicators(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> int:
    """Recompute one ticker's indicators (default parameters) over its whole history in one scope."""
    return refresh_indicators_of(session=session, tickers=[ticker], owner_id=owner_id)


def refresh_indicators_of(
    *, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None, history: pd.DataFrame | None = None
) -> int:
    """Recompute these tickers' indicators over their whole histories in one scope: one read, one write.

    The whole history, because an EMA-200 on a new day depends on every day before it; rows whose
    values come out the same are not rewritten. An owner's scope is computed over what their chart
    shows, their rows laid over the shared ones, so a change to shared prices recomputes the scopes
    of everyone holding rows of their own of those tickers too. Returns how many rows changed.
    history: the tickers' whole histories when the caller holds them already (columns ticker, date,
    open, high, low, close, adjusted_close, volume; a first import), which spares reading them back.
    """
    if owner_id is not None and history is not None and any_prices(session=session, tickers=tickers, owner_id=None):
        history = None  # the file is only what the owner laid over shared days
    changed = _refresh_scope(session, tickers, owner_id, history)
    if owner_id is None:
        for owner, owned in owners_of(session=session, tickers=tickers).items():
            changed += _refresh_scope(session, owned, owner, None)
    return changed


def _refresh_scope(
    session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None, history: pd.DataFrame | None
) -> int:
    """One scope's indicators and screener rows from its prices, put on the adjusted close's scale first.

    Adjusted, as TradingView draws them: read raw, a 2:1 split is an RSI of 14 and a close far below
    its EMA 200 for months, a signal the screener would offer as real.
    """
    if history is None:
        prices = read_view_prices(session=session, tickers=tickers, owner_id=owner_id)
    else:
        prices = history.sort_values(["ticker", "date"], kind="stable").reset_index(drop=True)
    if owner_id is not None:
        drop_indicators_without_prices(session=session, tickers=tickers, owner_id=owner_id)  # shared days deleted
    if prices.empty:
        return 0
    numeric = prices.astype({name: float for name in ("open", "high", "low", "close", "volume")})
    # Tickers arrive sorted, each by date: split at the boundaries instead of a groupby per ticker.
    names = numeric["ticker"].to_numpy()
    starts = np.flatnonzero(names[1:] != names[:-1]) + 1
    bounds = [0, *starts.tolist(), len(numeric)]
    # Adjusted one ticker at a time: a split found in one ticker must not touch another's volumes.
    shared = _shared_rows(session, tickers) if owner_id is not None and history is None else {}
    adjusted = [
        adjusted_prices(part, shared.get(part["ticker"].iloc[0]))
        for part in (numeric.iloc[start:end] for start, end in pairwise(bounds))
    ]
    parts = [compute_all(part, periods_per_year=days_a_year([part["ticker"].iloc[0]])) for part in adjusted]
    values = pd.concat(parts, ignore_index=True)
    values.insert(0, "ticker", prices["ticker"].to_numpy())
    values.insert(1, "date", prices["date"].to_numpy())
    changed = upsert_indicators(
        session=session, values=values[["ticker", "date", *INDICATOR_COLUMNS]], owner_id=owner_id
    )
    values["close"] = np.concatenate([part["close"].to_numpy() for part in adjusted])
    replace_latest(session=session, latest=latest_rows(values), owner_id=owner_id)
    return changed


def _shared_rows(session: Session, tickers: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The shared rows of these tickers by ticker (date, close, adjusted_close), which an owner's rows lie over."""
    shared = read_scope_prices(session=session, tickers=tickers, owner_id=None)
    columns = ["date", "close", "adjusted_close"]
    return {str(ticker): rows[columns] for ticker, rows in shared.groupby("ticker", sort=False)}


def latest_rows(history: pd.DataFrame) -> pd.DataFrame:
    """Each ticker's screener row from its history (ticker, date, close, rsi_14, ema_200, macd_hist, hv_20).

    history is sorted by ticker and date. Over each ticker's last trading year (its market's year of
    daily rows: 365 for a coin): the latest values, the median of hv_20 (NaN until the year holds
    hv_20 values on at least half its rows), how many days ago MACD last crossed above its signal
    (a day whose histogram turned positive from a value at or below zero).
    """
    year_of = {ticker: days_a_year([ticker]) for ticker in history["ticker"].unique()}
    rows_a_year = history["ticker"].map(year_of)
    newest_first = history.groupby("ticker", sort=False).cumcount(ascending=False)
    year = history[newest_first.to_numpy() < rows_a_year.to_numpy()]
    groups = year.groupby("ticker", sort=False)
    latest = groups.tail(1).set_index("ticker")
    # A cross needs a day before it with a histogram at or below zero: the first value after the warm-up,
    # or the year's first day, is no cross.
    before = year["macd_hist"].groupby(year["ticker"]).shift(1)
    crossed = (year["macd_hist"] > 0) & (before <= 0)
    age = groups.cumcount(ascending=False)  # 0 on the newest day
    cross_age = age.where(crossed).groupby(year["ticker"]).min()
    result = latest[["date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20"]].copy()
    # A month of history is no year: its "median" of ten values would make any swing look high.
    hv_counts = groups["hv_20"].count()
    enough = hv_counts >= hv_counts.index.map(year_of).to_numpy() // 2
    result["hv_20_year_median"] = groups["hv_20"].median().where(enough)
    result["macd_cross_age"] = cross_age.reindex(result.index).astype("Int64")
    result["date"] = pd.to_datetime(result["date"]).dt.date
    return result.reset_index()
