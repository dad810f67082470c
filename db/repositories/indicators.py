"""Stored indicator values (default parameters), one row per cached price row."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd
from psycopg2.errors import UniqueViolation
from sqlalchemy import String, cast, func, select, text
from sqlalchemy.orm import Session

from db.models import HistoricalPrice, TechnicalIndicator
from db.pg_copy import Field, binary_payload, pg_timestamp, uuid7_bytes, uuid_bytes
from db.repositories.actor import Actor
from db.repositories.prices import (
    OWN,
    POSTGRES_BOOLEANS,
    copy_binary,
    prefer_own_rows,
    read_query_csv,
    visible_to,
)
from db.types import utc_now

INDICATOR_COLUMNS = (
    "rsi_14", "ema_12", "ema_26", "ema_50", "ema_200", "hv_20", "bb_upper", "bb_middle", "bb_lower",
    "macd", "macd_signal", "macd_hist", "atr_14", "obv",
)  # fmt: skip
SCOPE_PRICE_COLUMNS = ("date", "open", "high", "low", "close", "volume")
_TABLE = "technical_indicators"
_STAGING = "staging_indicators"


def read_scope_prices(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> pd.DataFrame:
    """All rows of these tickers in one scope (shared, or one owner's), by ticker and date.

    price_id comes back as text: turning 200,000 ids into UUID objects costs more than the query.
    """
    scope = HistoricalPrice.owner_id.is_(None) if owner_id is None else HistoricalPrice.owner_id == owner_id
    columns = [
        HistoricalPrice.ticker,
        cast(HistoricalPrice.id, String),
        *(getattr(HistoricalPrice, name) for name in SCOPE_PRICE_COLUMNS),
    ]
    query = (
        select(*columns)
        .where(HistoricalPrice.ticker.in_(list(tickers)), scope)
        .order_by(HistoricalPrice.ticker, HistoricalPrice.date)
    )
    names = ["ticker", "price_id", *SCOPE_PRICE_COLUMNS]
    if session.get_bind().dialect.name == "postgresql":
        frame = read_query_csv(session, query, names)
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return frame
    return _frame(session.connection().execute(query).all(), names)


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    # Column by column: pandas inspects every Row object it is handed, which costs more than the query.
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(dict(zip(names, columns, strict=True)))


def upsert_indicators(*, session: Session, values: pd.DataFrame) -> int:
    """Write indicator rows (price_id as text, plus INDICATOR_COLUMNS); a row whose values are unchanged is left."""
    if values.empty:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _upsert_postgres(session, values)
    return _upsert_sqlite(session, values)


def _changed(table: str, incoming: str) -> str:
    return " OR ".join(f"{table}.{name} IS DISTINCT FROM {incoming}.{name}" for name in INDICATOR_COLUMNS)


def _upsert_postgres(session: Session, values: pd.DataFrame) -> int:
    # Binary COPY into a session-private staging table, then one INSERT ... ON CONFLICT. NaN
    # travels as a float and becomes NULL on the way in, so every row has the same width.
    count = len(values)
    fields = [
        Field("V16", uuid7_bytes(count)),
        Field("V16", uuid_bytes(values["price_id"].tolist())),
        *(Field(">f8", values[name].to_numpy(dtype=float)) for name in INDICATOR_COLUMNS),
        Field(">i8", pg_timestamp(time.time())),
    ]
    names = ["id", "price_id", *INDICATOR_COLUMNS, "computed_at"]
    payload = binary_payload(count, fields)
    if not _any_stored(session, values["price_id"]):
        # A first load: nothing to merge, so COPY straight in (NaN stays NaN until the cleanup below).
        try:
            with session.begin_nested():
                copy_binary(session, _TABLE, names, payload)
                warm_up = values[list(INDICATOR_COLUMNS)].isna().any(axis=1).to_numpy()
                _nan_to_null(session, values["price_id"][warm_up])
            return count
        except UniqueViolation:
            pass  # another writer stored some of these just now; merge below
    session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE {_TABLE}) ON COMMIT DELETE ROWS"))
    session.execute(text(f"TRUNCATE {_STAGING}"))
    copy_binary(session, _STAGING, names, payload)
    nullable = ", ".join(f"NULLIF({name}, 'NaN'::float8)" for name in INDICATOR_COLUMNS)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in INDICATOR_COLUMNS)
    statement = text(
        f"INSERT INTO {_TABLE} ({', '.join(names)}) SELECT id, price_id, {nullable}, computed_at FROM {_STAGING} "
        f"ON CONFLICT (price_id) DO UPDATE SET {updates}, computed_at = EXCLUDED.computed_at "
        f"WHERE {_changed(_TABLE, 'EXCLUDED')}"
    )
    return session.execute(statement).rowcount


def _any_stored(session: Session, price_ids: pd.Series) -> bool:
    """Whether any of a sample of these rows (first, middle, last) already has indicators."""
    sample = list({price_ids.iloc[0], price_ids.iloc[len(price_ids) // 2], price_ids.iloc[-1]})
    query = text(f"SELECT 1 FROM {_TABLE} WHERE price_id = ANY(CAST(:ids AS uuid[])) LIMIT 1")
    return session.execute(query, {"ids": sample}).first() is not None


def _nan_to_null(session: Session, price_ids: pd.Series) -> None:
    """Warm-up values arrive as NaN and are stored as NULL; only the warm-up rows (these ids) hold any."""
    if price_ids.empty:
        return
    nulls = ", ".join(f"{name} = NULLIF({name}, 'NaN'::float8)" for name in INDICATOR_COLUMNS)
    statement = text(f"UPDATE {_TABLE} SET {nulls} WHERE price_id = ANY(CAST(:ids AS uuid[]))")
    session.execute(statement, {"ids": price_ids.tolist()})


def _upsert_sqlite(session: Session, values: pd.DataFrame) -> int:
    # Plain tuples through the driver: SQLAlchemy's per-row type processing dominated on large files.
    numbers = values[list(INDICATOR_COLUMNS)].astype(float)
    numbers = numbers.astype(object).where(numbers.notna(), None)
    ids = os.urandom(16 * len(values)).hex()
    # SQLite keeps UUIDs as 32 hex digits and timestamps as text, as SQLAlchemy writes them.
    now = utc_now().strftime("%Y-%m-%d %H:%M:%S.%f")
    price_ids = [price_id.replace("-", "") for price_id in values["price_id"]]
    rows = [
        (ids[32 * position : 32 * (position + 1)], price_id, *numbers_row, now)
        for position, (price_id, numbers_row) in enumerate(
            zip(price_ids, numbers.itertuples(index=False, name=None), strict=True)
        )
    ]
    names = ["id", "price_id", *INDICATOR_COLUMNS, "computed_at"]
    changed = " OR ".join(f"{name} IS NOT excluded.{name}" for name in INDICATOR_COLUMNS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in INDICATOR_COLUMNS)
    statement = (
        f"INSERT INTO {_TABLE} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT (price_id) DO UPDATE SET {updates}, computed_at = excluded.computed_at WHERE {changed}"
    )
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        before = cursor.connection.total_changes
        cursor.executemany(statement, rows)
        return cursor.connection.total_changes - before
    finally:
        cursor.close()


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
    names = ["ticker", "own", "date", *SCREEN_COLUMNS]
    if session.get_bind().dialect.name == "postgresql":
        frame = read_query_csv(session, query, names)
        frame["own"] = frame["own"].map(POSTGRES_BOOLEANS).astype(bool)
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
    else:
        frame = _frame(session.connection().execute(query).all(), names)
    frame[list(SCREEN_COLUMNS)] = frame[list(SCREEN_COLUMNS)].astype(float)
    return prefer_own_rows(frame, ["ticker", "date"])
