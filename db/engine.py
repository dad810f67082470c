"""One engine and sessionmaker per process, the session scope of a user action, health and pool figures."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, QueuePool, StaticPool

from common.config import PROJECT_ROOT, Settings, get_settings
from common.errors import Refusal
from common.logging import get_logger, stack_only
from common.words import plural
from db.answer_watch import AnswerWatch

log = get_logger("db")

DATABASE_NOT_ANSWERING = "The database is not answering. Please try again in a minute."
DATABASE_REFUSED = "The database could not store this, so nothing was saved. Please check the values and try again."
# Objects a session keeps in session.info under this key are written again after a rollback:
# the audit rows of refusals, which must outlive the transaction the refusal undoes.
KEEP_AFTER_ROLLBACK = "candlecast_keep_after_rollback"
_LOGGED_MARK = "_candlecast_logged"
# A connection execution option: the transaction only reads (on SQLite it need not wait for writers).
READ_ONLY_OPTION = "candlecast_read_only"
# The pool reconnects microseconds after a failed pre-ping; a mark older than this was left by a ping
# that no reconnect followed and must not refuse a later, unrelated connection.
_RECONNECT_FOLLOWS_PING_SECONDS = 1.0
SQLITE_FILE_MODE = 0o600
# How long a SQLite connection waits for another's write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_SECONDS = 30
# The default SQLITE_PATH's folder: the app's own, where it may tighten what it made before.
APP_DATA_FOLDER = PROJECT_ROOT / "var"


def create_engine_from_settings(
    settings: Settings, url: URL | str | None = None, *, for_migrations: bool = False
) -> Engine:
    """An engine with the pool settings applied; SQLite gets WAL, foreign keys and a busy timeout.

    SQL parameters never reach an error message or a log line (hide_parameters): they hold
    e-mail addresses and password hashes. PostgreSQL connects within DB_CONNECT_TIMEOUT and a
    statement whose server stops answering ends (DB_ANSWER_TIMEOUT), so nothing hangs for ever.
    for_migrations: no pool (one command, one connection), and SQLite with foreign keys off:
    with them on, the table rebuilds of Alembic's batch mode would fire ON DELETE actions.
    Raises DatabaseFileError when a SQLite file or its folder cannot be created.
    """
    url = settings.sqlalchemy_url if url is None else make_url(url)
    if url.get_backend_name() == "sqlite":
        if for_migrations:
            return _create_sqlite_migration_engine(url, echo=settings.db_echo)
        return _create_sqlite_engine(url, settings)
    connect_args = {
        # libpq: the whole start-up (TCP, TLS, authentication) within this many seconds.
        "connect_timeout": settings.db_connect_timeout,
        # A peer that vanished from the network (no ACKs at all) is noticed by the kernel.
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": int(settings.db_answer_timeout * 1000),
    }
    pool_args: dict[str, Any] = (
        {"poolclass": NullPool}
        if for_migrations
        else {
            "pool_size": settings.db_pool_size,
            "max_overflow": settings.db_max_overflow,
            "pool_timeout": settings.db_pool_timeout,
            "pool_recycle": settings.db_pool_recycle,
            "pool_pre_ping": True,
        }
    )
    engine = create_engine(url, echo=settings.db_echo, hide_parameters=True, connect_args=connect_args, **pool_args)
    _watch_answers(engine, settings.db_answer_timeout, connect_args)
    return engine


def _watch_answers(engine: Engine, answer_timeout: float, connect_args: dict[str, Any]) -> None:
    """Every statement and pre-ping on this engine is watched for a server that stopped answering."""
    dialect = engine.dialect
    cargs, cparams = dialect.create_connect_args(engine.url)
    cparams = {**cparams, **connect_args}

    def server_answers() -> bool:
        try:
            dialect.loaded_dbapi.connect(*cargs, **cparams).close()
        except Exception:  # noqa: BLE001 - any failure to connect means "not answering"
            return False
        return True

    watch = AnswerWatch(answer_timeout=answer_timeout, server_answers=server_answers)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(_conn: Any, cursor: Any, *_args: Any) -> None:
        watch.start(cursor.connection)

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(_conn: Any, cursor: Any, *_args: Any) -> None:
        watch.stop(id(cursor.connection))

    @event.listens_for(engine, "handle_error")
    def _stop_on_error(context: Any) -> None:
        execution = context.execution_context
        if execution is not None and execution.cursor is not None:
            watch.stop(id(execution.cursor.connection))

    for name in ("checkin", "close", "invalidate"):
        event.listen(engine.pool, name, lambda dbapi_connection, *_: watch.stop(id(dbapi_connection)))

    # When the watch ends a pre-ping for silence, the page has already waited the answer timeout and
    # the watch's probe the connect timeout; the pool would now reconnect at once and wait the connect
    # timeout a third time for the verdict it just got. So that one reconnect, in the same thread a
    # moment later, fails at once. Nothing else is refused: other requests, and this thread's next
    # request once the server answers again, connect as usual, so recovery is not delayed and no
    # thread waits on another's verdict.
    silence_seen = threading.local()

    plain_ping = dialect.do_ping

    def watched_ping(dbapi_connection: Any) -> bool:
        key = watch.start(dbapi_connection)
        try:
            return plain_ping(dbapi_connection)
        finally:
            if watch.stop(key):
                silence_seen.at = time.monotonic()

    dialect.do_ping = watched_ping  # type: ignore[method-assign]

    @event.listens_for(engine, "do_connect")
    def _no_reconnect_right_after_silence(*_: Any) -> None:
        seen_at = getattr(silence_seen, "at", None)
        silence_seen.at = None
        if seen_at is not None and time.monotonic() - seen_at < _RECONNECT_FOLLOWS_PING_SECONDS:
            # A driver error, so that SQLAlchemy raises the OperationalError pages already explain.
            raise dialect.loaded_dbapi.OperationalError("the database stopped answering a moment ago")


class DatabaseFileError(OSError):
    """The SQLite file or its folder cannot be created; the message is the one line an operator reads."""


def ensure_sqlite_file(url: URL | str) -> None:
    """The SQLite file, readable by its owner alone, and its folder (a fresh checkout has no var/ yet).

    It holds password hashes and the audit log. SQLite would create it under the umask (0644 for most)
    and its -wal and -shm files with the file's mode. A file that exists keeps its mode, unless it lies
    in the app's own var/ folder, where an older version left it readable by all.
    Raises DatabaseFileError naming the path that could not be created and why.
    """
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        created = _create_for_its_owner_alone(path)
    except OSError as error:
        raise DatabaseFileError(f"cannot create {error.filename or path}: {error.strerror}") from error
    if not created and path.resolve().parent == APP_DATA_FOLDER.resolve():
        for made in (path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
            with suppress(FileNotFoundError):
                if made.stat().st_mode & 0o077:
                    made.chmod(SQLITE_FILE_MODE)


def _create_for_its_owner_alone(path: Path) -> bool:
    """Create the empty file with mode 0600; False when it exists already."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE))
    except FileExistsError:
        return False
    return True


