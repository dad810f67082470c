"""What every run of the app does first: read the settings, or stop with the message; set up logging."""

from __future__ import annotations

import streamlit as st

from common.config import ConfigError, Settings, get_settings
from common.logging import configure_logging


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
