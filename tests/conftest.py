"""Shared fixtures: a clean process state per test, migrated SQLite and PostgreSQL databases, Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from common.config import Settings, get_settings, load_settings
from db.engine import create_engine_from_settings, reset_engine
from db.migrate import upgrade_to_head
from tests.process_state import reset_process_state
from tests.servers import (
    fresh_postgres_database,
    redis_problem,
    redis_server_url,
    unavailable,
)

# A developer's .env must not change what the tests see; each test sets what it needs.
Settings.model_config["env_file"] = None

SETTING_VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    for variable in SETTING_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    scratch = tmp_path_factory.mktemp("app")
    monkeypatch.setenv("LOG_DIR", str(scratch / "logs"))
    monkeypatch.setenv("SQLITE_PATH", str(scratch / "candlecast.db"))
    reset_process_state()
    yield
    reset_process_state()


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    url = URL.create("sqlite", database=str(tmp_path_factory.mktemp("sqlite") / "test.db"))
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[URL]:
    with fresh_postgres_database(migrated=True) as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> URL:
    """A migrated database on each backend in turn."""
    return request.getfixturevalue(f"{request.param}_database_url")


@pytest.fixture(scope="session")
def engine(database_url: URL) -> Iterator[Engine]:
    engine = create_engine_from_settings(load_settings(), database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back: nothing a test writes survives it."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            if transaction.is_active:
                transaction.rollback()


@pytest.fixture
def redis_url() -> str:
    problem = redis_problem()
    if problem:
        unavailable(problem)
    return redis_server_url()


@pytest.fixture(scope="session")
def committing_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> URL:
    """The SQLite database of committing tests (committing_database_url), for those on SQLite only."""
    url = URL.create("sqlite", database=str(tmp_path_factory.mktemp("committing") / "committing.db"))
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def committing_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    """A migrated database on each backend for tests whose code commits (services, the API, pages).

    They must not share the database whose rows the rolled-back `session` tests count.
    """
    if request.param == "sqlite":
        yield request.getfixturevalue("committing_sqlite_url")
        return
    with fresh_postgres_database(migrated=True) as url:
        yield url


@pytest.fixture
def committing_database(committing_database_url: URL, monkeypatch: pytest.MonkeyPatch) -> URL:
    """Point this process's settings (and so its engine) at the committing tests' database."""
    monkeypatch.setenv("DATABASE_URL", committing_database_url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    reset_engine()
    return committing_database_url


@pytest.fixture
def queued_jobs(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Redis for limits and an RQ queue of this test's own that no worker serves: jobs stay queued."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    queue = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TRAINING_QUEUE", queue)
    get_settings.cache_clear()
    return queue
