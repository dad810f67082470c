"""Keeping the stored indicators in step with the cached prices."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from core.indicators import compute_all
from db.repositories.indicators import INDICATOR_COLUMNS, read_scope_prices, upsert_indicators


def refresh_indicators(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> int:
    """Recompute one ticker's indicators (default parameters) over its whole history in one scope."""
    return refresh_indicators_of(session=session, tickers=[ticker], owner_id=owner_id)


def refresh_indicators_of(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> int:
    """Recompute these tickers' indicators over their whole histories in one scope: one read, one write.

    The whole history, because an EMA-200 on a new day depends on every day before it; rows whose
    values come out the same are not rewritten. Returns how many rows changed.
    """
    prices = read_scope_prices(session=session, tickers=tickers, owner_id=owner_id)
    if prices.empty:
        return 0
    numeric = prices.astype({name: float for name in ("open", "high", "low", "close", "volume")})
    # Tickers arrive sorted, each by date: split at the boundaries instead of a groupby per ticker.
    starts = np.flatnonzero(numeric["ticker"].to_numpy()[1:] != numeric["ticker"].to_numpy()[:-1]) + 1
    bounds = [0, *starts.tolist(), len(numeric)]
    parts = [compute_all(numeric.iloc[start:end]) for start, end in pairwise(bounds)]
    values = pd.concat(parts, ignore_index=True)
    values.insert(0, "price_id", prices["price_id"].to_numpy())
    return upsert_indicators(session=session, values=values[["price_id", *INDICATOR_COLUMNS]])
