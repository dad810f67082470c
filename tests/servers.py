"""The real servers the tests use: where they are, whether they answer, fresh databases on them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DEFAULT_TEST_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """In CI a missing server fails the run; on a laptop its tests skip with the reason."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true requires it)", pytrace=False)
    pytest.skip(reason)


def postgres_server_url() -> URL:
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg2")
    return url


def redis_server_url() -> str:
    return os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)


def postgres_problem() -> str | None:
    """Why the test PostgreSQL cannot be used, or None."""
    url = postgres_server_url()
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        return f"PostgreSQL at {url.render_as_string()} unreachable: {str(error).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def redis_problem() -> str | None:
    url = redis_server_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis at {url} unreachable: {error}"
    finally:
        client.close()
    return None


@contextmanager
def fresh_postgres_database(*, migrated: bool = False) -> Iterator[URL]:
    """A new database on the test server (empty, or at the newest migration), dropped afterwards; isolates
    concurrent test runs. Without a server the test is skipped, or fails in CI."""
    problem = postgres_problem()
    if problem:
        unavailable(problem)
    server = postgres_server_url()
    name = f"candlecast_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = server.set(database=name)
        if migrated:
            from db.migrate import upgrade_to_head

            upgrade_to_head(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def fresh_postgres_sessions() -> Iterator[sessionmaker[Session]]:
    """Sessions of a new, migrated database on the test server, through the app's own engine (its pool,
    timeouts and hooks), for tests of writers racing each other; dropped afterwards."""
    from common.config import load_settings
    from db.engine import create_engine_from_settings

    with fresh_postgres_database(migrated=True) as url:
        engine = create_engine_from_settings(load_settings(), url)
        try:
            yield sessionmaker(bind=engine, expire_on_commit=False)
        finally:
            engine.dispose()
