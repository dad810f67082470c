"""Rate limits on moving windows with the `limits` library: in Redis when configured, else in memory."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from common.config import get_settings
from core.redis_client import COOL_DOWN_SECONDS, get_redis, note_redis_failure, redis_cooling_down

LOGIN_FAILURES_PER_ACCOUNT = parse("5 per 15 minutes")
LOGIN_ATTEMPTS_PER_ADDRESS = parse("20 per minute")
REGISTRATIONS_PER_ADDRESS = parse("10 per hour")
KEY_PREFIX = "candlecast:limits"
STORE_ERRORS = (StorageError, ConnectionError, OSError)
T = TypeVar("T")


class ThrottleUnavailableError(RuntimeError):
    """The shared limit store (Redis) cannot be reached, so no limit can be checked."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_seconds: int = 0


class Throttle:
    """Counts hits per limit and identifiers; every method is atomic in the store."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    def _ask(self, question: Callable[[], T]) -> T:
        """The store's answer; ThrottleUnavailableError when it fails, or when Redis failed a moment ago: a hung
        Redis would otherwise cost every API request and login its socket timeout, each holding a database slot."""
        on_redis = isinstance(self._storage, RedisStorage)
        if on_redis and redis_cooling_down():
            raise ThrottleUnavailableError(f"Redis failed a moment ago; not asked again for {COOL_DOWN_SECONDS:.0f} s")
        try:
            return question()
        except STORE_ERRORS as error:
            if on_redis:
                note_redis_failure()
            raise ThrottleUnavailableError(str(error)) from error

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self._storage, RedisStorage) else "memory"

    def hit(self, limit: RateLimitItem, *identifiers: str) -> Verdict:
        """Count one hit if the window has room; say when to retry if it has not."""
        if self._ask(lambda: self._limiter.hit(limit, *identifiers)):
            return Verdict(True)
        return Verdict(False, retry_after_seconds=self.retry_after(limit, *identifiers))

    def retry_after(self, limit: RateLimitItem, *identifiers: str) -> int:
        reset_at = self._ask(lambda: self._limiter.get_window_stats(limit, *identifiers).reset_time)
        return max(1, math.ceil(reset_at - time.time()))

    def remaining(self, limit: RateLimitItem, *identifiers: str) -> int:
        return self._ask(lambda: self._limiter.get_window_stats(limit, *identifiers).remaining)

    def clear(self, limit: RateLimitItem, *identifiers: str) -> None:
        self._ask(lambda: self._limiter.clear(limit, *identifiers))


def create_throttle(redis_url: str | None) -> Throttle:
    """A throttle on Redis (sharing the process's connection pool) or, without Redis, in memory."""
    if not redis_url:
        return Throttle(MemoryStorage())
    client = get_redis()
    storage = RedisStorage(
        redis_url, connection_pool=client.connection_pool, key_prefix=KEY_PREFIX, wrap_exceptions=True
    )
    return Throttle(storage)


_throttles: dict[str | None, Throttle] = {}
_throttles_lock = threading.Lock()


def get_throttle() -> Throttle:
    """The process's throttle; memory counts are per process, Redis counts are shared by all."""
    url = get_settings().redis_url
    with _throttles_lock:
        if url not in _throttles:
            _throttles[url] = create_throttle(url)
        return _throttles[url]


def reset_throttles() -> None:
    with _throttles_lock:
        _throttles.clear()
