"""Yahoo for the whole app: one request per ticker and range at a time, within a request budget.

Two users (or two tabs) asking for MSFT at once get the answer of one request: the second asker
waits for the first's. Within a process a future is shared; across processes (the app and API
workers on one Redis) a Redis lock lets one fetch while the others wait for its answer, kept in
Redis briefly. Every request first takes one unit of a per-minute budget counted with `limits`
(in Redis when configured, else in memory), and a rate-limit answer from Yahoo pauses every
asker for a while.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from limits import RateLimitItem, parse
from redis.exceptions import LockError, RedisError

from common.config import get_settings
from common.logging import get_logger
from core.data.frames import Normalised
from core.data.yahoo import PriceSourceError
from core.throttle import Throttle, ThrottleUnavailableError, get_throttle

log = get_logger("data")

REQUEST_BUDGET = parse("60 per minute")
# Filled by a rate-limit answer: until it empties, no asker sends anything.
RATE_LIMIT_PAUSE = parse("1 per 15 seconds")
MAX_WAIT_SECONDS = 30.0
LOCK_SECONDS = 90
ANSWER_SECONDS = 30  # how long a fetched answer waits in Redis for the askers of the same request
KEY_PREFIX = "candlecast:fetch"


class BudgetSpentError(PriceSourceError):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"The app's budget of Yahoo requests ({REQUEST_BUDGET}) is used up: try again in {retry_after_seconds} s"
        )
        self.retry_after_seconds = retry_after_seconds


@dataclass
class RequestBudget:
    """Requests to Yahoo per minute across the app; waits for room up to max_wait_seconds, then refuses.

    Fails open when the store is unreachable: a missing counter must not stop a fetch.
    """

    throttle: Throttle
    limit: RateLimitItem = REQUEST_BUDGET
    sleep: Callable[[float], None] = time.sleep
    max_wait_seconds: float = MAX_WAIT_SECONDS

    def take(self) -> None:
        waited = 0.0
        while True:
            try:
                wait = self._wait_needed()
            except ThrottleUnavailableError as error:
                log.warning("Yahoo request budget not checked, store unreachable: %s", error)
                return
            if wait == 0:
                return
            if waited + wait > self.max_wait_seconds:
                raise BudgetSpentError(wait)
            self.sleep(wait)
            waited += wait

    def _wait_needed(self) -> int:
        if self.throttle.remaining(RATE_LIMIT_PAUSE, "yahoo", "pause") == 0:
            return self.throttle.retry_after(RATE_LIMIT_PAUSE, "yahoo", "pause")
        verdict = self.throttle.hit(self.limit, "yahoo", "requests")
        return 0 if verdict.allowed else verdict.retry_after_seconds

    def pause(self) -> None:
        """Yahoo answered "rate limited": every asker waits the pause out before the next request."""
        try:
            self.throttle.hit(RATE_LIMIT_PAUSE, "yahoo", "pause")
        except ThrottleUnavailableError as error:
            log.warning("Yahoo rate-limit pause not shared, store unreachable: %s", error)


def request_budget() -> RequestBudget:
    return RequestBudget(get_throttle())


@dataclass
class SharedFetches:
    """Requests in flight by key: a second asker for the same key waits for the first one's answer."""

    redis: object | None = None  # a redis.Redis shared by processes, or None: this process only
    _flights: dict[Hashable, Future[Normalised]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fetch(self, key: tuple[str, date, date, str], request: Callable[[], Normalised]) -> Normalised:
        with self._lock:
            flight = self._flights.get(key)
            leads = flight is None
            if flight is None:
                flight = self._flights[key] = Future()
        if not leads:
            return flight.result()
        try:
            answer = self._across_processes(key, request)
        except BaseException as error:
            flight.set_exception(error)
            raise
        else:
            flight.set_result(answer)
            return answer
        finally:
            with self._lock:
                del self._flights[key]

    def _across_processes(self, key: tuple[str, date, date, str], request: Callable[[], Normalised]) -> Normalised:
        if self.redis is None:
            return request()
        name = ":".join(str(part) for part in key)
        answer_key = f"{KEY_PREFIX}:answer:{name}"
        lock = self.redis.lock(f"{KEY_PREFIX}:lock:{name}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
        try:
            locked = lock.acquire()
            stored = self.redis.get(answer_key) if locked else None
        except RedisError as error:
            # Sharing fails open: an unreachable Redis costs a duplicate request, not the fetch.
            log.warning("fetch of %s not shared across processes, Redis unreachable: %s", key[0], error)
            return request()
        try:
            if stored is not None:
                return decode(stored)
            answer = request()
            with suppress(RedisError):
                self.redis.set(answer_key, encode(answer), ex=ANSWER_SECONDS)
            return answer
        finally:
            if locked:
                with suppress(RedisError, LockError):
                    lock.release()


def encode(answer: Normalised) -> bytes:
    """A fetched answer as JSON (never pickle: what comes out of Redis is data, not code)."""
    return json.dumps(
        {
            "frame": answer.frame.to_json(orient="split", index=False, date_format="iso"),
            "actions": answer.actions.to_json(orient="split", index=False, date_format="iso"),
            "dropped": [answer.dropped_empty_rows, answer.dropped_incomplete_rows, answer.dropped_unfinished_rows],
        }
    ).encode()


def decode(stored: bytes) -> Normalised:
    document = json.loads(stored)
    frames = []
    for name in ("frame", "actions"):
        table = json.loads(document[name])
        frame = pd.DataFrame(table["data"], columns=table["columns"])
        if "date" in frame.columns:
            frame["date"] = pd.to_datetime(frame["date"]).dt.date
        frames.append(frame)
    empty, incomplete, *unfinished = document["dropped"]  # answers stored before the third count have none
    unfinished = unfinished[0] if unfinished else 0
    return Normalised(frames[0], empty, incomplete, actions=frames[1], dropped_unfinished_rows=unfinished)


_shared: dict[str | None, SharedFetches] = {}
_shared_lock = threading.Lock()


def shared_fetches() -> SharedFetches:
    """The process's registry of requests in flight, on Redis when the app has one."""
    url = get_settings().redis_url
    with _shared_lock:
        if url not in _shared:
            from core.redis_client import get_redis

            _shared[url] = SharedFetches(get_redis() if url else None)
        return _shared[url]
