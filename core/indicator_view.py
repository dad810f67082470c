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


def indicator_view(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    start: date | None,
    end: date | None,
    params: IndicatorParams,
) -> pd.DataFrame:
    """Prices and indicators between start and end, computed over the whole history first.

    Computing on the full history keeps a long warm-up (an EMA 200) out of a short chosen range.
    Raises ValueError naming a bad parameter.
    """
    prices = read_prices(session=session, actor=actor, ticker=ticker)
    if prices.empty:
        return prices
    values = compute_all(prices, **asdict(params))
    view = pd.concat([prices, values], axis=1)
    if start is not None:
        view = view[view["date"] >= pd.Timestamp(start)]
    if end is not None:
        view = view[view["date"] <= pd.Timestamp(end)]
    return view.reset_index(drop=True)
