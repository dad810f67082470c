"""Logging: rotating app.log and error.log, a short console format, one logger per component.

Every record's message is written on one line: its control characters are escaped, so no value a
user typed (a file name, a key's name, a URL's path) can start a line that reads as a record of its own.
A traceback keeps its lines, but the messages of the errors in it are escaped the same way.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from contextlib import suppress
from io import TextIOWrapper
from pathlib import Path
from types import TracebackType

from concurrent_log_handler import ConcurrentRotatingFileHandler

from common.config import ConfigError

ROOT_LOGGER_NAME = "candlecast"
COMPONENTS = ("api", "data", "model", "metrics", "auth", "jobs", "db")
MAX_LOG_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
# The logs name users and addresses: owner and group only.
LOG_FILE_MODE = 0o640

FILE_FORMAT = (
    "%(asctime)s %(levelname)-8s %(name)s [%(process)d:%(threadName)s] %(module)s.%(funcName)s:%(lineno)d %(message)s"
)
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"
_HANDLER_MARK = "_candlecast_handler"

# C0 and C1 controls, DEL, and the two Unicode separators some viewers break lines at.
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = str.maketrans(
    {code: _SHORT_ESCAPES.get(chr(code)) or chr(code).encode("unicode_escape").decode("ascii") for code in _CONTROLS}
)
_REMOVED = str.maketrans(dict.fromkeys(_CONTROLS))
# A traceback keeps its line breaks; its other controls (a carriage return, a terminal escape) go.
_ESCAPED_BUT_LINE_BREAKS = str.maketrans({code: _ESCAPED[code] for code in _CONTROLS if code != ord("\n")})


def escape_controls(text: str) -> str:
    """The text on one line: each control character written as its escape (a line break as \\n)."""
    return text.translate(_ESCAPED)


def without_controls(text: str) -> str:
    """The text with its control characters (line breaks, tabs, terminal escapes) left out."""
    return text.translate(_REMOVED)


class FirstLineOnly(Exception):  # noqa: N818 - names what it holds, not a failure of its own
    """Stands in for an error whose message may quote data: its stack, and its message's first line."""


def stack_only(error: BaseException) -> tuple[type[BaseException], BaseException, TracebackType | None]:
    """exc_info for a log call: the error's traceback without the rest of its message or its chained errors.

    For errors whose message may quote data (a driver's DETAIL names the row's values).
    """
    first = str(error).strip().splitlines()
    stand_in = FirstLineOnly(f"{type(error).__name__}: {first[0] if first else ''}")
    return FirstLineOnly, stand_in, error.__traceback__


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the record's line; a traceback below it keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return escape_controls(super().formatMessage(record))

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]) -> str:  # noqa: N802
        text = super().formatException(ei)
        # An error's message and notes may quote data; the frames above them are ours.
        for block in _message_blocks(ei[1]):
            text = text.replace(block, escape_controls(block))
        return text.translate(_ESCAPED_BUT_LINE_BREAKS)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return super().formatStack(stack_info).translate(_ESCAPED_BUT_LINE_BREAKS)


def _message_blocks(error: BaseException | None) -> list[str]:
    """The "Type: message" text, notes included, of the error and each error it chains to, as a traceback
    prints it, for those that run over more than one line."""
    blocks, pending, seen = [], [error], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        block = "".join(traceback.format_exception_only(current)).removesuffix("\n")
        if "\n" in block:
            blocks.append(block)
        pending += [current.__cause__, current.__context__, *getattr(current, "exceptions", ())]
    return blocks


def get_logger(component: str) -> logging.Logger:
    """The logger of one component, e.g. get_logger("data") -> candlecast.data."""
    if component not in COMPONENTS:
        raise ValueError(f"unknown log component {component!r}; known: {', '.join(COMPONENTS)}")
    return logging.getLogger(f"{ROOT_LOGGER_NAME}.{component}")


class SharedRotatingFileHandler(ConcurrentRotatingFileHandler):
    """A rotating log that several processes write at once (app, job processes, API, workers, CLI).

    Each write and each rotation holds a lock file beside the log, and a process that finds the log
    rotated by another reopens it; the standard RotatingFileHandler loses lines in both cases.
    A log file it creates is LOG_FILE_MODE; one that exists keeps the mode its owner gave it.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(str(path), maxBytes=MAX_LOG_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
        # At once, as the standard handler does: an unwritable LOG_DIR stops start-up, not the first record.
        self._create_with_mode()

    def do_open(self, mode: str | None = None) -> TextIOWrapper:
        self._create_with_mode()
        return super().do_open(mode)

    def _create_with_mode(self) -> None:
        # Created with its mode, never world-readable for a moment under the process's umask; the
        # library would make its (empty) lock file 0777 less the umask.
        for path in (self.baseFilename, self.lockFilename):
            with suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, LOG_FILE_MODE))


def configure_logging(log_dir: Path, level: str = "INFO", console: bool = True) -> None:
    """Attach the file and console handlers to the app's root logger; calling it again replaces them."""
    root = logging.getLogger(ROOT_LOGGER_NAME)
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
        handler.close()

    detailed = OneLineFormatter(FILE_FORMAT)
    handlers: list[logging.Handler] = []
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        app_log = SharedRotatingFileHandler(log_dir / "app.log")
        handlers.append(app_log)
        error_log = SharedRotatingFileHandler(log_dir / "error.log")
        handlers.append(error_log)
    except OSError as error:
        for handler in handlers:
            handler.close()
        # A setting the operator got wrong, said in one line by every entry point, as a bad value is.
        raise ConfigError(f"LOG_DIR: cannot create or write {log_dir}: {error.strerror or error}") from error
    app_log.setFormatter(detailed)
    error_log.setLevel(logging.ERROR)
    error_log.setFormatter(detailed)

    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(OneLineFormatter(CONSOLE_FORMAT))
        handlers.append(stream)

    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    # The app's records go to its own files only, not twice through the root logger.
    root.propagate = False
