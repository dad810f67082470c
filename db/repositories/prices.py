"""Cached daily prices: bulk upsert, one-query reads, per-ticker summaries, deletion.

Shared market data has no owner; a user's uploaded prices have them as owner and are seen only
by them. Where a user has their own row for a day that shared data also has, theirs wins.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import HistoricalPrice
from db.repositories.actor import Actor
from db.types import utc_now

VALUE_COLUMNS = ("open", "high", "low", "close", "adjusted_close", "volume")
FRAME_COLUMNS = ("date", *VALUE_COLUMNS)
_STAGING = "staging_prices"


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """Shared prices and the actor's own uploads."""
    return or_(HistoricalPrice.owner_id.is_(None), HistoricalPrice.owner_id == actor.user_id)


def _scope(owner_id: uuid.UUID | None) -> ColumnElement[bool]:
    if owner_id is None:
        return HistoricalPrice.owner_id.is_(None)
    return HistoricalPrice.owner_id == owner_id


def _conflict_target(owner_id: uuid.UUID | None) -> tuple[list[str], ColumnElement[bool]]:
    """The partial unique index an upsert of this scope collides on."""
    if owner_id is None:
        return ["ticker", "date"], HistoricalPrice.owner_id.is_(None)
    return ["owner_id", "ticker", "date"], HistoricalPrice.owner_id.is_not(None)


def upsert_prices(
    *, session: Session, frame: pd.DataFrame, ticker: str, owner_id: uuid.UUID | None, source: str
) -> int:
    """Insert or update one ticker's rows (columns date, open..volume); returns how many were written."""
    if frame.empty:
        return 0
    frame = frame.loc[:, list(FRAME_COLUMNS)].copy()
    frame["volume"] = frame["volume"].round().astype("int64")
    if session.get_bind().dialect.name == "postgresql":
        return _upsert_postgres(session, frame, ticker, owner_id, source)
    return _upsert_sqlite(session, frame, ticker, owner_id, source)


def _updates(statement) -> dict:
    columns = {name: getattr(statement.excluded, name) for name in VALUE_COLUMNS}
    return columns | {"source": statement.excluded.source, "last_updated": statement.excluded.last_updated}


def _upsert_sqlite(
    session: Session, frame: pd.DataFrame, ticker: str, owner_id: uuid.UUID | None, source: str
) -> int:
    now = utc_now()
    rows = [
        {"id": uuid.uuid4(), "owner_id": owner_id, "ticker": ticker, "source": source, "last_updated": now}
        | row
        for row in frame.to_dict("records")
    ]
    index_elements, index_where = _conflict_target(owner_id)
    statement = sqlite_insert(HistoricalPrice)
    statement = statement.on_conflict_do_update(
        index_elements=index_elements, index_where=index_where, set_=_updates(statement)
    )
    session.execute(statement, rows)
    return len(rows)


def _upsert_postgres(
    session: Session, frame: pd.DataFrame, ticker: str, owner_id: uuid.UUID | None, source: str
) -> int:
    # COPY into a session-private staging table, then one INSERT ... ON CONFLICT: the fastest
    # path into PostgreSQL that still lets the unique indexes decide insert or update.
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (date date, open float8, high float8, low float8, "
            "close float8, adjusted_close float8, volume bigint) ON COMMIT DELETE ROWS"
        )
    )
    session.execute(text(f"TRUNCATE {_STAGING}"))
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d", float_format="%.17g")
    buffer.seek(0)
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(
            f"COPY {_STAGING} ({', '.join(FRAME_COLUMNS)}) FROM STDIN WITH (FORMAT csv)", buffer
        )
    finally:
        cursor.close()

    staging = select(
        func.gen_random_uuid(),
        literal(owner_id, HistoricalPrice.owner_id.type),
        literal(ticker),
        *(text(f"{_STAGING}.{name}") for name in FRAME_COLUMNS),
        literal(source),
        func.now(),
    ).select_from(text(_STAGING))
    statement = pg_insert(HistoricalPrice).from_select(
        ["id", "owner_id", "ticker", *FRAME_COLUMNS, "source", "last_updated"], staging
    )
    index_elements, index_where = _conflict_target(owner_id)
    statement = statement.on_conflict_do_update(
        index_elements=index_elements, index_where=index_where, set_=_updates(statement)
    )
    return session.execute(statement).rowcount


def read_prices(
    *, session: Session, actor: Actor, ticker: str, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """One ticker's rows visible to the actor, by date; one indexed query."""
    conditions = [HistoricalPrice.ticker == ticker, visible_to(actor)]
    if start is not None:
        conditions.append(HistoricalPrice.date >= start)
    if end is not None:
        conditions.append(HistoricalPrice.date <= end)
    columns = [getattr(HistoricalPrice, name) for name in FRAME_COLUMNS]
    query = (
        select(*columns, HistoricalPrice.owner_id, HistoricalPrice.source)
        .where(*conditions)
        .order_by(HistoricalPrice.date)
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=[*FRAME_COLUMNS, "owner_id", "source"])
    if frame.empty:
        return frame.drop(columns=["owner_id"])
    # The actor's own row for a day wins over the shared one.
    frame["own"] = frame["owner_id"].notna()
    frame = frame.sort_values(["date", "own"]).drop_duplicates("date", keep="last")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.drop(columns=["owner_id", "own"]).reset_index(drop=True)


@dataclass(frozen=True)
class CachedTicker:
    ticker: str
    owned: bool
    source: str
    first_date: date
    last_date: date
    rows: int
    last_updated: datetime


def list_cached_tickers(*, session: Session, actor: Actor) -> list[CachedTicker]:
    """What the actor can see in the cache, one line per ticker, scope and source."""
    owned = HistoricalPrice.owner_id.is_not(None)
    query = (
        select(
            HistoricalPrice.ticker,
            owned,
            HistoricalPrice.source,
            func.min(HistoricalPrice.date),
            func.max(HistoricalPrice.date),
            func.count(),
            func.max(HistoricalPrice.last_updated),
        )
        .where(visible_to(actor))
        .group_by(HistoricalPrice.ticker, owned, HistoricalPrice.source)
        .order_by(HistoricalPrice.ticker, owned, HistoricalPrice.source)
    )
    return [CachedTicker(*row) for row in session.execute(query).all()]


def last_cached_date(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> date | None:
    query = select(func.max(HistoricalPrice.date)).where(HistoricalPrice.ticker == ticker, _scope(owner_id))
    return session.scalar(query)


def shared_tickers(*, session: Session) -> Sequence[str]:
    query = select(HistoricalPrice.ticker).where(HistoricalPrice.owner_id.is_(None)).distinct()
    return session.scalars(query.order_by(HistoricalPrice.ticker)).all()


def delete_prices(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> int:
    """Delete one ticker's rows in one scope (shared, or one owner's); returns how many."""
    statement = delete(HistoricalPrice).where(and_(HistoricalPrice.ticker == ticker, _scope(owner_id)))
    return session.execute(statement).rowcount
