"""Redis: one client per process, and its three states."""

import pytest

from core.redis_client import (
    RedisNotConfiguredError,
    RedisState,
    get_redis,
    redis_status,
    require_redis,
)

pytestmark = pytest.mark.redis


def test_not_configured_is_a_state_not_an_error():
    assert get_redis() is None
    assert redis_status().state == RedisState.NOT_CONFIGURED
    with pytest.raises(RedisNotConfiguredError):
        require_redis()


def test_ok_against_the_real_server(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    status = redis_status()
    assert status.state == RedisState.OK
    assert status.latency_ms is not None
    assert status.latency_ms >= 0
    client = require_redis()
    client.set("candlecast:test:ping", "1", ex=5)
    assert client.get("candlecast:test:ping") == b"1"


def test_the_process_shares_one_client(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert get_redis() is get_redis()


def test_unreachable_is_reported_with_the_reason(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    status = redis_status()
    assert status.state == RedisState.UNREACHABLE
    assert "ConnectionError" in status.detail
