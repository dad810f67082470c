"""Idempotency-Key on job submissions: a client retrying after a lost answer gets the job it queued, not two."""

from __future__ import annotations

import asyncio
import uuid

import httpx2
import pytest
from redis import Redis

from api.app import create_app
from tests.api.conftest import GENEROUS, assert_error, unique_ticker, upload
from tests.api.live import serve
from tests.api.test_jobs import sample_days


def training(ticker: str, **config) -> dict:
    return {"ticker": ticker, "config": {"model_type": "ridge", **config}}


def keyed(user, key: str) -> dict[str, str]:
    return user.headers | {"Idempotency-Key": key}


def queue_length(redis_url: str, queue: str) -> int:
    return Redis.from_url(redis_url).llen(f"rq:queue:{queue}")


def test_a_retried_submission_returns_the_first_job_queued_once_and_counted_once(
    client, analyst, priced, queued_jobs, redis_url, monkeypatch
):
    from common.config import get_settings

    monkeypatch.setenv("ACTION_LIMITS", '{"pro": {"train": "1/hour"}}')
    get_settings.cache_clear()
    key = str(uuid.uuid4())
    first = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, key))
    assert first.status_code == 202, first.text
    again = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, key))
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]
    assert queue_length(redis_url, queued_jobs) == 1
    assert client.get("/v1/jobs", headers=analyst.headers).json()["count"] == 1
    # The retry used none of the hour's single training: a new key is refused by the quota, not the key.
    other = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, str(uuid.uuid4())))
    assert_error(other, 429, "quota_exceeded")


def test_a_retry_sees_the_job_as_it_stands_now(client, analyst, priced):
    key = "nightly-2026-12-07"
    job = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, key)).json()
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=analyst.headers).json()["status"] == "cancelled"
    again = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, key))
    assert (again.json()["id"], again.json()["status"]) == (job["id"], "cancelled")


def test_the_same_key_with_another_request_is_refused_and_queues_nothing(
    client, analyst, priced, queued_jobs, redis_url
):
    key = str(uuid.uuid4())
    first = client.post("/v1/jobs/training", json=training(priced), headers=keyed(analyst, key)).json()
    changed = client.post("/v1/jobs/training", json=training(priced, seed=7), headers=keyed(analyst, key))
    error = assert_error(changed, 422, "unprocessable")
    assert "Idempotency-Key was sent before with another request" in error["message"]
    assert first["id"] in error["message"]
    walk = {"ticker": priced, "windows": 2, "config": {"model_type": "ridge"}}
    assert_error(client.post("/v1/jobs/walkforward", json=walk, headers=keyed(analyst, key)), 422, "unprocessable")
    assert queue_length(redis_url, queued_jobs) == 1


def test_keys_are_each_user_s_own(client, new_user):
    one, two = new_user(), new_user()
    ticker = unique_ticker()
    for user in (one, two):
        assert upload(client, user, ticker).status_code == 201
    jobs = [
        client.post("/v1/jobs/training", json=training(ticker), headers=keyed(user, "same-key")).json()
        for user in (one, two)
    ]
    assert jobs[0]["id"] != jobs[1]["id"]
    assert [client.get("/v1/jobs", headers=user.headers).json()["count"] for user in (one, two)] == [1, 1]


def test_a_walkforward_is_retried_alike(client, analyst, queued_jobs, redis_url):
    ticker = unique_ticker()
    assert upload(client, analyst, ticker, sample_days(320)).status_code == 201
    body = {"ticker": ticker, "windows": 3, "retrain_every": 3, "config": {"model_type": "ridge"}}
    answers = [client.post("/v1/jobs/walkforward", json=body, headers=keyed(analyst, "wf-1")) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert queue_length(redis_url, queued_jobs) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 129, "ключ"])
def test_a_malformed_key_is_422_naming_the_header(client, analyst, priced, key):
    headers = analyst.headers | {"Idempotency-Key": key}
    if not key.isascii():  # an HTTP header travels as bytes: send the UTF-8 a client would
        headers = {name: value.encode() for name, value in headers.items()}
    error = assert_error(client.post("/v1/jobs/training", json=training(priced), headers=headers), 422)
    assert "Idempotency-Key" in error["message"] or "idempotency-key" in error["message"].lower()
    assert client.get("/v1/jobs", headers=analyst.headers).json()["count"] == 0


def test_simultaneous_retries_never_queue_two_jobs(client, analyst, priced, queued_jobs, redis_url):
    async def burst(base_url: str) -> list[httpx2.Response]:
        async with httpx2.AsyncClient(base_url=base_url, headers=keyed(analyst, "burst"), timeout=30) as http:
            return await asyncio.gather(*(http.post("/v1/jobs/training", json=training(priced)) for _ in range(6)))

    with serve(create_app(limits=GENEROUS)) as base_url:
        answers = asyncio.run(burst(base_url))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {202, 409}, [answer.text for answer in answers]
    assert {answer.json()["id"] for answer in answers if answer.status_code == 202} != set()
    assert len({answer.json()["id"] for answer in answers if answer.status_code == 202}) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert "still being handled" in assert_error(answer, 409, "conflict")["message"]
    assert queue_length(redis_url, queued_jobs) == 1
    assert client.get("/v1/jobs", headers=analyst.headers).json()["count"] == 1
