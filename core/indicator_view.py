"""What the Indicators page shows: a ticker's prices with its indicators, for a chosen date range."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.data.calendar import days_a_year
from core.data.splits import split_steps
from core.indicators import DEFAULT_EMA_SPANS, compute_all
from db.repositories.actor import Actor
from db.repositories.indicators import read_scope_prices
from db.repositories.prices import any_prices, read_prices

OVERLAYS = ("EMA", "Bollinger")
PANES = ("RSI", "MACD", "ATR", "OBV", "HV")
PRICE_BASES = ("as traded", "split-adjusted")


@dataclass(frozen=True)
class IndicatorParams:
    rsi_period: int = 14
    ema_spans: tuple[int, ...] = field(default=DEFAULT_EMA_SPANS)
    hv_window: int = 20
    bb_window: int = 20
    bb_k: float = 2.0
    macd_fast: int = 12
    macd_slow: int = 26
    macd_signal: int = 9
    atr_period: int = 14


WHOLE_NUMBER = re.compile(r"[0-9]+")


def checked_params(ema_spans: str, **numbers: float) -> tuple[IndicatorParams, list[str]]:
    """The parameters as typed on the page, and a sentence for each one that could not be used as typed.

    EMA span parts that are not whole numbers of at least 2 are left out (a span typed twice counts
    once); a MACD fast period not below the slow one gives way to the default pair, so the rest of the
    chart is still drawn. numbers holds every other field of IndicatorParams, as the page's widgets bound them.
    """
    spans, not_whole, too_short = [], [], []
    for part in (part.strip() for part in ema_spans.split(",")):
        if not part:
            continue
        if not WHOLE_NUMBER.fullmatch(part):
            not_whole.append(part)
        elif int(part) < 2:
            too_short.append(part)
        elif int(part) not in spans:
            spans.append(int(part))
    problems = [
        *_ignored(not_whole, "is not a whole number", "are not whole numbers"),
        *_ignored(too_short, "is below 2", "are below 2"),
    ]
    default = IndicatorParams()
    fast, slow = numbers.get("macd_fast", default.macd_fast), numbers.get("macd_slow", default.macd_slow)
    if fast >= slow:
        numbers |= {"macd_fast": default.macd_fast, "macd_slow": default.macd_slow}
        problems.append(
            f"MACD fast ({fast}) must be below MACD slow ({slow}): MACD is drawn with the defaults, "
            f"fast {default.macd_fast} and slow {default.macd_slow}."
        )
    return IndicatorParams(ema_spans=tuple(spans), **numbers), problems


def _ignored(parts: list[str], one: str, many: str) -> list[str]:
    if not parts:
        return []
    # Quoted as typed, cut short: a pasted paragraph would push the chart off the screen.
    named = ", ".join(f"'{part[:20]}…'" if len(part) > 20 else f"'{part}'" for part in parts)
    return [f"EMA spans: {named} {one if len(parts) == 1 else many}; ignored."]


def adjusted_prices(prices: pd.DataFrame, shared: pd.DataFrame | None = None) -> pd.DataFrame:
    """The prices on the adjusted close's scale: open, high, low and close times adjusted / close, and
    volumes in shares as counted after the splits the adjustment carries.

    A day without an adjusted close (an upload that had none) keeps its traded prices, unless shared
    holds that day: shared is the shared scope's rows of the ticker (date, close, adjusted_close) under
    an owner's rows laid over them, and such a day is put on their scale (own_day_factor).
    """
    factor = (prices["adjusted_close"] / prices["close"]).where(prices["close"] != 0)
    factor = factor.fillna(1.0)
    if shared is not None and not shared.empty:
        factor = own_day_factor(prices, factor, shared)
    adjusted = prices.copy()
    for column in ("open", "high", "low", "close"):
        adjusted[column] = prices[column] * factor
    volume = prices["volume"] * split_share_factor(prices["date"], 1.0 / factor.to_numpy(dtype=float))
    if pd.api.types.is_integer_dtype(prices["volume"]):
        # Shares are counted whole, as traded: a float column reads 3702620000.0 in JSON and CSV beside the
        # traded 3702620000, and a 3:2 split's half share is no trade.
        volume = volume.round().astype(prices["volume"].dtype)
    adjusted["volume"] = volume
    return adjusted


def own_day_factor(prices: pd.DataFrame, factor: pd.Series, shared: pd.DataFrame) -> pd.Series:
    """factor (adjusted / close per day), with the shared day's factor on an owner's days that carry none.

    An upload with no adjusted close column stores its close as the adjusted close, and nothing per row
    tells that apart from a source whose factor on the day is 1: the import's note goes to the upload's
    record, not to its rows. Laid over shared days that carry a split, such a row would stand at the
    traded price among adjusted ones. So a row whose adjusted close is its close takes the shared row's
    factor when its close is nearer the shared traded close than the shared adjusted close: the same
    traded price, which the later splits and dividends the shared source knows of adjust as they adjust
    it. A close nearer the shared adjusted close is adjusted already (another source's split-adjusted
    prices) and keeps its factor of 1, as does a row with an adjustment of its own.
    """
    days = pd.to_datetime(prices["date"])
    by_day = shared.assign(date=pd.to_datetime(shared["date"])).drop_duplicates("date").set_index("date")
    shared_close = by_day["close"].astype(float).reindex(days).to_numpy()
    shared_adjusted = by_day["adjusted_close"].astype(float).reindex(days).to_numpy()
    close = prices["close"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        traded = np.abs(np.log(close / shared_close)) < np.abs(np.log(close / shared_adjusted))
        shared_factor = shared_adjusted / shared_close
    unadjusted = prices["adjusted_close"].to_numpy(dtype=float) == close
    use = unadjusted & traded & np.isfinite(shared_factor) & (shared_factor > 0)
    return factor.where(~use, pd.Series(shared_factor, index=factor.index))


def split_share_factor(dates: pd.Series, close_over_adjusted: np.ndarray) -> np.ndarray:
    """Per day, the shares one share of that day became through the later splits the adjustment carries.

    A split shows in close / adjusted close as a one-day step by its factor (2 for 2:1, 1.25 for 5:4);
    a dividend moves it by a few percent, never within 1 % of a split factor (core.data.splits.split_steps:
    a cash dividend of 19 % to 21 % would be read as a 6:5 split), so the volumes are not touched by dividends.
    As TradingView counts them: a 2:1 split's earlier volumes double, and OBV runs through it.
    """
    days = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    shares = np.ones(len(days))
    for split in split_steps(days, close_over_adjusted):
        shares[days < np.datetime64(split.date)] *= float(split.factor)
    return shares


def indicator_view(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    start: date | None,
    end: date | None,
    params: IndicatorParams,
    adjusted: bool = False,
) -> pd.DataFrame:
    """Prices and indicators between start and end, computed over the whole history first.

    Computing on the full history keeps a long warm-up (an EMA 200) out of a short chosen range.
    With adjusted, prices are put on the adjusted close's scale first, so a split is no cliff in
    the candles or the indicators. Raises ValueError naming a bad parameter.
    """
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    if prices.empty:
        return prices
    if adjusted:
        own = any_prices(session=session, tickers=[ticker], owner_id=actor.user_id)
        shared = read_scope_prices(session=session, tickers=[ticker], owner_id=None) if own else None
        prices = adjusted_prices(prices, shared)
    values = compute_all(prices, **asdict(params), periods_per_year=days_a_year([ticker]))
    view = pd.concat([prices, values], axis=1)
    if start is not None:
        view = view[view["date"] >= pd.Timestamp(start)]
    if end is not None:
        view = view[view["date"] <= pd.Timestamp(end)]
    return view.reset_index(drop=True)
