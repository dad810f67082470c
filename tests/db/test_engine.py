"""Engine, sessions, health and pool figures on SQLite and PostgreSQL."""

import logging
import os
import stat
import time

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from db.engine import create_engine_from_settings, health_check, pool_status, session_scope
from db.migrate import upgrade_to_head
from db.models import User
from tests.servers import postgres_server_url


def _user(name: str) -> User:
    return User(username=name, email=f"{name}@example.com", password_hash="x")


def test_health_check_passes(engine):
    health = health_check(engine)
    assert health.ok, health.error
    assert health.latency_ms >= 0


def test_health_check_reports_an_unreachable_server_without_raising():
    engine = create_engine_from_settings(load_settings(), "postgresql+psycopg2://postgres@127.0.0.1:1/none")
    health = health_check(engine)
    assert not health.ok
    assert "OperationalError" in health.error


@pytest.mark.postgres
def test_pool_settings_are_applied_and_reported(monkeypatch, postgres_database_url):
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "2")
    engine = create_engine_from_settings(load_settings(), postgres_database_url)
    try:
        assert engine.pool._pre_ping
        held = [engine.connect() for _ in range(4)]
        status = pool_status(engine)
        assert (status.size, status.checked_out, status.overflow) == (3, 4, 1)
        for connection in held:
            connection.close()
        assert pool_status(engine).checked_out == 0
    finally:
        engine.dispose()


