"""Migrations: upgrade to head, no drift between models and schema, downgrade to base, on both backends."""

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from db.base import Base
from db.migrate import current_revision, downgrade_to_base, head_revision, schema_drift, upgrade_to_head
from tests.servers import fresh_postgres_database, postgres_problem, unavailable


def _round_trip(url: URL) -> None:
    engine = create_engine(url, poolclass=NullPool)
    assert current_revision(engine) is None

    upgrade_to_head(url)
    assert current_revision(engine) == head_revision()
    assert schema_drift(url) is None
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "idx_historical_data_ticker_date" in {i["name"] for i in inspect(engine).get_indexes("historical_data")}
    assert {"idx_predictions_user_ticker", "idx_predictions_date"} <= {
        i["name"] for i in inspect(engine).get_indexes("predictions")
    }

    downgrade_to_base(url)
    assert current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_sqlite_round_trip(tmp_path):
    _round_trip(URL.create("sqlite", database=str(tmp_path / "migrations.db")))


@pytest.mark.postgres
def test_postgres_round_trip():
    problem = postgres_problem()
    if problem:
        unavailable(problem)
    with fresh_postgres_database() as url:
        _round_trip(url)


def test_drift_is_detected(tmp_path, monkeypatch):
    url = URL.create("sqlite", database=str(tmp_path / "drift.db"))
    upgrade_to_head(url)
    from sqlalchemy import Column, Integer, Table

    extra = Table("unmigrated_table", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        assert "unmigrated_table" in (schema_drift(url) or "")
    finally:
        Base.metadata.remove(extra)


def test_upgrade_creates_the_folder_of_a_new_sqlite_file(tmp_path):
    # A fresh clone has no var/: the first `make run` must create it rather than fail to open the file.
    database = tmp_path / "not" / "yet" / "there.db"
    upgrade_to_head(URL.create("sqlite", database=str(database)))
    assert current_revision(create_engine(URL.create("sqlite", database=str(database)), poolclass=NullPool)) == (
        head_revision()
    )
