"""Alembic environment: the URL comes from the app's settings, or from the caller (db/migrate.py)."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context

import db.models  # noqa: F401 - registers every table on the metadata
from common.config import load_settings
from db.base import Base
from db.engine import create_engine_from_settings
from db.types import UTCDateTime

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> Any:
    return config.attributes.get("url") or load_settings().sqlalchemy_url


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our timestamp type as the plain column type it stores, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
        # Alembic takes SQLite's DDL for non-transactional (pysqlite's own transaction handling commits
        # before it), so a failure or a kill midway would leave half a revision. The migration engine sends
        # BEGIN itself (db.engine), which makes an upgrade one transaction on SQLite as on PostgreSQL.
        transactional_ddl=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # The app's construction: a connect timeout, the watch on a server that stops answering, and
    # SQL parameters hidden from errors and logs.
    # Read afresh, not get_settings(): a migration run inside a process (tests, the app's first start) must not
    # fix that process's settings before its own environment is complete.
    engine = create_engine_from_settings(load_settings(), _database_url(), for_migrations=True)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
