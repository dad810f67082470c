"""INSERT ... ON CONFLICT for the session's database: PostgreSQL's and SQLite's take the same clauses."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def upsert_insert(session: Session, table: Any):
    """An INSERT into table that takes on_conflict_do_update / on_conflict_do_nothing on either backend."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table)