def _create_sqlite_engine(url: URL, settings: Settings) -> Engine:
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(
            url,
            echo=settings.db_echo,
            hide_parameters=True,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        ensure_sqlite_file(url)
        # Streamlit serves each session from its own thread and the job runner has its own;
        # SQLite's same-thread check would reject connections handed between them by the pool.
        engine = create_engine(
            url,
            echo=settings.db_echo,
            hide_parameters=True,
            poolclass=QueuePool,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            pool_pre_ping=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
    file_pragmas = [] if in_memory else ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"]
    _begin_sqlite_transactions_ourselves(engine, [*file_pragmas, "PRAGMA foreign_keys=ON"])
    return engine


def _create_sqlite_migration_engine(url: URL, *, echo: bool) -> Engine:
    """One connection whose revisions run inside a transaction, so a failure or a kill midway undoes them."""
    ensure_sqlite_file(url)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        poolclass=NullPool,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    # Set when the connection opens: inside a transaction SQLite ignores this pragma.
    _begin_sqlite_transactions_ourselves(engine, ["PRAGMA foreign_keys=OFF"])
    return engine


def _begin_sqlite_transactions_ourselves(engine: Engine, pragmas: list[str]) -> None:
    """SQLAlchemy's pysqlite recipe: every statement, DDL included, inside the BEGIN we send."""

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily on its own, which breaks SAVEPOINT and commits
        # before DDL, leaving it outside the transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in [*pragmas, f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}"]:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # A transaction that may write takes the write lock up front with IMMEDIATE (waiting up to
        # busy_timeout): a deferred BEGIN that reads and then writes fails at once with "database
        # is locked" when another writer got in between, e.g. two people registering at once.
        # A read-only one begins deferred: under WAL it reads its snapshot without waiting for
        # a writer, so pages do not queue behind a training job's progress writes.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


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
def session_scope(
    factory: sessionmaker[Session] | None = None, *, action: str = "", read_only: bool = False
) -> Iterator[Session]:
    """One transaction for one user action: commit on success, roll back on error.

    A refusal (common.errors.Refusal) is logged at INFO in one line; anything else once, at ERROR,
    with its traceback. Rows kept with keep_after_rollback are written after the rollback.
    A read_only scope (a page's data) does not wait for writers on SQLite and refuses to flush.
    """
    session = (factory or get_sessionmaker())()
    try:
        if read_only:
            session.connection(execution_options={READ_ONLY_OPTION: True})
            event.listen(session, "before_flush", _refuse_writes)
        yield session
        session.commit()
        session.info.pop(KEEP_AFTER_ROLLBACK, None)
    except Exception as error:
        session.rollback()
        during = f" during {action}" if action else ""
        if logged_by_scope(error):
            pass  # an inner scope has logged it: once is enough
        elif isinstance(error, Refusal):
            # An audited refusal already has its one line, the audit entry's.
            if not session.info.get(KEEP_AFTER_ROLLBACK):
                log.info("refused%s: %s", during, error)
        else:
            _log_failure(error, during)
        with suppress(AttributeError, TypeError):
            setattr(error, _LOGGED_MARK, True)
        _write_kept_rows(session)
        raise
    finally:
        session.close()


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only session scope cannot write; open a session_scope without read_only")


def keep_after_rollback(session: Session, row: Any) -> None:
    """Write this (already added) row again if the session's transaction is rolled back."""
    session.info.setdefault(KEEP_AFTER_ROLLBACK, []).append(row)


def _write_kept_rows(session: Session) -> None:
    rows = session.info.pop(KEEP_AFTER_ROLLBACK, [])
    if not rows:
        return
    try:
        session.add_all(rows)
        session.commit()
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("could not keep %s after a rollback: %s", plural(len(rows), "audit row"), one_line(error))


def _log_failure(error: BaseException, during: str) -> None:
    if database_unreachable(error):
        # An outage fails every request the same way: its stack would only fill error.log.
        log.error("database transaction rolled back%s: %s", during, one_line(getattr(error, "orig", None) or error))
    elif isinstance(error, DBAPIError):
        # The driver's message can quote the row (a unique violation's DETAIL names the value),
        # so only its first line and the stack go to the log.
        error_line = one_line(error.orig or error)
        log.error("database transaction rolled back%s: %s", during, error_line, exc_info=stack_only(error))
    else:
        log.exception("database transaction rolled back%s", during)


def database_error_message(error: BaseException) -> str:
    """The one message a user sees for a database failure: not answering, or refused to store."""
    if isinstance(error, OperationalError | PoolTimeoutError):
        return DATABASE_NOT_ANSWERING
    return DATABASE_REFUSED


def database_unreachable(error: BaseException) -> bool:
    """Whether the error says the database cannot be reached (a connection refused or lost, the pool
    exhausted), not that a statement failed: a missing table is an OperationalError on SQLite too,
    and a bug. A connection that could not be made has no statement; one lost mid-statement is
    invalidated."""
    if isinstance(error, PoolTimeoutError):
        return True
    return isinstance(error, OperationalError) and (error.statement is None or error.connection_invalidated)


@dataclass(frozen=True)
class Health:
    ok: bool
    latency_ms: float
    error: str | None = None


def connect_read_only(engine: Engine) -> Connection:
    """A connection whose transactions only read: on SQLite they do not wait for another's write."""
    return engine.connect().execution_options(**{READ_ONLY_OPTION: True})


def health_check(engine: Engine) -> Health:
    """Run SELECT 1 and time it; a failure becomes a message, never an exception."""
    started = time.perf_counter()
    try:
        with connect_read_only(engine) as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any driver failure means "unhealthy"
        return Health(False, (time.perf_counter() - started) * 1000, one_line(error))
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


# Connection parameters that are secrets wherever they stand: libpq takes the password from the query as readily as
# before the @, and sslpassword unlocks the client's TLS key. (sslkey, passfile and the like name files: not secret.)
SECRET_URL_PARAMETERS = frozenset({"password", "sslpassword"})
_MASK = "***"


def url_for_people(url: URL) -> str:
    """The database URL as status lines, check and error messages show it: every secret it holds as ***."""
    query = {name: _MASK if name.lower() in SECRET_URL_PARAMETERS else value for name, value in url.query.items()}
    rendered = url.set(query=query).render_as_string(hide_password=True)
    # render_as_string escapes the query's values; *** there reads as the password's *** does.
    return rendered.replace("=%2A%2A%2A", f"={_MASK}")


def one_line(error: BaseException) -> str:
    """The error's type and the first line of its message: what a log line may say of a driver's error."""
    first = str(error).strip().splitlines()
    return f"{type(error).__name__}: {first[0] if first else ''}".strip()


def logged_by_scope(error: BaseException) -> bool:
    """Whether a transaction's scope has logged this error with its stack already."""
    return getattr(error, _LOGGED_MARK, False)