def test_sqlite_gets_wal_foreign_keys_and_a_busy_timeout(sqlite_database_url):
    engine = create_engine_from_settings(load_settings(), sqlite_database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_session_scope_commits(engine):
    factory = sessionmaker(bind=engine)
    with session_scope(factory) as session:
        session.add(_user("committed_user"))
    with session_scope(factory) as session:
        found = session.scalar(select(User).where(User.username == "committed_user"))
        assert found is not None
        session.delete(found)


def test_session_scope_rolls_back_and_logs_with_context(engine, caplog):
    factory = sessionmaker(bind=engine)

    def fail_half_way() -> None:
        with session_scope(factory, action="upload of prices.csv") as session:
            session.add(_user("rolled_back_user"))
            session.flush()
            raise RuntimeError("validation failed half-way")

    with caplog.at_level(logging.ERROR, logger="candlecast.db"), pytest.raises(RuntimeError):
        fail_half_way()
    with session_scope(factory) as session:
        count = session.scalar(select(func.count()).select_from(User).where(User.username == "rolled_back_user"))
    assert count == 0
    assert "rolled back during upload of prices.csv" in caplog.text


@pytest.mark.postgres
def test_pre_ping_recovers_from_a_dropped_connection(postgres_database_url):
    engine = create_engine_from_settings(load_settings(), postgres_database_url)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine_from_settings(load_settings(), postgres_server_url())
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        assert health_check(engine).ok
    finally:
        engine.dispose()


def _hold_the_write_lock(engine):
    """A second connection in the middle of a write, as a training job recording its progress."""
    writer = engine.connect()
    writer.begin()
    writer.execute(User.__table__.insert().values(username="writer", email="writer@example.com", password_hash="x"))
    return writer


def test_a_read_does_not_wait_for_another_connections_write(tmp_path):
    """Pages read while a job writes: a read-only scope must not queue behind the write lock."""
    import threading

    from sqlalchemy.engine import URL

    from db.migrate import upgrade_to_head

    url = URL.create("sqlite", database=str(tmp_path / "busy.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    factory = sessionmaker(bind=engine)
    writer = _hold_the_write_lock(engine)
    counted: list[int] = []

    def read() -> None:
        with session_scope(factory, action="read users", read_only=True) as session:
            counted.append(session.scalar(select(func.count()).select_from(User)))

    reader = threading.Thread(target=read, daemon=True)
    try:
        reader.start()
        reader.join(timeout=5)
        assert counted == [0], "the read finished at once and did not see the uncommitted row"
    finally:
        writer.rollback()
        writer.close()
        reader.join(timeout=35)
        engine.dispose()


def test_a_read_only_scope_refuses_to_write(tmp_path, sqlite_database_url):
    engine = create_engine_from_settings(load_settings(), sqlite_database_url)
    factory = sessionmaker(bind=engine)
    with pytest.raises(RuntimeError, match="read-only"), session_scope(factory, read_only=True) as session:
        session.add(_user("sneaky"))
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == "sneaky")) == 0
    engine.dispose()


def test_writes_still_take_the_lock_up_front(tmp_path):
    """Two writers queue (busy timeout) rather than one failing with "database is locked" midway."""
    import threading

    from sqlalchemy.engine import URL

    from db.migrate import upgrade_to_head

    url = URL.create("sqlite", database=str(tmp_path / "writers.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    factory = sessionmaker(bind=engine)
    writer = _hold_the_write_lock(engine)
    done: list[str] = []

    def write() -> None:
        with session_scope(factory) as session:
            session.scalar(select(func.count()).select_from(User))
            session.add(_user("second"))
        done.append("second")

    second = threading.Thread(target=write, daemon=True)
    second.start()
    second.join(timeout=1)
    assert done == [], "the second writer waits for the first"
    writer.commit()
    writer.close()
    second.join(timeout=10)
    assert done == ["second"]
    engine.dispose()


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_the_sqlite_file_the_app_creates_is_its_owners_alone(tmp_path, umask_022):
    path = tmp_path / "fresh" / "candlecast.db"
    engine = create_engine_from_settings(load_settings(), URL.create("sqlite", database=str(path)))
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
        assert all(companion.exists() for companion in companions)
        for made in [path, *companions]:
            assert _mode(made) == 0o600, made.name
    finally:
        engine.dispose()


def test_the_sqlite_file_db_setup_creates_is_its_owners_alone(tmp_path, umask_022):
    path = tmp_path / "var" / "candlecast.db"
    upgrade_to_head(URL.create("sqlite", database=str(path)))
    assert _mode(path) == 0o600


def test_a_sqlite_file_someone_made_elsewhere_keeps_its_mode(tmp_path):
    path = tmp_path / "theirs.db"
    path.touch()
    path.chmod(0o644)
    engine = create_engine_from_settings(load_settings(), URL.create("sqlite", database=str(path)))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert _mode(path) == 0o644


def test_a_sqlite_file_left_readable_in_the_apps_own_folder_is_closed(tmp_path, monkeypatch):
    import db.engine

    own = tmp_path / "var"
    monkeypatch.setattr(db.engine, "APP_DATA_FOLDER", own)
    own.mkdir()
    path = own / "candlecast.db"
    for made in (path, path.with_name("candlecast.db-wal")):
        made.touch()
        made.chmod(0o644)
    engine = create_engine_from_settings(load_settings(), URL.create("sqlite", database=str(path)))
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            assert _mode(path) == 0o600
            assert _mode(path.with_name("candlecast.db-wal")) == 0o600
    finally:
        engine.dispose()


def test_a_refused_write_logs_its_stack_on_lines_below_one_escaped_line(tmp_path, engine):
    from common.logging import ROOT_LOGGER_NAME, configure_logging

    configure_logging(tmp_path, "INFO", console=False)
    factory = sessionmaker(bind=engine)
    with session_scope(factory) as session:
        session.add(_user("stack_user"))
    forged = "prices.csv\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED"

    def add_again() -> None:
        with session_scope(factory, action=f"upload of {forged}") as session:
            session.add(_user("stack_user"))

    with pytest.raises(IntegrityError):
        add_again()
    with session_scope(factory) as session:
        session.delete(session.scalar(select(User).where(User.username == "stack_user")))
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    lines = (tmp_path / "error.log").read_text(encoding="utf-8").splitlines()
    assert "upload of prices.csv\\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED: " in lines[0]
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[2].startswith('  File "')
    assert lines[-1].startswith("common.logging.FirstLineOnly: IntegrityError: ")
    assert not any(line.startswith("2026-12-07 07:30:00,000") for line in lines)
    assert "stack_user@example.com" not in "\n".join(lines), "the driver's message names the row's values"


def test_health_and_revision_do_not_wait_for_a_writer_on_sqlite(tmp_path):
    """`python -m core check` and Home's status waited out the busy timeout behind any writer, then said FAILED."""
    import threading

    from db.migrate import current_revision, head_revision

    url = URL.create("sqlite", database=str(tmp_path / "checked.db"))
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(), url)
    writer = _hold_the_write_lock(engine)
    seen: list[object] = []

    def check() -> None:
        started = time.perf_counter()
        seen.extend([health_check(engine), current_revision(engine), time.perf_counter() - started])

    checker = threading.Thread(target=check, daemon=True)
    try:
        checker.start()
        checker.join(timeout=5)
        assert seen, "the check was still waiting for the writer after 5 s"
        health, revision, took = seen
        assert health.ok, health.error
        assert revision == head_revision()
        assert took < 1
    finally:
        writer.rollback()
        writer.close()
        checker.join(timeout=35)
        engine.dispose()


def test_sqlite_takes_the_pool_settings(tmp_path, monkeypatch):
    """README and .env.example promise the same pool figures on SQLite; its engine ignored them."""
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    monkeypatch.setenv("DB_POOL_SIZE", "2")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "1")
    monkeypatch.setenv("DB_POOL_TIMEOUT", "0.2")
    monkeypatch.setenv("DB_POOL_RECYCLE", "120")
    settings = load_settings()
    engine = create_engine_from_settings(settings, URL.create("sqlite", database=str(tmp_path / "pooled.db")))
    held = [engine.connect() for _ in range(3)]
    try:
        status = pool_status(engine)
        assert (status.size, status.checked_out, status.overflow) == (settings.db_pool_size, 3, 1)
        assert engine.pool._recycle == 120
        started = time.perf_counter()
        with pytest.raises(PoolTimeoutError):
            engine.connect()
        assert time.perf_counter() - started < 5
    finally:
        for connection in held:
            connection.close()
        engine.dispose()
