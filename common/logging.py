"""Logging: rotating app.log and error.log, a short console format, one logger per component."""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

ROOT_LOGGER_NAME = "candlecast"
COMPONENTS = ("api", "data", "model", "metrics", "auth", "jobs", "db")
MAX_LOG_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5

FILE_FORMAT = (
    "%(asctime)s %(levelname)-8s %(name)s [%(process)d:%(threadName)s] %(module)s.%(funcName)s:%(lineno)d %(message)s"
)
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "_candlecast_handler"


def get_logger(component: str) -> logging.Logger:
    """The logger of one component, e.g. get_logger("data") -> candlecast.data."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown log component {component!r}; known: {', '.join(COMPONENTS)}")
    return logging.getLogger(f"{ROOT_LOGGER_NAME}.{component}")


def configure_logging(log_dir: Path, level: str = "INFO", console: bool = True) -> None:
    """Attach the file and console handlers to the app's root logger; calling it again replaces them."""
    root = logging.getLogger(ROOT_LOGGER_NAME)
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
        handler.close()

    log_dir.mkdir(parents=True, exist_ok=True)
    detailed = logging.Formatter(FILE_FORMAT)
    handlers: list[logging.Handler] = []

    app_log = RotatingFileHandler(
        log_dir / "app.log", maxBytes=MAX_LOG_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    app_log.setFormatter(detailed)
    handlers.append(app_log)

    error_log = RotatingFileHandler(
        log_dir / "error.log", maxBytes=MAX_LOG_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    error_log.setLevel(logging.ERROR)
    error_log.setFormatter(detailed)
    handlers.append(error_log)

    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter(CONSOLE_FORMAT))
        handlers.append(stream)

    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    # The app's records go to its own files only, not twice through the root logger.
    root.propagate = False
