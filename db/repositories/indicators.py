"""Stored indicator values (default parameters) by scope, ticker and day, and the screener's latest row of each."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from psycopg2.errors import UniqueViolation
from sqlalchemy import ColumnElement, delete, insert, or_, select, text
from sqlalchemy.orm import Session

from db.models import HistoricalPrice, TechnicalIndicator
from db.models.market import LatestIndicators
from db.pg_copy import (
    HEADER,
    TRAILER,
    Field,
    binary_rows,
    encoded_texts,
    pg_dates,
    pg_timestamp,
    texts_field,
    uuid7_bytes,
)
from db.repositories.actor import Actor, shared_or_own
from db.repositories.prices import (
    copy_binary,
    lock_series_writes,
    own_over_shared,
    prefer_own_rows,
    read_query_csv,
)
from db.sqlite_rows import date_texts, execute_many, timestamp_text, uuid_text, uuid_texts
from db.types import utc_now

INDICATOR_COLUMNS = (
    "rsi_14", "ema_12", "ema_26", "ema_50", "ema_200", "hv_20", "bb_upper", "bb_middle", "bb_lower",
    "macd", "macd_signal", "macd_hist", "atr_14", "obv",
)  # fmt: skip
SCOPE_PRICE_COLUMNS = ("date", "open", "high", "low", "close", "adjusted_close", "volume")
_TABLE = "technical_indicators"
_STAGING = "staging_indicators"


def _in_scope(table, owner_id: uuid.UUID | None) -> ColumnElement[bool]:
    return table.owner_id.is_(None) if owner_id is None else table.owner_id == owner_id


def read_scope_prices(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> pd.DataFrame:
    """All rows of these tickers in one scope (shared, or one owner's), by ticker and date."""
    return _read_prices(session, tickers, _in_scope(HistoricalPrice, owner_id))


def read_view_prices(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> pd.DataFrame:
    """The rows a scope's charts show, by ticker and date: the shared ones, or an owner's laid over them."""
    if owner_id is None:
        return read_scope_prices(session=session, tickers=tickers, owner_id=None)
    return _read_prices(session, tickers, own_over_shared(owner_id))


def drop_indicators_without_prices(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID) -> int:
    """Delete an owner's indicator rows of days their chart no longer has a price of (shared days deleted)."""
    priced = (
        select(HistoricalPrice.id)
        .where(
            HistoricalPrice.ticker == TechnicalIndicator.ticker,
            HistoricalPrice.date == TechnicalIndicator.date,
            or_(HistoricalPrice.owner_id.is_(None), HistoricalPrice.owner_id == owner_id),
        )
        .exists()
    )
    statement = delete(TechnicalIndicator).where(
        TechnicalIndicator.owner_id == owner_id, TechnicalIndicator.ticker.in_(list(tickers)), ~priced
    )
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _read_prices(session: Session, tickers: Sequence[str], rows: ColumnElement[bool]) -> pd.DataFrame:
    columns = [HistoricalPrice.ticker, *(getattr(HistoricalPrice, name) for name in SCOPE_PRICE_COLUMNS)]
    query = (
        select(*columns)
        .where(HistoricalPrice.ticker.in_(list(tickers)), rows)
        .order_by(HistoricalPrice.ticker, HistoricalPrice.date)
    )
    names = ["ticker", *SCOPE_PRICE_COLUMNS]
    if session.get_bind().dialect.name == "postgresql":
        frame = read_query_csv(session, query, names)
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return frame
    return _frame(session.connection().execute(query).all(), names)


def _frame(rows: Sequence[Any], names: list[str]) -> pd.DataFrame:
    # Column by column: pandas inspects every Row object it is handed, which costs more than the query.
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(dict(zip(names, columns, strict=True)))


def upsert_indicators(*, session: Session, values: pd.DataFrame, owner_id: uuid.UUID | None) -> int:
    """Write indicator rows of one scope (columns ticker, date, INDICATOR_COLUMNS); unchanged rows are left.

    Returns how many rows were written or changed.
    """
    if values.empty:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _upsert_postgres(session, values, owner_id)
    return _upsert_sqlite(session, values, owner_id)


def _conflict(owner_id: uuid.UUID | None) -> str:
    """The partial unique index a write of this scope collides on, as ON CONFLICT names it."""
    if owner_id is None:
        return "(ticker, date) WHERE owner_id IS NULL"
    return "(owner_id, ticker, date) WHERE owner_id IS NOT NULL"


def _merge_statement(source: str, names: Sequence[str], owner_id: uuid.UUID | None, excluded: str) -> str:
    updates = ", ".join(f"{name} = {excluded}.{name}" for name in INDICATOR_COLUMNS)
    changed = " OR ".join(f"{_TABLE}.{name} IS DISTINCT FROM {excluded}.{name}" for name in INDICATOR_COLUMNS)
    return (
        f"INSERT INTO {_TABLE} ({', '.join(names)}) {source} ON CONFLICT {_conflict(owner_id)} "
        f"DO UPDATE SET {updates}, computed_at = {excluded}.computed_at WHERE {changed}"
    )


def _payload(values: pd.DataFrame, owner_id: uuid.UUID | None, now: float) -> bytes:
    """Binary COPY rows, one segment per ticker byte length and pattern of missing values.

    Warm-up values (the first days of an EMA-200, say) travel as NULL fields, so nothing has to
    turn NaN into NULL after the COPY; rows sharing a layout share a segment.
    """
    numbers = values[list(INDICATOR_COLUMNS)].to_numpy(dtype=float)
    missing = np.isnan(numbers)
    pattern = missing.astype(np.int64) @ (np.int64(1) << np.arange(len(INDICATOR_COLUMNS), dtype=np.int64))
    tickers, lengths = encoded_texts(values["ticker"])
    layout = lengths.astype(np.int64) << len(INDICATOR_COLUMNS) | pattern
    ids = uuid7_bytes(len(values), now)
    days = pg_dates(values["date"])
    owner = Field("V16", owner_id.bytes if owner_id is not None else None)
    stamp = Field(">i8", pg_timestamp(now))
    segments = []
    for key, rows in pd.Series(layout).groupby(layout).indices.items():
        length, code = int(key) >> len(INDICATOR_COLUMNS), int(key)
        numeric = [
            Field(">f8", None if code >> column & 1 else numbers[rows, column])
            for column in range(len(INDICATOR_COLUMNS))
        ]
        ticker = texts_field(tickers, rows, length)
        fields = [Field("V16", ids[rows]), owner, ticker, Field(">i4", days[rows]), *numeric, stamp]
        segments.append(binary_rows(len(rows), fields))
    return HEADER + b"".join(segments) + TRAILER


def _upsert_postgres(session: Session, values: pd.DataFrame, owner_id: uuid.UUID | None) -> int:
    payload = _payload(values, owner_id, time.time())
    names = ["id", "owner_id", "ticker", "date", *INDICATOR_COLUMNS, "computed_at"]
    tickers = [str(ticker) for ticker in values["ticker"].unique()]
    # Mostly held already, by the price write this refresh follows; a refresh of its own waits here for
    # another writer of the series, not inside a COPY whose data the server stopped reading.
    lock_series_writes(session, tickers, owner_id)
    stored = select(TechnicalIndicator.id).where(
        TechnicalIndicator.ticker.in_(tickers), _in_scope(TechnicalIndicator, owner_id)
    )
    if session.scalar(stored.limit(1)) is None:
        # A first load: nothing to merge, so COPY straight in.
        try:
            with session.begin_nested():
                copy_binary(session, _TABLE, names, payload)
            return len(values)
        except UniqueViolation:
            pass  # another writer stored some of these just now; merge below
    session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE {_TABLE}) ON COMMIT DELETE ROWS"))
    session.execute(text(f"TRUNCATE {_STAGING}"))
    copy_binary(session, _STAGING, names, payload)
    source = f"SELECT {', '.join(names)} FROM {_STAGING}"
    return session.execute(text(_merge_statement(source, names, owner_id, "EXCLUDED"))).rowcount


def _upsert_sqlite(session: Session, values: pd.DataFrame, owner_id: uuid.UUID | None) -> int:
    numbers = values[list(INDICATOR_COLUMNS)].astype(float)
    numbers = [numbers[name].astype(object).where(numbers[name].notna(), None).tolist() for name in numbers]
    count = len(values)
    owner, now = [uuid_text(owner_id)] * count, [timestamp_text(utc_now())] * count
    ordered = [uuid_texts(count), owner, values["ticker"].tolist(), date_texts(values["date"]), *numbers, now]
    names = ["id", "owner_id", "ticker", "date", *INDICATOR_COLUMNS, "computed_at"]
    source = f"VALUES ({', '.join('?' for _ in names)})"
    statement = _merge_statement(source, names, owner_id, "excluded").replace("IS DISTINCT FROM", "IS NOT")
    return execute_many(session, statement, list(zip(*ordered, strict=True)))


def replace_latest(*, session: Session, latest: pd.DataFrame, owner_id: uuid.UUID | None) -> None:
    """Store the screener's row of these tickers in one scope (columns as LatestIndicators), replacing theirs."""
    tickers = [str(ticker) for ticker in latest["ticker"]]
    session.execute(
        delete(LatestIndicators).where(LatestIndicators.ticker.in_(tickers), _in_scope(LatestIndicators, owner_id))
    )
    if latest.empty:
        return
    now = utc_now()
    records = latest.astype(object).where(latest.notna(), None).to_dict("records")
    rows = [{"id": uuid.uuid4(), "owner_id": owner_id, "computed_at": now} | record for record in records]
    session.execute(insert(LatestIndicators), rows)


def read_indicators(
    *, session: Session, actor: Actor, ticker: str, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """Stored indicators of one ticker by date, for the rows the actor sees; one query."""
    conditions = [TechnicalIndicator.ticker == ticker, _visible(TechnicalIndicator, actor)]
    if start is not None:
        conditions.append(TechnicalIndicator.date >= start)
    if end is not None:
        conditions.append(TechnicalIndicator.date <= end)
    columns = [getattr(TechnicalIndicator, name) for name in INDICATOR_COLUMNS]
    own = TechnicalIndicator.owner_id.is_not(None).label("own")
    query = select(TechnicalIndicator.date, own, *columns).where(*conditions).order_by(TechnicalIndicator.date)
    frame = pd.DataFrame(session.execute(query).all(), columns=["date", "own", *INDICATOR_COLUMNS])
    return prefer_own_rows(frame, ["date"])


def _visible(table, actor: Actor) -> ColumnElement[bool]:
    return shared_or_own(table.owner_id, actor)


LATEST_COLUMNS = (
    "date", "close", "rsi_14", "ema_200", "macd_hist", "hv_20", "hv_20_year_median", "macd_cross_age",
)  # fmt: skip


def read_latest(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The screener's row of every ticker the actor sees: theirs where they uploaded it, else the shared one.

    One query over one row per ticker and scope, however long the histories.
    """
    own = LatestIndicators.owner_id.is_not(None).label("own")
    columns = [getattr(LatestIndicators, name) for name in LATEST_COLUMNS]
    query = select(LatestIndicators.ticker, own, *columns).where(_visible(LatestIndicators, actor))
    frame = _frame(session.connection().execute(query).all(), ["ticker", "own", *LATEST_COLUMNS])
    if frame.empty:
        return frame.drop(columns=["own"])
    frame = frame.sort_values(["ticker", "own"]).drop_duplicates("ticker", keep="last")
    numbers = [name for name in LATEST_COLUMNS if name != "date"]
    frame[numbers] = frame[numbers].astype(float)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.drop(columns=["own"]).reset_index(drop=True)
