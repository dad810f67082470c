"""The app's Streamlit settings that the pages' speed and limits depend on."""

import tomllib

import streamlit.config

from common.config import PROJECT_ROOT


def test_script_runs_do_not_force_a_full_garbage_collection():
    settings = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    # A misspelt option would be ignored without a word: it must be one Streamlit knows.
    assert "runner.postScriptGC" in streamlit.config.get_config_options()
    assert settings["runner"]["postScriptGC"] is False


def test_the_page_uploader_takes_every_file_the_parser_reads():
    from core.data.table import MAX_BYTES

    settings = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    # Lower, and a file the README and the API accept is refused by Streamlit's own words first.
    assert settings["server"]["maxUploadSize"] * 1024 * 1024 == MAX_BYTES
