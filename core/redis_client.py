"""The one Redis connection pool of the process, and its health as a state the app can show."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import StrEnum

import redis

from common.config import get_settings

SOCKET_TIMEOUT_SECONDS = 2.0
# After Redis fails a call, callers that can do without it leave it alone this long: a hung server
# then costs one socket timeout every few seconds, not one for every caller and every page refresh.
COOL_DOWN_SECONDS = 10.0


class RedisState(StrEnum):
    NOT_CONFIGURED = "not configured"
    OK = "ok"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class RedisStatus:
    state: RedisState
    latency_ms: float | None = None
    detail: str | None = None


class RedisNotConfiguredError(RuntimeError):
    """REDIS_URL is not set, so the feature that needs Redis is not available."""


def create_redis(url: str) -> redis.Redis:
    """A client on its own pool; short timeouts so an unreachable server is noticed quickly."""
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=30,
    )


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
_failed_at: dict[str, float] = {}


def get_redis() -> redis.Redis | None:
    """The process's Redis client, or None when REDIS_URL is not set."""
    url = get_settings().redis_url
    if not url:
        return None
    with _clients_lock:
        if url not in _clients:
            _clients[url] = create_redis(url)
        return _clients[url]


def require_redis() -> redis.Redis:
    """The process's Redis client; raises RedisNotConfiguredError when REDIS_URL is not set."""
    client = get_redis()
    if client is None:
        raise RedisNotConfiguredError("REDIS_URL is not set")
    return client


def reset_redis() -> None:
    """Close the cached clients so the next call follows fresh settings."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
        _failed_at.clear()


def note_redis_failure() -> None:
    """Remember that Redis just failed a call, so that redis_cooling_down() is true for COOL_DOWN_SECONDS."""
    url = get_settings().redis_url
    if url:
        _failed_at[url] = time.monotonic()


def redis_cooling_down() -> bool:
    """Whether Redis failed a call less than COOL_DOWN_SECONDS ago: a caller that can do without it skips it."""
    failed = _failed_at.get(get_settings().redis_url or "")
    return failed is not None and time.monotonic() - failed < COOL_DOWN_SECONDS


def redis_status(client: redis.Redis | None = None) -> RedisStatus:
    """Ping Redis: not configured, ok with latency, or unreachable with the reason."""
    client = client if client is not None else get_redis()
    if client is None:
        return RedisStatus(RedisState.NOT_CONFIGURED)
    started = time.perf_counter()
    try:
        client.ping()
    except redis.RedisError as error:
        return RedisStatus(
            RedisState.UNREACHABLE,
            detail=f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
        )
    return RedisStatus(RedisState.OK, latency_ms=(time.perf_counter() - started) * 1000)
