"""Counting the statements a call sends, including reads that go through COPY on the raw cursor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def recorded_statements(engine: Engine, monkeypatch: pytest.MonkeyPatch, *modules: object) -> Iterator[list[str]]:
    """The SQL of every statement sent while the block runs; COPY reads of the given modules count too."""
    statements: list[str] = []

    def record(connection, cursor, statement, *args):
        statements.append(statement)

    for module in modules:
        read_csv = module.read_query_csv

        def copied(session, query, names, read_csv=read_csv):
            # PostgreSQL reads through COPY on the raw cursor, which the engine event does not see.
            statements.append(str(query))
            return read_csv(session, query, names)

        monkeypatch.setattr(module, "read_query_csv", copied)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
