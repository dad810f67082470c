"""Cached daily prices: bulk upsert, one-query reads, per-ticker summaries, deletion.

Shared market data has no owner; a user's uploaded prices have them as owner and are seen only
by them. Where a user has their own row for a day that shared data also has, theirs wins.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
import pandas as pd
from psycopg2.errors import UniqueViolation
from sqlalchemy import ColumnElement, Select, Text, and_, cast, delete, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from db.models import HistoricalPrice
from db.models.market import CorporateAction, LatestIndicators, PriceSeriesVersion, PriceSummary, TechnicalIndicator
from db.pg_copy import COLUMNS as COPY_COLUMNS
from db.pg_copy import price_rows_of
from db.repositories.actor import Actor, shared_or_own
from db.repositories.upsert import upsert_insert
from db.sqlite_rows import date_texts, execute_many, timestamp_text, uuid_text, uuid_texts
from db.types import utc_now

VALUE_COLUMNS = ("open", "high", "low", "close", "adjusted_close", "volume")
FRAME_COLUMNS = ("date", *VALUE_COLUMNS)
# The keys of a price record as the API writes it, in order.
_RECORD_FIELDS = ("date", *VALUE_COLUMNS, "source")
_STAGING = "staging_prices"
# pg_advisory_xact_lock's first key for a price series' writers ("PS"); the second is the series' hash.
_SERIES_LOCKS = 0x5053


# Whether a row is the actor's own upload rather than shared data; read queries select it.
OWN = HistoricalPrice.owner_id.is_not(None).label("own")


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """Shared prices and the actor's own uploads."""
    return shared_or_own(HistoricalPrice.owner_id, actor)


def _scope(owner_id: uuid.UUID | None) -> ColumnElement[bool]:
    if owner_id is None:
        return HistoricalPrice.owner_id.is_(None)
    return HistoricalPrice.owner_id == owner_id


def _conflict_target(table: Any, owner_id: uuid.UUID | None, *columns: str) -> dict[str, Any]:
    """The partial unique index (db.models.market.unique_per_scope) an upsert of this scope collides on."""
    if owner_id is None:
        return {"index_elements": list(columns), "index_where": table.owner_id.is_(None)}
    return {"index_elements": ["owner_id", *columns], "index_where": table.owner_id.is_not(None)}


def upsert_prices(
    *, session: Session, frame: pd.DataFrame, ticker: str, owner_id: uuid.UUID | None, source: str
) -> int:
    """Insert or update one ticker's rows (columns date, open..volume); returns how many changed."""
    return upsert_prices_of(session=session, frame=frame.assign(ticker=ticker), owner_id=owner_id, source=source)


def upsert_prices_of(*, session: Session, frame: pd.DataFrame, owner_id: uuid.UUID | None, source: str) -> int:
    """Insert or update several tickers' rows at once (columns ticker, date, open..volume): one COPY.

    Changed or not, the tickers' series stay locked against other writers until the transaction ends.
    """
    if frame.empty:
        return 0
    frame = frame.loc[:, ["ticker", *FRAME_COLUMNS]].copy()
    frame["volume"] = frame["volume"].round().astype("int64")
    lock_series_writes(session, frame["ticker"].unique(), owner_id)
    if session.get_bind().dialect.name == "postgresql":
        changed = _upsert_postgres(session, frame, owner_id, source)
    else:
        changed = _upsert_sqlite(session, frame, owner_id, source)
    tickers = [str(ticker) for ticker in frame["ticker"].unique()]
    if changed:
        _series_changed(session, tickers, owner_id)
    else:
        # The caller recomputes the series' indicators next, from what it reads: read before another
        # writer of new days commits, they would be written over that writer's.
        _hold_series(session, tickers, owner_id)
    return changed


