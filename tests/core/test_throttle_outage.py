"""A limit store that hangs: the first call waits its timeout, the next ones do not wait again."""

from __future__ import annotations

import time

import pytest
from limits import parse

from core import redis_client
from core.throttle import ThrottleUnavailableError, get_throttle
from tests.process_state import reset_process_state
from tests.security.tcp_proxy import FreezableProxy

pytestmark = pytest.mark.redis
LIMIT = parse("100 per minute")


@pytest.fixture
def proxied_redis(redis_url, monkeypatch):
    """Redis behind a proxy the test can freeze: connections stay open, nothing is answered."""
    from redis.connection import parse_url

    target = parse_url(redis_url)
    proxy = FreezableProxy((target.get("host", "127.0.0.1"), int(target.get("port", 6379))))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{proxy.port}/{target.get('db', 0)}")
    reset_process_state()
    yield proxy
    proxy.stop()
    reset_process_state()


def timed_hit(identifier: str) -> tuple[float, Exception | None]:
    started = time.perf_counter()
    try:
        get_throttle().hit(LIMIT, "outage-test", identifier)
    except ThrottleUnavailableError as error:
        return time.perf_counter() - started, error
    return time.perf_counter() - started, None


def test_after_the_store_hung_calls_fail_at_once_until_the_cool_down_ends(proxied_redis, monkeypatch):
    monkeypatch.setattr(redis_client, "COOL_DOWN_SECONDS", 1.0)
    assert timed_hit("a")[1] is None
    proxied_redis.freeze()
    waited, error = timed_hit("b")
    assert isinstance(error, ThrottleUnavailableError)
    assert waited >= 1.5, "the first call waits the socket timeout (2 s)"
    # Each request of the API and every login would otherwise wait those 2 s again, holding a slot.
    waited, error = timed_hit("c")
    assert isinstance(error, ThrottleUnavailableError)
    assert waited < 0.5
    proxied_redis.thaw()
    time.sleep(1.1)
    assert timed_hit("d")[1] is None, "after the cool-down the store is asked again"
