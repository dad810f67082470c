"""The screener: conditions on each ticker's latest indicator values, in one vectorised pass."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from common.errors import BadInput
from core.data.quality import problems_of, reported_splits_of
from core.indicator_store import latest_rows
from db.repositories.actor import Actor
from db.repositories.indicators import read_latest
from db.repositories.prices import read_actions_of, read_prices_of, series_versions_of

PROBLEMS = "data problems"
SPARKLINE_DAYS = 60
QUALITY_DAYS = 366  # calendar days of prices whose quality a match is flagged on


class ScreenerError(BadInput, ValueError):
    """Criteria no ticker could meet; the message names the two that exclude each other."""


@dataclass(frozen=True)
class Criteria:
    """Every condition set here must hold; None leaves a condition out."""

    rsi_below: float | None = None
    rsi_above: float | None = None
    close_above_ema200: bool = False
    close_below_ema200: bool = False
    macd_crossed_up_within: int | None = None
    hv_above_year_median: bool = False

    def require_satisfiable(self) -> None:
        """Refuse criteria that exclude each other: an empty result would read as "no ticker is there yet"."""
        if self.rsi_below is not None and self.rsi_above is not None and self.rsi_above >= self.rsi_below:
            raise ScreenerError(
                f"RSI above {self.rsi_above:g} and below {self.rsi_below:g} cannot both hold: no ticker could match; "
                "set the lower bound under the upper one, or leave one empty"
            )
        if self.close_above_ema200 and self.close_below_ema200:
            raise ScreenerError("the close cannot be both above and below its EMA 200: choose one")

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

    Then each match's sparkline and, in PROBLEMS, what the data-quality report finds in its own last year
    up to its last bar (staleness aside), or None: kept from an earlier screen while the prices the actor
    sees of it and its splits are unchanged, else worked out from one read of those matches' prices.
    """
    criteria.require_satisfiable()
    result = screen_latest(read_latest(session=session, actor=actor), criteria)
    tickers = [str(ticker) for ticker in result["ticker"]]
    last_bars = pd.Series(pd.to_datetime(result["date"]).to_numpy(), index=tickers)
    # Versions before prices: a write landing between the two reads leaves its flags under the older
    # version, worked out again on the next screen, never the older flags under the new version.
    versions = {
        ticker: (seen.get(None), seen.get(actor.user_id))  # the shared series and the actor's own
        for ticker, seen in series_versions_of(session=session, actor=actor, tickers=tickers).items()
    }
    actions = read_actions_of(session=session, actor=actor, tickers=tickers) if tickers else None
    splits = reported_splits_of(actions) if actions is not None else {}
    keys = {
        ticker: (ticker, versions.get(ticker), last_bars[ticker], tuple(splits.get(ticker, ()))) for ticker in tickers
    }
    found = _MATCH_FLAGS.get({ticker: key for ticker, key in keys.items() if key[1] is not None})
    missing = [ticker for ticker in tickers if ticker not in found]
    if missing:
        worked_out = _flags_of(session, actor, missing, last_bars[missing], actions, today or date.today())
        _MATCH_FLAGS.put({keys[ticker]: flags for ticker, flags in worked_out.items() if keys[ticker][1] is not None})
        found |= worked_out
    result["recent"] = [None if found[ticker].recent is None else found[ticker].recent.tolist() for ticker in tickers]
    result[PROBLEMS] = [found[ticker].problems for ticker in tickers]
    return result.replace({np.nan: None})


@dataclass(frozen=True)
class MatchFlags:
    """What the screener shows of a match beside its indicators: its sparkline and its data problems (None: none)."""

    recent: np.ndarray | None  # read-only: shared by every screen that finds it kept
    problems: str | None


def _flags_of(
    session: Session, actor: Actor, tickers: list[str], last_bars: pd.Series, actions: pd.DataFrame, today: date
) -> dict[str, MatchFlags]:
    """The flags of these matches from one read of their prices, from the oldest match's year on."""
    # From the oldest match's year on, not whole histories: every ticker may match. One read for all.
    year_starts = last_bars - pd.Timedelta(days=QUALITY_DAYS)
    prices = read_prices_of(session=session, actor=actor, tickers=tickers, start=year_starts.min().date())
    # Each judged on its own year: a ticker that stopped long ago must not pull in a fresh one's old gaps.
    prices = prices[prices["date"] >= prices["ticker"].map(year_starts)]
    flagged = problems_of(prices, actions[actions["ticker"].isin(tickers)], tickers=tickers, today=today)
    # Adjusted, as the screened indicators are (core.indicator_store): a split is no cliff here either.
    recent = _recent_closes(prices, pd.Series(tickers), column="adjusted_close")
    return {
        ticker: MatchFlags(_read_only(closes), "; ".join(flagged[ticker]) if ticker in flagged else None)
        for ticker, closes in zip(tickers, recent, strict=True)
    }


def _read_only(closes: list[float] | None) -> np.ndarray | None:
    if closes is None:
        return None
    kept = np.array(closes, dtype=float)
    kept.flags.writeable = False
    return kept


class _KeptFlags:
    """Flags of the latest screened matches by (ticker, series versions, last bar, splits); shared by threads.

    A match-all screen of 400 tickers read a year of prices of each and judged it on every click (a
    second): kept, a screen reads only the versions of what it shows. Bounded, oldest out first.
    """

    def __init__(self, most: int) -> None:
        self.most = most
        self._kept: OrderedDict[tuple, MatchFlags] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: dict[str, tuple]) -> dict[str, MatchFlags]:
        found = {}
        with self._lock:
            for ticker, key in keys.items():
                flags = self._kept.get(key)
                if flags is not None:
                    self._kept.move_to_end(key)
                    found[ticker] = flags
        return found

    def put(self, flags: dict[tuple, MatchFlags]) -> None:
        with self._lock:
            self._kept.update(flags)
            for key in flags:
                self._kept.move_to_end(key)
            while len(self._kept) > self.most:
                self._kept.popitem(last=False)


# A match-all screen of a few thousand tickers, a handful of users' own uploads beside; 60 closes and a
# sentence or two each, about 6 MB when full.
_MATCH_FLAGS = _KeptFlags(5_000)