def lock_series_writes(session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> None:
    """Make this transaction the one writer of these series (their prices and indicators) until it ends.

    Taken before any row is written. Two writers of a ticker not stored yet found no row to lock: the second's
    COPY then waited inside the first's unique-index entries with its data in flight, the server stopped
    reading it, and after DB_ANSWER_TIMEOUT the kernel cut the connection ("connection already closed",
    from two imports of the same new file). Waiting here, on one small statement, it then finds the first's
    rows committed and merges over them. Locks are taken in the order of their keys, so writers of
    overlapping sets never deadlock. On SQLite the transaction holds the database's write lock already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({f"{owner_id or 'shared'}:{ticker}" for ticker in tickers})
    session.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:space, key)) FROM "
            "(SELECT DISTINCT hashtext(name) AS key FROM unnest(CAST(:names AS text[])) AS name ORDER BY key) AS keys"
        ),
        {"space": _SERIES_LOCKS, "names": keys},
    )


def _on_conflict_update(statement, owner_id: uuid.UUID | None):
    """Overwrite a stored day with the new values, but leave a day whose values did not change alone."""
    excluded = statement.excluded
    columns = {name: getattr(excluded, name) for name in VALUE_COLUMNS}
    changed = or_(
        *(
            getattr(HistoricalPrice, name).is_distinct_from(getattr(excluded, name))
            for name in (*VALUE_COLUMNS, "source")
        )
    )
    return statement.on_conflict_do_update(
        **_conflict_target(HistoricalPrice, owner_id, "ticker", "date"),
        set_=columns | {"source": excluded.source, "last_updated": excluded.last_updated},
        where=changed,
    )


def _upsert_sqlite(session: Session, frame: pd.DataFrame, owner_id: uuid.UUID | None, source: str) -> int:
    compiled = _on_conflict_update(sqlite_insert(HistoricalPrice), owner_id).compile(
        dialect=session.get_bind().dialect, column_keys=["id", "owner_id", "source", "last_updated", *frame.columns]
    )
    columns = {name: frame[name].tolist() for name in frame.columns if name != "date"}
    columns |= {"id": uuid_texts(len(frame)), "date": date_texts(frame["date"])}
    constants = {"owner_id": uuid_text(owner_id), "source": source, "last_updated": timestamp_text(utc_now())}
    ordered = [columns.get(name) or [constants[name]] * len(frame) for name in compiled.positiontup]
    return execute_many(session, compiled.string, list(zip(*ordered, strict=True)))


def _upsert_postgres(session: Session, frame: pd.DataFrame, owner_id: uuid.UUID | None, source: str) -> int:
    payload = price_rows_of(frame, owner_id=owner_id, source=source)
    first, last = frame["date"].min(), frame["date"].max()
    tickers = [str(ticker) for ticker in frame["ticker"].unique()]
    overlap = select(HistoricalPrice.id).where(
        HistoricalPrice.ticker.in_(tickers), _scope(owner_id), HistoricalPrice.date.between(first, last)
    )
    if session.scalar(overlap.limit(1)) is None:
        # New days only (a first load, a refresh): COPY straight into the table.
        try:
            with session.begin_nested():
                _copy(session, "historical_data", payload)
            return len(frame)
        except UniqueViolation:
            pass  # another writer stored some of these days just now; merge them below
    # Days that may exist already: COPY into a session-private staging table, then one
    # INSERT ... ON CONFLICT lets the unique index decide insert or update, row by row.
    session.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} (LIKE historical_data) ON COMMIT DELETE ROWS"))
    session.execute(text(f"TRUNCATE {_STAGING}"))
    _copy(session, _STAGING, payload)
    columns = ", ".join(COPY_COLUMNS)
    statement = pg_insert(HistoricalPrice).from_select(
        list(COPY_COLUMNS), select(text(columns)).select_from(text(_STAGING))
    )
    return session.execute(_on_conflict_update(statement, owner_id)).rowcount


def _copy(session: Session, table: str, payload: bytes) -> None:
    copy_binary(session, table, COPY_COLUMNS, payload)


def copy_binary(session: Session, table: str, columns: Sequence[str], payload: bytes) -> None:
    """Stream a binary COPY payload into table's columns on the session's connection (PostgreSQL)."""
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload))
    finally:
        cursor.close()


def read_query_csv(session: Session, query: Select, names: Sequence[str]) -> pd.DataFrame:
    """A query's rows through COPY ... TO STDOUT as CSV (PostgreSQL), parsed by pandas' C reader.

    Several times cheaper than row objects for large reads. Columns come back as pandas infers them
    (booleans as 't'/'f', dates as text): the caller converts what it needs.
    """
    compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    params = {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in compiled.params.items()}
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        sql = cursor.mogrify(str(compiled), params).decode()
        buffer = io.BytesIO()
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame(columns=list(names))
    buffer.seek(0)
    # COPY writes NULL as an empty field; pandas' other missing-value words would take the ticker NA
    # (Nano Labs) or NULL for one.
    return pd.read_csv(
        buffer,
        header=None,
        names=list(names),
        dtype={"ticker": str, "price_id": str},
        keep_default_na=False,
        na_values=[""],
    )


def read_prices(
    *, session: Session, actor: Actor, ticker: str, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """One ticker's rows visible to the actor, by date; one indexed query."""
    frame = _read_visible(session, actor, [ticker], start, end)
    return prefer_own_rows(frame.drop(columns=["ticker"]), ["date"])


def read_prices_of(
    *, session: Session, actor: Actor, tickers: Sequence[str], start: date | None = None
) -> pd.DataFrame:
    """Several tickers' rows visible to the actor (with a ticker column), by ticker and date; one query."""
    frame = _read_visible(session, actor, list(tickers), start, None)
    return prefer_own_rows(frame, ["ticker", "date"])


def read_price_records(*, session: Session, actor: Actor, ticker: str) -> tuple[list[str], list[str]]:
    """The ticker's days (YYYY-MM-DD) as read_prices sees them, oldest first, each with its JSON record.

    A record is {"date": "YYYY-MM-DD", "open": ..., "volume": ..., "source": "..."}, each float in the
    shortest form that reads back as the same float, a non-finite one as null. PostgreSQL writes the
    records itself (format()), quicker than fetching the floats. SQLite's printf cannot: 15 digits
    lose a float32 close's last ones and 17 misprint the largest floats, so there orjson writes them
    (quicker than printf, too). The user's own row of a day wins in SQL here, as prefer_own_rows
    does in pandas.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    values = [_record_json()] if postgres else [getattr(HistoricalPrice, name) for name in _RECORD_FIELDS[1:]]
    query = (
        # The day as text: parsing 5,000 dates into objects cost more than reading them.
        select(cast(HistoricalPrice.date, Text), *values)
        .where(HistoricalPrice.ticker == ticker, _preferred_visible(session, actor, ticker))
        .order_by(HistoricalPrice.date)
    )
    # 256 rows at a time, each chunk dropped once read: holding all 5,000 sets off a full garbage
    # collection now and then (140 ms in a process as big as the API's), and one row at a time is slower.
    chunks = session.connection().execute(query).partitions(256)
    days, records = [], []
    if not postgres:
        dumps = orjson.dumps
        for chunk in chunks:
            for row in chunk:
                days.append(row[0])
                records.append(dumps(dict(zip(_RECORD_FIELDS, row, strict=True))).decode())
        return days, records
    for chunk in chunks:
        for day, text_ in chunk:
            days.append(day)
            records.append(text_)
    # Only a non-finite float (validation keeps them out) puts a capital I or N in a record, and
    # looking for one character is 40 times quicker than for a word.
    if any("I" in text_ or "N" in text_ for text_ in records):
        records = [_NOT_JSON.sub("null", text_) for text_ in records]
    return days, postgres_records_in_orjson_form(records)


# How PostgreSQL writes a non-finite float as text; no key, date or source contains these.
_NOT_JSON = re.compile(r"-?(?:Infinity|Inf|NaN)")
# A price PostgreSQL wrote otherwise than orjson (SQLite's records): as an integer, or with an exponent. A
# number with a decimal point and no exponent is the same text either way (the shortest that reads back).
_NOT_ORJSON_FORM = re.compile(
    r'("(?:'
    + "|".join(name for name in VALUE_COLUMNS if name != "volume")
    + r')":)(-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+|-?[0-9]+(?=[,}]))'
)


def postgres_records_in_orjson_form(records: list[str]) -> list[str]:
    """PostgreSQL's records with every price as orjson writes it, so both backends answer the same text: its
    float output writes a whole price as an integer (2500, which clients read into an integer column) and
    pads an exponent (6.39e-06)."""
    text_ = "\n".join(records)  # a JSON record holds no raw line break
    if not _NOT_ORJSON_FORM.search(text_):
        return records
    return _NOT_ORJSON_FORM.sub(lambda m: m[1] + orjson.dumps(float(m[2])).decode(), text_).split("\n")


def _preferred_visible(session: Session, actor: Actor, ticker: str) -> ColumnElement[bool]:
    """The actor's own rows of the ticker, and the shared rows of days they have no row of their own for."""
    if not any_prices(session=session, tickers=[ticker], owner_id=actor.user_id):
        return HistoricalPrice.owner_id.is_(None)  # the usual case: no per-row check of an upload
    return own_over_shared(actor.user_id)


def own_over_shared(owner_id: uuid.UUID) -> ColumnElement[bool]:
    """An owner's rows, and the shared rows of days they have none of: the history their charts show."""
    own = aliased(HistoricalPrice)
    shadowed = (
        select(own.id)
        .where(own.owner_id == owner_id, own.ticker == HistoricalPrice.ticker, own.date == HistoricalPrice.date)
        .exists()
    )
    return or_(HistoricalPrice.owner_id == owner_id, and_(HistoricalPrice.owner_id.is_(None), ~shadowed))


def owners_of(*, session: Session, tickers: Sequence[str]) -> dict[uuid.UUID, list[str]]:
    """Who holds rows of their own of these tickers, and of which."""
    query = (
        select(HistoricalPrice.owner_id, HistoricalPrice.ticker)
        .where(HistoricalPrice.ticker.in_(list(tickers)), HistoricalPrice.owner_id.is_not(None))
        .distinct()
        .order_by(HistoricalPrice.owner_id, HistoricalPrice.ticker)
    )
    owners: dict[uuid.UUID, list[str]] = {}
    for owner_id, ticker in session.execute(query):
        owners.setdefault(owner_id, []).append(ticker)
    return owners


def _record_json() -> ColumnElement[str]:
    """One price row as a JSON object written by PostgreSQL: {"date": "YYYY-MM-DD", "open": ..., "source": "..."}.

    format() writes each value with its type's output function: floats shortest round-trip. Every
    column is NOT NULL and the source one of PRICE_SOURCES (a CHECK), so no value needs quoting;
    dates are ISO text (psycopg2 reads dates only under DateStyle ISO, so every connection of the
    app has it).
    """
    slots = {"date": '"%s"', "source": '"%s"'}
    template = "{" + ",".join(f"{json.dumps(name)}:{slots.get(name, '%s')}" for name in _RECORD_FIELDS) + "}"
    return func.format(
        literal(template, Text), *(getattr(HistoricalPrice, name) for name in _RECORD_FIELDS), type_=Text
    )


def _read_visible(
    session: Session, actor: Actor, tickers: list[str], start: date | None, end: date | None
) -> pd.DataFrame:
    conditions = [
        HistoricalPrice.ticker == tickers[0] if len(tickers) == 1 else HistoricalPrice.ticker.in_(tickers),
        visible_to(actor),
    ]
    if start is not None:
        conditions.append(HistoricalPrice.date >= start)
    if end is not None:
        conditions.append(HistoricalPrice.date <= end)
    columns = [getattr(HistoricalPrice, name) for name in FRAME_COLUMNS]
    query = select(HistoricalPrice.ticker, *columns, OWN, HistoricalPrice.source).where(*conditions)
    query = query.order_by(HistoricalPrice.ticker, HistoricalPrice.date)
    names = ["ticker", *FRAME_COLUMNS, "own", "source"]
    if session.get_bind().dialect.name == "postgresql":
        frame = read_query_csv(session, query, names)
        frame["own"] = frame["own"].to_numpy() == "t"
    else:
        # Plain tuples: pandas probes every row for namedtuple fields, and a Row answers that probe slowly.
        frame = pd.DataFrame([tuple(row) for row in session.execute(query)], columns=names)
    return frame


def prefer_own_rows(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per key: where the actor has their own row for a day that shared data also has, theirs.

    frame has a boolean `own` column (the OWN label of a query), dropped on the way out.
    """
    if not frame.empty:
        if frame["own"].any():
            frame = frame.sort_values([*keys, "own"]).drop_duplicates(keys, keep="last")
        frame = frame.assign(date=_timestamps(frame["date"]))
    return frame.drop(columns=["own"]).reset_index(drop=True)


def _timestamps(days: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(days):
        return days
    # ISO text (COPY's CSV, SQLite) parses on pandas' fast path once it is told the format.
    if pd.api.types.is_string_dtype(days) or (days.dtype == object and isinstance(days.iloc[0], str)):
        return pd.to_datetime(days, format="ISO8601")
    return pd.to_datetime(days)


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
    owned = PriceSummary.owner_id.is_not(None)
    query = (
        select(
            PriceSummary.ticker,
            owned,
            PriceSummary.source,
            PriceSummary.first_date,
            PriceSummary.last_date,
            PriceSummary.days,
            PriceSummary.last_updated,
        )
        .where(shared_or_own(PriceSummary.owner_id, actor))
        .order_by(PriceSummary.ticker, owned, PriceSummary.source)
    )
    return [CachedTicker(*row) for row in session.execute(query).all()]


def any_prices(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> bool:
    """Whether any of these tickers has a stored day in this scope."""
    query = select(HistoricalPrice.id).where(HistoricalPrice.ticker.in_(list(tickers)), _scope(owner_id)).limit(1)
    return session.scalar(query) is not None


def stored_days(*, session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> int:
    """How many days of these tickers are stored in this scope, as this transaction sees them."""
    query = (
        select(func.count())
        .select_from(HistoricalPrice)
        .where(HistoricalPrice.ticker.in_(list(tickers)), _scope(owner_id))
    )
    return session.scalar(query) or 0


def visible_days(*, session: Session, actor: Actor, ticker: str) -> int:
    """How many days of the ticker the actor sees, each once, as read_prices gives them to a training."""
    query = select(func.count(HistoricalPrice.date.distinct())).where(
        HistoricalPrice.ticker == ticker, visible_to(actor)
    )
    return session.scalar(query) or 0


def visible_days_of(*, session: Session, actor: Actor, tickers: Sequence[str]) -> dict[str, int]:
    """visible_days of several tickers; a ticker with no day visible counts 0.

    A ticker the actor sees in one series (one scope, one source) has its days in that series' summary; only
    one seen in several, whose days may overlap, has its distinct days counted, in one grouped query.
    """
    if not tickers:
        return {}
    summaries = select(PriceSummary.ticker, PriceSummary.days).where(
        PriceSummary.ticker.in_(list(tickers)), shared_or_own(PriceSummary.owner_id, actor)
    )
    series: dict[str, list[int]] = {}
    for ticker, days in session.execute(summaries):
        series.setdefault(ticker, []).append(days)
    counted = {ticker: days[0] for ticker, days in series.items() if len(days) == 1}
    overlapping = [ticker for ticker, days in series.items() if len(days) > 1]
    if overlapping:
        query = (
            select(HistoricalPrice.ticker, func.count(HistoricalPrice.date.distinct()))
            .where(HistoricalPrice.ticker.in_(overlapping), visible_to(actor))
            .group_by(HistoricalPrice.ticker)
        )
        counted |= {ticker: days for ticker, days in session.execute(query)}
    return {ticker: counted.get(ticker, 0) for ticker in tickers}


def cached_span(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> tuple[date | None, date | None]:
    """The first and last day of one ticker's rows in one scope; (None, None) for none."""
    query = select(func.min(HistoricalPrice.date), func.max(HistoricalPrice.date)).where(
        HistoricalPrice.ticker == ticker, _scope(owner_id)
    )
    first, last = session.execute(query).one()
    return first, last


def delete_prices(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> int:
    """Delete one ticker's rows in one scope (shared, or one owner's), its indicators and corporate actions
    with them; returns how many rows.

    The split decisions go too: a decision is about these prices, and deleting them and loading them
    again is how a mistaken "Not a split" is undone.
    """
    lock_series_writes(session, [ticker], owner_id)
    for table in (TechnicalIndicator, LatestIndicators, CorporateAction):
        scope = table.owner_id.is_(None) if owner_id is None else table.owner_id == owner_id
        session.execute(delete(table).where(table.ticker == ticker, scope))
    statement = delete(HistoricalPrice).where(and_(HistoricalPrice.ticker == ticker, _scope(owner_id)))
    deleted = session.execute(statement).rowcount
    if deleted:
        _series_changed(session, [ticker], owner_id)
    return deleted


def divide_adjusted_before(
    *, session: Session, ticker: str, owner_id: uuid.UUID | None, day: date, factor: float
) -> int:
    """Divide the adjusted closes of the days before a split by its factor, in one scope; returns how many."""
    lock_series_writes(session, [ticker], owner_id)
    statement = (
        update(HistoricalPrice)
        .where(HistoricalPrice.ticker == ticker, _scope(owner_id), HistoricalPrice.date < day)
        .values(adjusted_close=HistoricalPrice.adjusted_close / factor, last_updated=utc_now())
    )
    divided = session.execute(statement).rowcount
    if divided:
        _series_changed(session, [ticker], owner_id)
    return divided


def _series_changed(session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> None:
    """Give these series a new version and summary, in the transaction that changed their rows.

    Every write of historical_data in this module ends here: a reader holding a copy rendered at
    an older version (see series_versions) reads the rows again, and the ticker list stays true.
    """
    # Sorted so two writers lock the same version rows in the same order and never deadlock.
    tickers = sorted(set(tickers))
    _new_versions(session, tickers, owner_id)
    # After the version rows are locked: a concurrent writer of the same series waits for this
    # transaction's commit and then summarises with its rows included, never over them.
    _summarise(session, tickers, owner_id)


def _hold_series(session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> None:
    """Lock these series' version rows, as _series_changed does, without giving them a new version.

    On SQLite the transaction holds the database's write lock already (db.engine begins it IMMEDIATE).
    """
    scope = PriceSeriesVersion.owner_id.is_(None) if owner_id is None else PriceSeriesVersion.owner_id == owner_id
    session.execute(
        select(PriceSeriesVersion.id)
        .where(PriceSeriesVersion.ticker.in_(sorted(set(tickers))), scope)
        .order_by(PriceSeriesVersion.ticker)
        .with_for_update()
    )


def _new_versions(session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> None:
    now = utc_now()
    rows = [
        {"id": uuid.uuid4(), "owner_id": owner_id, "ticker": ticker, "version": uuid.uuid4(), "changed_at": now}
        for ticker in tickers
    ]
    statement = upsert_insert(session, PriceSeriesVersion)
    session.execute(
        statement.on_conflict_do_update(
            **_conflict_target(PriceSeriesVersion, owner_id, "ticker"),
            set_={"version": statement.excluded.version, "changed_at": statement.excluded.changed_at},
        ),
        rows,
    )


_SUMMARY_BATCH = 500


def _summarise(session: Session, tickers: Sequence[str], owner_id: uuid.UUID | None) -> None:
    """Recount these series' summaries (one per source) from their rows in this scope."""
    scope = PriceSummary.owner_id.is_(None) if owner_id is None else PriceSummary.owner_id == owner_id
    for start in range(0, len(tickers), _SUMMARY_BATCH):
        batch = tickers[start : start + _SUMMARY_BATCH]
        counted = session.execute(
            select(
                HistoricalPrice.ticker,
                HistoricalPrice.source,
                func.min(HistoricalPrice.date),
                func.max(HistoricalPrice.date),
                func.count(),
                func.max(HistoricalPrice.last_updated),
            )
            .where(HistoricalPrice.ticker.in_(batch), _scope(owner_id))
            .group_by(HistoricalPrice.ticker, HistoricalPrice.source)
        ).all()
        session.execute(delete(PriceSummary).where(PriceSummary.ticker.in_(batch), scope))
        if counted:
            session.execute(
                PriceSummary.__table__.insert(),
                [
                    {
                        "id": uuid.uuid4(),
                        "owner_id": owner_id,
                        "ticker": ticker,
                        "source": source,
                        "first_date": first,
                        "last_date": last,
                        "days": days,
                        "last_updated": updated,
                    }
                    for ticker, source, first, last, days, updated in counted
                ],
            )


def series_versions(*, session: Session, actor: Actor, ticker: str) -> dict[uuid.UUID | None, uuid.UUID]:
    """The versions of the ticker's series the actor sees: the shared one (key None) and their own, where stored."""
    return series_versions_of(session=session, actor=actor, tickers=[ticker]).get(ticker, {})


def series_versions_of(
    *, session: Session, actor: Actor, tickers: Sequence[str]
) -> dict[str, dict[uuid.UUID | None, uuid.UUID]]:
    """series_versions of several tickers in one query; a ticker with no stored series is left out.

    Every write of prices gives its series a new random version, so equal versions are equal prices.
    """
    if not tickers:
        return {}
    query = select(PriceSeriesVersion.ticker, PriceSeriesVersion.owner_id, PriceSeriesVersion.version).where(
        PriceSeriesVersion.ticker.in_(list(tickers)), shared_or_own(PriceSeriesVersion.owner_id, actor)
    )
    found: dict[str, dict[uuid.UUID | None, uuid.UUID]] = {}
    for ticker, owner_id, version in session.execute(query):
        found.setdefault(ticker, {})[owner_id] = version
    return found


def replace_actions(
    *, session: Session, ticker: str, owner_id: uuid.UUID | None, actions: pd.DataFrame, source: str
) -> int:
    """Store reported splits and dividends (columns date, kind, value), replacing the scope's rows of those
    kinds on those days: a dividend reported on a split's day leaves the split, and its decision, alone."""
    if actions.empty:
        return 0
    scope = CorporateAction.owner_id.is_(None) if owner_id is None else CorporateAction.owner_id == owner_id
    for kind, of_kind in actions.groupby("kind"):
        days = sorted({pd.Timestamp(day).date() for day in of_kind["date"]})
        session.execute(
            delete(CorporateAction).where(
                CorporateAction.ticker == ticker, scope, CorporateAction.kind == kind, CorporateAction.date.in_(days)
            )
        )
    now = utc_now()
    rows = [
        {
            "id": uuid.uuid4(),
            "owner_id": owner_id,
            "ticker": ticker,
            "date": pd.Timestamp(row.date).date(),
            "kind": row.kind,
            "value": float(row.value),
            "source": source,
            "recorded_at": now,
        }
        for row in actions.itertuples(index=False)
    ]
    session.execute(CorporateAction.__table__.insert(), rows)
    return len(rows)


def read_scope_actions(*, session: Session, ticker: str, owner_id: uuid.UUID | None, kind: str) -> pd.DataFrame:
    """One kind of action of a ticker in one scope (date, value, source), by date."""
    scope = CorporateAction.owner_id.is_(None) if owner_id is None else CorporateAction.owner_id == owner_id
    query = (
        select(CorporateAction.date, CorporateAction.value, CorporateAction.source)
        .where(CorporateAction.ticker == ticker, CorporateAction.kind == kind, scope)
        .order_by(CorporateAction.date)
    )
    return pd.DataFrame(session.execute(query).all(), columns=["date", "value", "source"])


def read_actions(*, session: Session, actor: Actor, ticker: str) -> pd.DataFrame:
    """The splits and dividends reported for a ticker that the actor may see (date, kind, value, source)."""
    return read_actions_of(session=session, actor=actor, tickers=[ticker]).drop(columns=["ticker"])


def read_actions_of(*, session: Session, actor: Actor, tickers: Sequence[str]) -> pd.DataFrame:
    """The splits and dividends of several tickers the actor may see (ticker, date, kind, value, source)."""
    scope = shared_or_own(CorporateAction.owner_id, actor)
    query = (
        select(
            CorporateAction.ticker,
            CorporateAction.date,
            CorporateAction.kind,
            CorporateAction.value,
            CorporateAction.source,
        )
        .where(CorporateAction.ticker.in_(list(tickers)), scope)
        .order_by(CorporateAction.ticker, CorporateAction.date)
    )
    return pd.DataFrame(session.execute(query).all(), columns=["ticker", "date", "kind", "value", "source"])
