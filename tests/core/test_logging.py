"""Logging: two rotating files, component loggers, no double handlers."""

import logging
from logging.handlers import RotatingFileHandler

import pytest

from common.logging import BACKUP_COUNT, MAX_LOG_BYTES, ROOT_LOGGER_NAME, configure_logging, get_logger


def test_info_goes_to_app_log_and_errors_to_both(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("data").info("fetched 20 rows of MSFT")
    get_logger("jobs").error("job 7 failed")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    app_log = (tmp_path / "app.log").read_text()
    error_log = (tmp_path / "error.log").read_text()
    assert "candlecast.data" in app_log
    assert "fetched 20 rows of MSFT" in app_log
    assert "job 7 failed" in app_log
    assert "job 7 failed" in error_log
    assert "MSFT" not in error_log


def test_debug_is_dropped_at_info_level(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("model").debug("tensor shapes")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    assert "tensor shapes" not in (tmp_path / "app.log").read_text()


def test_files_rotate_at_ten_megabytes_with_five_backups(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    handlers = [h for h in logging.getLogger(ROOT_LOGGER_NAME).handlers if isinstance(h, RotatingFileHandler)]
    assert len(handlers) == 2
    assert {(h.maxBytes, h.backupCount) for h in handlers} == {(MAX_LOG_BYTES, BACKUP_COUNT)}
    assert MAX_LOG_BYTES == 10 * 1024 * 1024


def test_configuring_twice_does_not_duplicate_lines(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("auth").warning("once")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    assert (tmp_path / "app.log").read_text().count("once") == 1


def test_unknown_component_is_refused():
    with pytest.raises(ValueError, match="unknown log component 'billing'"):
        get_logger("billing")
