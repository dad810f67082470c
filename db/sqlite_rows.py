"""Bulk rows for SQLite as plain tuples through the driver, in the text forms SQLAlchemy itself stores.

SQLAlchemy's per-row parameter processing cost more than SQLite's own work on large uploads (about
half of a 200,000-row upload); the driver takes tuples of plain values directly. The forms below are
the ones SQLAlchemy writes for these column types, so rows written either way read back alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.pg_copy import uuid7_bytes


def uuid_texts(count: int) -> list[str]:
    """count new ids as SQLite keeps a UUID, 32 hex digits: UUIDv7, in increasing order, so the primary
    key's index grows at its right edge instead of taking each row at a random place."""
    digits = uuid7_bytes(count).tobytes().hex()
    return [digits[32 * position : 32 * (position + 1)] for position in range(count)]


def uuid_text(value: uuid.UUID | None) -> str | None:
    return value.hex if value is not None else None


def timestamp_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def date_texts(days: pd.Series) -> list[str]:
    return pd.to_datetime(days).dt.strftime("%Y-%m-%d").tolist()


def execute_many(session: Session, statement: str, rows: Sequence[tuple]) -> int:
    """Run statement (qmark parameters) once per row on the session's connection; returns the rows changed.

    A driver error is raised as SQLAlchemy raises it for any other statement (an OperationalError for a
    missing table, which callers turn into "run `python -m db setup`"), its parameters hidden.
    """
    driver = session.get_bind().dialect.loaded_dbapi
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        before = cursor.connection.total_changes
        cursor.executemany(statement, rows)
        return cursor.connection.total_changes - before
    except driver.Error as error:
        raise DBAPIError.instance(statement, None, error, driver.Error, hide_parameters=True) from error
    finally:
        cursor.close()
