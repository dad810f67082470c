"""The screener: conditions on each ticker's latest indicator values, in one vectorised pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.repositories.actor import Actor
from db.repositories.indicators import read_latest_window

LOOKBACK_DAYS = 252  # one trading year: the window for "HV above its one-year median"
SPARKLINE_DAYS = 60


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


def screen_frame(window: pd.DataFrame, criteria: Criteria) -> pd.DataFrame:
    """Tickers whose latest row meets the criteria, with their latest values and recent closes.

    window holds each ticker's recent rows (ticker, date, close and the indicator columns), oldest
    first; every condition is a column operation over all tickers at once.
    """
    if window.empty:
        return pd.DataFrame(columns=["ticker", "date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20", "recent"])
    window = window.sort_values(["ticker", "date"])
    groups = window.groupby("ticker", sort=True)
    latest = groups.tail(1).set_index("ticker")
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
        above = window["macd_hist"] > 0
        was_above = above.groupby(window["ticker"]).shift(1, fill_value=True)
        crossed = above & ~was_above & window["macd_hist"].notna()
        age = groups.cumcount(ascending=False)  # 0 on the newest day
        recent_cross = (crossed & (age < criteria.macd_crossed_up_within)).groupby(window["ticker"]).any()
        keep &= recent_cross.reindex(latest.index, fill_value=False)
    if criteria.hv_above_year_median:
        median = groups["hv_20"].median()
        keep &= latest["hv_20"] > median.reindex(latest.index)

    matches = latest.loc[keep.fillna(False).astype(bool)]
    tails = window[window["ticker"].isin(matches.index)].groupby("ticker").tail(SPARKLINE_DAYS)
    recent = tails.groupby("ticker")["close"].agg(lambda closes: closes.round(4).tolist())
    result = matches[["date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20"]].copy()
    result["recent"] = recent.reindex(result.index)
    return result.reset_index()


def screen(*, session: Session, actor: Actor, criteria: Criteria) -> pd.DataFrame:
    """Run the criteria over every ticker the actor can see: one query, one pass."""
    window = read_latest_window(session=session, actor=actor, rows_per_ticker=LOOKBACK_DAYS)
    return screen_frame(window, criteria).replace({np.nan: None})
