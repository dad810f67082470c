"""What the Indicators page shows: a ticker's prices with its indicators, for a chosen date range."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from core.indicators import DEFAULT_EMA_SPANS, compute_all
from db.repositories.actor import Actor
from db.repositories.prices import read_prices

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


def adjusted_prices(prices: pd.DataFrame) -> pd.DataFrame:
    """The prices on the adjusted close's scale: open, high, low and close times adjusted / close.

    A day without an adjusted close (an upload that had none) keeps its traded prices.
    """
    factor = (prices["adjusted_close"] / prices["close"]).where(prices["close"] != 0)
    factor = factor.fillna(1.0)
    adjusted = prices.copy()
    for column in ("open", "high", "low", "close"):
        adjusted[column] = prices[column] * factor
    return adjusted


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
        prices = adjusted_prices(prices)
    values = compute_all(prices, **asdict(params))
    view = pd.concat([prices, values], axis=1)
    if start is not None:
        view = view[view["date"] >= pd.Timestamp(start)]
    if end is not None:
        view = view[view["date"] <= pd.Timestamp(end)]
    return view.reset_index(drop=True)
