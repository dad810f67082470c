"""Stored indicator values (default parameters), one row per cached price row."""

from __future__ import annotations

import uuid
from datetime import date

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import HistoricalPrice, TechnicalIndicator
from db.repositories.actor import Actor
from db.repositories.prices import OWN, prefer_own_rows, visible_to

INDICATOR_COLUMNS = (
    "rsi_14", "ema_12", "ema_26", "ema_50", "ema_200", "hv_20", "bb_upper", "bb_middle", "bb_lower",
    "macd", "macd_signal", "macd_hist", "atr_14", "obv",
)  # fmt: skip
SCOPE_PRICE_COLUMNS = ("date", "open", "high", "low", "close", "volume")


def read_scope_prices(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> pd.DataFrame:
    """All rows of one ticker in one scope (shared, or one owner's), with their ids, by date."""
    scope = HistoricalPrice.owner_id.is_(None) if owner_id is None else HistoricalPrice.owner_id == owner_id
    columns = [HistoricalPrice.id, *(getattr(HistoricalPrice, name) for name in SCOPE_PRICE_COLUMNS)]
    query = select(*columns).where(HistoricalPrice.ticker == ticker, scope).order_by(HistoricalPrice.date)
    return pd.DataFrame(session.execute(query).all(), columns=["price_id", *SCOPE_PRICE_COLUMNS])


def upsert_indicators(*, session: Session, values: pd.DataFrame) -> int:
    """Write indicator rows (price_id plus INDICATOR_COLUMNS); a row whose values are unchanged is left."""
    if values.empty:
        return 0
    frame = values.loc[:, ["price_id", *INDICATOR_COLUMNS]].astype(object)
    frame = frame.where(pd.notna(frame), None)
    rows = [{"id": uuid.uuid4()} | row for row in frame.to_dict("records")]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(TechnicalIndicator)
    changed = or_(
        *(getattr(TechnicalIndicator, name).is_distinct_from(statement.excluded[name]) for name in INDICATOR_COLUMNS)
    )
    statement = statement.on_conflict_do_update(
        index_elements=["price_id"],
        set_={name: statement.excluded[name] for name in INDICATOR_COLUMNS} | {"computed_at": func.now()},
        where=changed,
    )
    return session.connection().execute(statement, rows).rowcount


def read_indicators(
    *, session: Session, actor: Actor, ticker: str, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Stored indicators of one ticker by date, for the rows the actor sees; one query."""
    conditions = [HistoricalPrice.ticker == ticker, visible_to(actor)]
    if start is not None:
        conditions.append(HistoricalPrice.date >= start)
    if end is not None:
        conditions.append(HistoricalPrice.date <= end)
    columns = [getattr(TechnicalIndicator, name) for name in INDICATOR_COLUMNS]
    query = (
        select(HistoricalPrice.date, OWN, *columns)
        .join(TechnicalIndicator, TechnicalIndicator.price_id == HistoricalPrice.id)
        .where(*conditions)
        .order_by(HistoricalPrice.date)
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=["date", "own", *INDICATOR_COLUMNS])
    return prefer_own_rows(frame, ["date"])


SCREEN_COLUMNS = ("close", "rsi_14", "ema_200", "macd_hist", "hv_20")


def read_latest_window(*, session: Session, actor: Actor, rows_per_ticker: int) -> pd.DataFrame:
    """The last rows_per_ticker days of every ticker the actor sees: close and the screened indicators.

    One query: a window function numbers each ticker's days from the newest. Rows come back as
    plain tuples through the Core connection, which for 100,000 rows is several times cheaper
    than ORM rows.
    """
    newest_first = (
        func.row_number()
        .over(
            partition_by=(HistoricalPrice.ticker, HistoricalPrice.owner_id),
            order_by=HistoricalPrice.date.desc(),
        )
        .label("age")
    )
    recent = (
        select(
            HistoricalPrice.id,
            HistoricalPrice.ticker,
            OWN,
            HistoricalPrice.date,
            HistoricalPrice.close,
            newest_first,
        )
        .where(visible_to(actor))
        .subquery()
    )
    query = (
        select(
            recent.c.ticker,
            recent.c.own,
            recent.c.date,
            recent.c.close,
            *(getattr(TechnicalIndicator, name) for name in SCREEN_COLUMNS[1:]),
        )
        .join(TechnicalIndicator, TechnicalIndicator.price_id == recent.c.id)
        .where(recent.c.age <= rows_per_ticker)
    )
    # No ORDER BY: pandas sorts below, and a sort of this size would spill to disk on the server.
    rows = session.connection().execute(query).all()
    names = ["ticker", "own", "date", *SCREEN_COLUMNS]
    # Column by column: pandas inspects every Row object it is handed, which costs more than the query.
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    frame = pd.DataFrame(dict(zip(names, columns, strict=True)))
    frame[list(SCREEN_COLUMNS)] = frame[list(SCREEN_COLUMNS)].astype(float)
    return prefer_own_rows(frame, ["ticker", "date"])
