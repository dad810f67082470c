"""The screener: conditions on each ticker's latest indicator values, in one vectorised pass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.data.quality import problems_of
from core.indicator_store import latest_rows
from db.repositories.actor import Actor
from db.repositories.indicators import read_latest
from db.repositories.prices import read_actions_of, read_prices_of

PROBLEMS = "data problems"
SPARKLINE_DAYS = 60
QUALITY_DAYS = 366  # calendar days of prices whose quality a match is flagged on


@dataclass(frozen=True)
class Criteria:
    """Every condition set here must hold; None leaves a condition out."""

    rsi_below: float | None = None
    rsi_above: float | None = None
    close_above_ema200: bool = False
    close_below_ema200: bool = False
    macd_crossed_up_within: int | None = None
    hv_above_year_median: bool = False

    def describe(self) -> list[str]:
        parts = []
        if self.rsi_below is not None:
            parts.append(f"RSI < {self.rsi_below:g}")
        if self.rsi_above is not None:
            parts.append(f"RSI > {self.rsi_above:g}")
        if self.close_above_ema200:
            parts.append("close above EMA 200")
        if self.close_below_ema200:
            parts.append("close below EMA 200")
        if self.macd_crossed_up_within:
            parts.append(f"MACD crossed above its signal in the last {self.macd_crossed_up_within} days")
        if self.hv_above_year_median:
            parts.append("HV above its one-year median")
        return parts


RESULT_COLUMNS = ["ticker", "date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20", "recent", PROBLEMS]


def screen_frame(window: pd.DataFrame, criteria: Criteria) -> pd.DataFrame:
    """Tickers whose latest row meets the criteria, from each ticker's recent rows (oldest first).

    window holds ticker, date, close and the screened indicator columns.
    """
    if window.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS[:-1])
    window = window.sort_values(["ticker", "date"])
    result = screen_latest(latest_rows(window), criteria)
    result["recent"] = _recent_closes(window, result["ticker"], column="close")
    return result


def screen_latest(latest: pd.DataFrame, criteria: Criteria) -> pd.DataFrame:
    """Tickers whose latest row (as core.indicator_store.latest_rows makes them) meets the criteria.

    Every condition is a column operation over all tickers at once.
    """
    if latest.empty:
        return pd.DataFrame(columns=RESULT_COLUMNS[:-2])
    latest = latest.set_index("ticker")
    keep = pd.Series(True, index=latest.index)
    if criteria.rsi_below is not None:
        keep &= latest["rsi_14"] < criteria.rsi_below
    if criteria.rsi_above is not None:
        keep &= latest["rsi_14"] > criteria.rsi_above
    if criteria.close_above_ema200:
        keep &= latest["close"] > latest["ema_200"]
    if criteria.close_below_ema200:
        keep &= latest["close"] < latest["ema_200"]
    if criteria.macd_crossed_up_within:
        keep &= latest["macd_cross_age"] < criteria.macd_crossed_up_within
    if criteria.hv_above_year_median:
        keep &= latest["hv_20"] > latest["hv_20_year_median"]
    matches = latest.loc[keep.fillna(False).astype(bool)].sort_index()
    return matches[["date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20"]].reset_index()


def _recent_closes(history: pd.DataFrame, tickers: pd.Series, *, column: str) -> list[list[float] | None]:
    """The last SPARKLINE_DAYS values of a close column of each ticker (history sorted by ticker and date)."""
    tails = history[history["ticker"].isin(tickers)].groupby("ticker", sort=False).tail(SPARKLINE_DAYS)
    closes = tails[column].to_numpy(dtype=float).round(4)
    names = tails["ticker"].to_numpy()
    bounds = np.flatnonzero(names[1:] != names[:-1]) + 1
    by_ticker = dict(zip(pd.unique(names), (part.tolist() for part in np.split(closes, bounds)), strict=False))
    return [by_ticker.get(ticker) for ticker in tickers]


def screen(*, session: Session, actor: Actor, criteria: Criteria, today: date | None = None) -> pd.DataFrame:
    """Run the criteria over every ticker the actor can see: one query over one row per ticker.

    Then one read of the matches' prices gives their sparklines and, in PROBLEMS, what the
    data-quality report finds in each match's own last year up to its last bar (staleness aside), or None.
    """
    result = screen_latest(read_latest(session=session, actor=actor), criteria)
    tickers = [str(ticker) for ticker in result["ticker"]]
    if tickers:
        # From the oldest match's year on, not whole histories: every ticker may match. One read for all.
        last_bars = pd.Series(pd.to_datetime(result["date"]).to_numpy(), index=tickers)
        year_starts = last_bars - pd.Timedelta(days=QUALITY_DAYS)
        start = year_starts.min().date()
        prices = read_prices_of(session=session, actor=actor, tickers=tickers, start=start)
        # Each judged on its own year: a ticker that stopped long ago must not pull in a fresh one's old gaps.
        prices = prices[prices["date"] >= prices["ticker"].map(year_starts)]
        actions = read_actions_of(session=session, actor=actor, tickers=tickers)
        flagged = problems_of(prices, actions, tickers=tickers, today=today or date.today())
    else:
        prices, flagged = pd.DataFrame(columns=["ticker", "adjusted_close"]), {}
    # Adjusted, as the screened indicators are (core.indicator_store): a split is no cliff here either.
    result["recent"] = _recent_closes(prices, result["ticker"], column="adjusted_close")
    result[PROBLEMS] = [("; ".join(flagged[ticker]) if ticker in flagged else None) for ticker in tickers]
    return result.replace({np.nan: None})
