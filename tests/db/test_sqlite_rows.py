"""Bulk rows through SQLite's driver fail as every other statement does: a SQLAlchemy error, no parameters."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from db.sqlite_rows import execute_many


@pytest.fixture
def sqlite_session(tmp_path):
    engine = create_engine(URL.create("sqlite", database=str(tmp_path / "rows.db")))
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_missing_table_is_sqlalchemys_operational_error(sqlite_session):
    # What the CLI and the pages turn into "no schema yet: run `python -m db setup`".
    with pytest.raises(OperationalError, match="no such table: historical_data"):
        execute_many(sqlite_session, "INSERT INTO historical_data (ticker) VALUES (?)", [("SPX",)])


def test_a_refused_row_names_no_value(sqlite_session):
    sqlite_session.execute(text("CREATE TABLE t (email TEXT UNIQUE)"))
    with pytest.raises(IntegrityError) as raised:
        execute_many(sqlite_session, "INSERT INTO t (email) VALUES (?)", [("ann@example.com",), ("ann@example.com",)])
    assert "ann@example.com" not in str(raised.value)
