"""One Yahoo request for everyone asking the same thing at once, within the app's request budget.

Only Yahoo's edge is faked (its history call); the budget counts in real `limits` storages and
the cross-process sharing runs on the real Redis.
"""

import threading
import time
import uuid
from dataclasses import replace
from datetime import date

import pytest
import redis
from limits import parse
from limits.storage import MemoryStorage, RedisStorage
from yfinance.exceptions import YFRateLimitError

from core.data.frames import normalise_provider_frame
from core.data.shared_fetch import BudgetSpentError, RequestBudget, SharedFetches, decode, encode
from core.throttle import Throttle
from tests.core.data.test_service import committed, fetch  # noqa: F401 - the committed fixture
from tests.core.data.test_yahoo import FakeYahoo
from tests.fixtures import gspc_2018_frame

KEY = ("MSFT", date(2018, 1, 1), date(2018, 12, 31), "yahoo")


class SlowYahoo(FakeYahoo):
    """Answers after a pause, long enough for a second asker to arrive while the first waits."""

    def history(self, ticker, **options):
        time.sleep(0.4)
        return super().history(ticker, **options)


def at_once(*calls):
    """Run the calls in threads started together; their results (or errors) in order."""
    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(position, call):
        start.wait()
        try:
            results[position] = call()
        except Exception as error:  # noqa: BLE001 - returned for the test to inspect
            results[position] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_users_fetching_the_same_ticker_at_once_make_one_request(committed):  # noqa: F811
    sessions, actor = committed
    fake = SlowYahoo(gspc_2018_frame())
    runs = at_once(lambda: fetch(sessions, actor, ["FETCHA"], fake), lambda: fetch(sessions, actor, ["FETCHA"], fake))
    assert len(fake.requests) == 1
    assert [run.outcomes[0].status for run in runs] == ["ok", "ok"]
    assert sorted(run.outcomes[0].rows for run in runs)[-1] == 251


def test_a_failed_request_fails_every_asker_and_the_next_ask_tries_again():
    fetches = SharedFetches()
    fake = SlowYahoo(YFRateLimitError(), gspc_2018_frame())

    def ask():
        return fetches.fetch(KEY, lambda: normalise_provider_frame(fake.history("MSFT")))

    first, second = at_once(ask, ask)
    assert isinstance(first, YFRateLimitError)
    assert second is first
    assert len(ask().frame) == 251
    assert len(fake.requests) == 2


@pytest.fixture
def redis_client(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    for key in client.scan_iter("candlecast:fetch:*"):
        client.delete(key)
    client.close()


def test_processes_sharing_redis_make_one_request(redis_client):
    # Two registries stand for two processes (the app and an API worker): only Redis joins them.
    fake = SlowYahoo(gspc_2018_frame())
    key = (f"T{uuid.uuid4().hex[:6]}", *KEY[1:])

    def ask(fetches):
        return lambda: fetches.fetch(key, lambda: normalise_provider_frame(fake.history(key[0])))

    first, second = at_once(ask(SharedFetches(redis_client)), ask(SharedFetches(redis_client)))
    assert len(fake.requests) == 1
    assert first.frame.equals(second.frame)
    assert second.frame["date"].iloc[0] == date(2018, 1, 2)


def test_an_answer_survives_its_trip_through_redis():
    history = gspc_2018_frame().assign(**{"Dividends": 0.0, "Stock Splits": 0.0})
    history.iloc[100, history.columns.get_loc("Stock Splits")] = 4.0
    answer = replace(normalise_provider_frame(history), dropped_incomplete_rows=2, dropped_unfinished_rows=1)
    again = decode(encode(answer))
    assert again.frame.equals(answer.frame)
    assert again.actions.to_dict("records") == answer.actions.to_dict("records")
    assert (again.dropped_empty_rows, again.dropped_incomplete_rows, again.dropped_unfinished_rows) == (0, 2, 1)


def budget(throttle, limit="2 per minute", **options):
    sleeps = []
    options.setdefault("sleep", sleeps.append)
    return RequestBudget(throttle, limit=parse(limit), **options), sleeps


def test_the_budget_refuses_once_spent_and_says_when_to_retry():
    spending, _ = budget(Throttle(MemoryStorage()), max_wait_seconds=0)
    spending.take()
    spending.take()
    with pytest.raises(BudgetSpentError, match=r"budget of Yahoo requests .* used up: try again in \d+ s"):
        spending.take()


def test_the_budget_waits_for_room_when_allowed_to(redis_url):
    storage = RedisStorage(redis_url, key_prefix=f"test-budget-{uuid.uuid4().hex}")
    waiting, _ = budget(Throttle(storage), limit="1 per 2 seconds", max_wait_seconds=5, sleep=time.sleep)
    waiting.take()
    started = time.monotonic()
    waiting.take()
    assert time.monotonic() - started >= 1


def test_processes_share_one_budget_on_redis(redis_url):
    prefix = f"test-budget-{uuid.uuid4().hex}"
    app, _ = budget(Throttle(RedisStorage(redis_url, key_prefix=prefix)), max_wait_seconds=0)
    worker, _ = budget(Throttle(RedisStorage(redis_url, key_prefix=prefix)), max_wait_seconds=0)
    app.take()
    worker.take()
    with pytest.raises(BudgetSpentError):
        app.take()


def test_a_rate_limit_answer_pauses_every_user_of_the_budget():
    throttle = Throttle(MemoryStorage())
    fetching, _ = budget(throttle, limit="60 per minute", max_wait_seconds=0)
    other, _ = budget(throttle, limit="60 per minute", max_wait_seconds=0)
    fake = FakeYahoo(YFRateLimitError(), gspc_2018_frame())
    source = fake.source()
    source.budget = fetching
    with pytest.raises(BudgetSpentError):
        # The retry after the rate limit meets the pause and, allowed no wait, gives up.
        source.fetch("MSFT", date(2018, 1, 1), date(2018, 12, 31))
    assert len(fake.requests) == 1
    with pytest.raises(BudgetSpentError, match="try again in"):
        other.take()


def test_an_unreachable_redis_costs_sharing_not_the_fetch():
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    fake = FakeYahoo(gspc_2018_frame())
    answer = SharedFetches(unreachable).fetch(KEY, lambda: normalise_provider_frame(fake.history("MSFT")))
    assert len(answer.frame) == 251
    assert len(fake.requests) == 1
