"""Notice a PostgreSQL that accepts connections but never answers, and free the statements waiting on it.

libpq has no read timeout: a server (or a path to it) that keeps the TCP connection open but sends
nothing leaves a statement waiting forever, and with it a pool connection and a page. Server-side
timeouts cannot help when the server never sees the statement, and TCP keepalives and
`tcp_user_timeout` are answered by whatever host still holds the socket open. So a statement that
has waited longer than the answer timeout triggers a probe: a fresh connection with the connect
timeout. If the server answers the probe, the statement is merely slow and goes on; if not, the
sockets of every overdue statement are shut down, which ends them with "server closed the
connection unexpectedly", a disconnect that makes the pool drop those connections. Once the server
answers again, new connections work: nothing needs a restart. The watch remembers which statements it
ended for silence until they stop, so the engine can tell a silent server from an ordinary disconnect.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from common.logging import get_logger
from common.words import plural

log = get_logger("db")
TICK_SECONDS = 0.25


class AnswerWatch:
    """Deadlines of the statements in flight, checked by one daemon thread."""

    def __init__(self, *, answer_timeout: float, server_answers: Callable[[], bool]) -> None:
        self.answer_timeout = answer_timeout
        self._server_answers = server_answers
        self._waiting: dict[int, tuple[float, int]] = {}
        self._ended_for_silence: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, dbapi_connection: Any) -> int:
        key = id(dbapi_connection)
        with self._lock:
            self._ended_for_silence.discard(key)
        try:
            descriptor = dbapi_connection.fileno()
        except Exception:  # noqa: BLE001 - a closed connection has no socket to watch
            return key
        with self._lock:
            self._waiting[key] = (time.monotonic() + self.answer_timeout, descriptor)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="candlecast-db-answer-watch", daemon=True)
                self._thread.start()
        return key

    def stop(self, key: int) -> bool:
        """Stop watching; True if the watch had ended this statement because the server was silent."""
        with self._lock:
            self._waiting.pop(key, None)
            if key in self._ended_for_silence:
                self._ended_for_silence.remove(key)
                return True
            return False

    def _run(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            with self._lock:
                if not self._waiting:
                    # Idle: the next statement starts a new thread.
                    self._thread = None
                    return
                now = time.monotonic()
                overdue = {key: fd for key, (deadline, fd) in self._waiting.items() if deadline <= now}
            if not overdue:
                continue
            if self._server_answers():
                # Slow, not gone: look again after another timeout.
                with self._lock:
                    for key in overdue:
                        if key in self._waiting:
                            self._waiting[key] = (now + self.answer_timeout, self._waiting[key][1])
                continue
            log.warning("the database is not answering: ending %s", plural(len(overdue), "waiting statement"))
            # Under the lock: a statement still registered is still in flight, so its socket is
            # still its own (a finished one could have closed it and the number been reused).
            with self._lock:
                for key, descriptor in overdue.items():
                    if self._waiting.get(key, (0.0, None))[1] == descriptor:
                        del self._waiting[key]
                        self._ended_for_silence.add(key)
                        _shut_down(descriptor)


def _shut_down(descriptor: int) -> None:
    """Shut the socket down under libpq's feet: its wait returns at once with end-of-file."""
    with suppress(OSError):
        duplicate = socket.socket(fileno=os.dup(descriptor))
        try:
            duplicate.shutdown(socket.SHUT_RDWR)
        finally:
            duplicate.close()
