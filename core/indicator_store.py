"""Keeping the stored indicators in step with the cached prices."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core.indicators import compute_all
from db.repositories.indicators import INDICATOR_COLUMNS, read_scope_prices, upsert_indicators


def refresh_indicators(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> int:
    """Recompute one ticker's indicators (default parameters) over its whole history in one scope.

    The whole history, because an EMA-200 on a new day depends on every day before it; rows whose
    values come out the same are not rewritten. Returns how many rows changed.
    """
    prices = read_scope_prices(session=session, ticker=ticker, owner_id=owner_id)
    if prices.empty:
        return 0
    values = compute_all(prices.astype({name: float for name in ("open", "high", "low", "close", "volume")}))
    values.insert(0, "price_id", prices["price_id"])
    return upsert_indicators(session=session, values=values[["price_id", *INDICATOR_COLUMNS]])
