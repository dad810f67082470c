"""Per-key, per-endpoint limits: exactly N requests pass under concurrency, the next gets 429 with Retry-After."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx2
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import ApiLimits
from common.config import get_settings
from core.throttle import get_throttle
from tests.api.conftest import assert_error, issue_key
from tests.api.live import serve

LIMIT = 12
REQUESTS = 30
THREADS = 8


def test_exactly_the_limit_passes_under_concurrency_on_redis(committing_database, queued_jobs, analyst):
    assert get_throttle().backend == "redis"
    app = create_app(limits=ApiLimits(per_endpoint={"GET /v1/tickers": f"{LIMIT}/minute"}))
    with serve(app) as base_url, httpx2.Client(base_url=base_url, headers=analyst.headers, timeout=60) as http:
        with ThreadPoolExecutor(THREADS) as pool:
            responses = list(pool.map(lambda _: http.get("/v1/tickers"), range(REQUESTS)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * LIMIT + [429] * (REQUESTS - LIMIT)
        refused = next(r for r in responses if r.status_code == 429)
        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Limit"] == str(LIMIT)
        assert refused.headers["RateLimit-Remaining"] == "0"
        # Read after the atomic hit, so concurrent requests may see the same figure; never outside the window.
        remaining = [int(r.headers["RateLimit-Remaining"]) for r in responses if r.status_code == 200]
        assert all(0 <= left < LIMIT for left in remaining)
        assert min(remaining) == 0
        # Another endpoint, and another key of the same user, have windows of their own.
        assert http.get("/v1/ledger").status_code == 200
        other = {"Authorization": f"Bearer {issue_key(analyst.actor)}"}
        assert http.get("/v1/tickers", headers=other).status_code == 200


def test_the_limit_holds_in_memory_without_redis(committing_database, analyst):
    assert not get_settings().redis_url
    assert get_throttle().backend == "memory"
    app = create_app(limits=ApiLimits(per_endpoint={"GET /v1/models": "3/minute"}))
    with TestClient(app) as client:
        assert [client.get("/v1/models", headers=analyst.headers).status_code for _ in range(3)] == [200] * 3
        response = client.get("/v1/models", headers=analyst.headers)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1


def test_reads_and_writes_have_their_own_defaults_and_an_endpoint_may_have_its_own():
    limits = ApiLimits(read="5/minute", write="2/minute", per_endpoint={"GET /v1/ledger": "1/second"})
    assert limits.for_endpoint("GET", "GET /v1/jobs").amount == 5
    assert limits.for_endpoint("POST", "POST /v1/jobs/training").amount == 2
    assert limits.for_endpoint("GET", "GET /v1/ledger").amount == 1


JSON = {"Content-Type": "application/json"}


def test_every_answer_to_a_valid_key_carries_the_ratelimit_headers_refusals_of_the_body_too(client, analyst, viewer):
    answers = {
        "bad JSON": client.post("/v1/predictions", content=b"{bad", headers=analyst.headers | JSON),
        "JSON over its limit": client.post("/v1/predictions", content=b" " * 70_000, headers=analyst.headers | JSON),
        "no boundary": client.post(
            "/v1/prices", content=b"x", headers=analyst.headers | {"Content-Type": "multipart/form-data"}
        ),
        "a viewer's write": client.post("/v1/predictions", content=b"{bad", headers=viewer.headers | JSON),
        "no such ticker": client.get("/v1/prices/NOSUCH", headers=analyst.headers),
    }
    for name, response in answers.items():
        assert_error(response, response.status_code)
        assert [h for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset") if h in response.headers] == [
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        ], name
    assert {name: r.status_code for name, r in answers.items()} == {
        "bad JSON": 422,
        "JSON over its limit": 413,
        "no boundary": 400,
        "a viewer's write": 403,
        "no such ticker": 404,
    }


def test_with_the_limit_store_down_requests_pass_without_ratelimit_headers(committing_database, analyst, monkeypatch):
    # Nothing listens on port 1: the limits fail open, and say nothing rather than a made-up figure.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        response = client.get("/v1/tickers", headers=analyst.headers)
    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("ratelimit-")]
