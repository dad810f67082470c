"""What every run of the app does first: read the settings, or stop with the message; set up logging."""

from __future__ import annotations

import streamlit as st

from common.config import ConfigError, Settings, get_settings
from common.logging import configure_logging
from ui.text import plain


@st.cache_resource(show_spinner=False)
def _configure_logging_once(log_dir: str, level: str) -> None:
    from pathlib import Path

    configure_logging(Path(log_dir), level)


def settings_or_stop() -> Settings:
    """The validated settings; on a bad setting, the page shows which one and runs no further."""
    try:
        settings = get_settings()
    except ConfigError as error:
        st.error(str(error), icon=":material/error:")
        st.caption("Fix the variable in the environment or in `.env` (see `.env.example`), then restart.")
        st.stop()
    _configure_logging_once(str(settings.log_path), settings.log_level)
    return settings


class _SchemaProblemError(Exception):
    pass


class _NotAnsweringError(Exception):
    pass


@st.cache_resource(show_spinner=False)
def _schema_ready(database: str) -> None:
    """Raises while the database has no schema or an old one, or does not answer; only a success is kept (per
    database), so later runs skip the check and any other answer is asked again on the next run."""
    from core.status import database_status

    status = database_status()
    if not status.health.ok:
        raise _NotAnsweringError  # not kept: the schema is checked once the database answers again
    if status.problem:
        raise _SchemaProblemError(status.problem)


def database_or_stop(settings: Settings) -> None:
    """On a database without the app's schema, the page says what to run and goes no further:
    a login form there could only fail with a message about the database not answering."""
    try:
        _schema_ready(settings.sqlalchemy_url.render_as_string(hide_password=True))
    except _NotAnsweringError:
        # Left to the pages, which say "not answering" in their own words and recover when it ends; the
        # driver's message would tell a visitor about the servers.
        return
    except _SchemaProblemError as problem:
        st.error(plain(str(problem)), icon=":material/error:")
        st.stop()
