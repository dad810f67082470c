"""One engine and sessionmaker per process, the session scope of a user action, health and pool figures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from core.config import Settings, get_settings
from core.logging import get_logger

log = get_logger("db")


def create_engine_from_settings(settings: Settings, url: URL | str | None = None) -> Engine:
    """An engine with the pool settings applied; SQLite gets WAL, foreign keys and a busy timeout."""
    url = settings.sqlalchemy_url if url is None else make_url(url)
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, echo=settings.db_echo)
    return create_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=True,
    )


def ensure_sqlite_folder(url: URL | str) -> None:
    """SQLite creates the file but not its folder; a fresh checkout has no var/ yet."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _create_sqlite_engine(url: URL, *, echo: bool) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        ensure_sqlite_folder(url)
        # Streamlit serves each session from its own thread and the job runner has its own;
        # SQLite's same-thread check would reject connections handed between them by the pool.
        engine = create_engine(
            url,
            echo=echo,
            poolclass=QueuePool,
            pool_pre_ping=True,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily on its own, which breaks SAVEPOINT and leaves DDL
        # outside the transaction; hand transaction control to SQLAlchemy (its documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout). A deferred BEGIN
        # that reads and then writes fails at once with "database is locked" when another
        # writer got in between, e.g. two people registering at the same moment.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@cache
def get_engine() -> Engine:
    """The engine of this process, built from the settings on first use."""
    return create_engine_from_settings(get_settings())


@cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def reset_engine() -> None:
    """Dispose of this process's engine so the next call builds one from fresh settings."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()


@contextmanager
def session_scope(factory: sessionmaker[Session] | None = None, *, action: str = "") -> Iterator[Session]:
    """One transaction for one user action: commit on success, roll back and log on error."""
    session = (factory or get_sessionmaker())()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        log.exception("database transaction rolled back%s", f" during {action}" if action else "")
        raise
    finally:
        session.close()


@dataclass(frozen=True)
class Health:
    ok: bool
    latency_ms: float
    error: str | None = None


def health_check(engine: Engine) -> Health:
    """Run SELECT 1 and time it; a failure becomes a message, never an exception."""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any driver failure means "unhealthy"
        return Health(False, (time.perf_counter() - started) * 1000, _one_line(error))
    return Health(True, (time.perf_counter() - started) * 1000)


@dataclass(frozen=True)
class PoolStatus:
    kind: str
    size: int | None
    checked_out: int | None
    overflow: int | None
    checked_in: int | None


def pool_status(engine: Engine) -> PoolStatus:
    """Size, connections checked out, overflow in use and idle connections of the engine's pool."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return PoolStatus(
            kind="QueuePool",
            size=pool.size(),
            checked_out=pool.checkedout(),
            overflow=max(pool.overflow(), 0),
            checked_in=pool.checkedin(),
        )
    return PoolStatus(kind=type(pool).__name__, size=None, checked_out=None, overflow=None, checked_in=None)


def _one_line(error: BaseException) -> str:
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0] if first else ''}".strip()
