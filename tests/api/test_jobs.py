"""Training and walk-forward jobs through the API: submitted to the queue, followed, cancelled."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from core.data.sample import sample_bytes
from tests.api.conftest import assert_error, unique_ticker, upload


def test_a_training_job_is_queued_followed_and_cancelled(client, analyst, priced, queued_jobs, redis_url):
    response = client.post(
        "/v1/jobs/training",
        json={"ticker": priced, "config": {"epochs": 1, "lstm_units": [4]}},
        headers=analyst.headers,
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert (job["ticker"], job["kind"], job["model_type"], job["status"]) == (priced, "train", "auto", "queued")
    # Dispatched after the commit: the RQ queue of this test holds it.
    assert Redis.from_url(redis_url).llen(f"rq:queue:{queued_jobs}") == 1
    status = client.get(f"/v1/jobs/{job['id']}", headers=analyst.headers).json()
    assert status["status"] == "queued"
    assert [j["id"] for j in client.get("/v1/jobs", headers=analyst.headers).json()["jobs"]] == [job["id"]]
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=analyst.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.get(f"/v1/jobs/{job['id']}", headers=analyst.headers).json()["status"] == "cancelled"


def sample_days(days: int) -> bytes:
    """The bundled sample's last days as a CSV upload."""
    header, *rows = sample_bytes().decode().splitlines()
    return "\n".join([header, *rows[-days:]]).encode()


def test_a_walkforward_job_carries_its_settings(client, analyst):
    ticker = unique_ticker()
    assert upload(client, analyst, ticker, sample_days(320)).status_code == 201
    response = client.post(
        "/v1/jobs/walkforward",
        json={"ticker": ticker, "windows": 3, "retrain_every": 3, "config": {"model_type": "ridge"}},
        headers=analyst.headers,
    )
    assert response.status_code == 202, response.text
    assert (response.json()["kind"], response.json()["model_type"]) == ("walkforward", "ridge")


def test_a_walkforward_the_history_cannot_hold_is_422_and_queues_nothing(client, analyst, priced):
    response = client.post(
        "/v1/jobs/walkforward",
        json={"ticker": priced, "windows": 3, "config": {"model_type": "ridge"}},
        headers=analyst.headers,
    )
    error = assert_error(response, 422, "unprocessable")
    assert "too little history for 3 windows" in error["message"]
    assert f"{priced} has 251" in error["message"]
    assert client.get("/v1/jobs", headers=analyst.headers).json()["jobs"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/jobs/training", {"ticker": "MSFT", "config": {"epochs": 0}}),
        ("/v1/jobs/training", {"ticker": "MSFT", "config": {"features": ["astrology"]}}),
        ("/v1/jobs/training", {"ticker": "MSFT", "config": {"no_such_setting": 1}}),
        ("/v1/jobs/walkforward", {"ticker": "MSFT", "windows": 2, "retrain_every": 3}),
        ("/v1/jobs/walkforward", {"ticker": "MSFT", "step": 2}),
    ],
)
def test_bad_job_settings_get_422_naming_the_setting(client, analyst, path, body):
    error = assert_error(client.post(path, json=body, headers=analyst.headers), 422, "invalid_request")
    assert error["details"]


def test_unknown_jobs_are_404(client, analyst):
    missing = uuid.uuid4()
    assert_error(client.get(f"/v1/jobs/{missing}", headers=analyst.headers), 404, "not_found")
    assert_error(client.post(f"/v1/jobs/{missing}/cancel", headers=analyst.headers), 404, "not_found")


def test_a_job_for_a_ticker_without_prices_is_refused_at_once_and_costs_no_quota(client, analyst, priced, monkeypatch):
    from common.config import get_settings

    monkeypatch.setenv("ACTION_LIMITS", '{"pro": {"train": "1/hour"}}')
    get_settings.cache_clear()
    for path in ("/v1/jobs/training", "/v1/jobs/walkforward"):
        error = assert_error(client.post(path, json={"ticker": "NOSUCH"}, headers=analyst.headers), 404, "not_found")
        assert error["message"] == "no cached prices of NOSUCH: fetch or upload them first"
    assert client.get("/v1/jobs", headers=analyst.headers).json()["count"] == 0
    queued = client.post("/v1/jobs/training", json={"ticker": priced}, headers=analyst.headers)
    assert queued.status_code == 202, queued.text


def test_job_lists_say_how_many_they_hold_and_take_a_limit(client, analyst, priced):
    made = [
        client.post("/v1/jobs/training", json={"ticker": priced}, headers=analyst.headers).json()["id"] for _ in "abc"
    ]
    every = client.get("/v1/jobs", headers=analyst.headers).json()
    assert (every["count"], [job["id"] for job in every["jobs"]]) == (3, made[::-1])
    newest = client.get("/v1/jobs", params={"limit": 2}, headers=analyst.headers).json()
    assert (newest["count"], [job["id"] for job in newest["jobs"]]) == (2, made[:0:-1])
    for wrong in (0, 501, "x"):
        assert_error(client.get("/v1/jobs", params={"limit": wrong}, headers=analyst.headers), 422, "invalid_request")


def test_polling_one_job_notices_that_the_queue_lost_it(client, analyst, priced, redis_url):
    job = client.post("/v1/jobs/training", json={"ticker": priced}, headers=analyst.headers).json()
    Redis.from_url(redis_url).delete(f"rq:job:candlecast-{job['id']}")  # as a flush or a restart does
    polled = client.get(f"/v1/jobs/{job['id']}", headers=analyst.headers).json()
    assert (polled["status"], polled["error"]) == (
        "failed",
        "the queue lost this job (its worker was stopped or Redis was flushed)",
    )


@pytest.mark.parametrize(
    ("method", "path", "location"),
    [
        ("get", "/v1/jobs/xyz", "path.job_id"),
        ("post", "/v1/jobs/xyz/cancel", "path.job_id"),
        ("get", "/v1/models/xyz", "path.version_id"),
        ("get", "/v1/evaluations/xyz", "path.evaluation_id"),
        ("get", "/v1/backtests/xyz", "path.backtest_id"),
        ("get", "/v1/risk/xyz", "path.risk_id"),
    ],
)
def test_a_malformed_id_is_answered_alike_on_every_route_after_the_key(client, analyst, method, path, location):
    assert_error(getattr(client, method)(path), 401, "unauthorised")
    error = assert_error(getattr(client, method)(path, headers=analyst.headers), 422, "invalid_request")
    assert [problem["location"] for problem in error["details"]] == [location]
    assert error["message"].startswith(f"{location}: ")


def test_the_paths_beside_a_job_s_are_not_read_as_job_ids(client, analyst):
    response = client.get("/v1/jobs/training", headers=analyst.headers)
    assert_error(response, 405)
    assert response.headers["Allow"] == "OPTIONS, POST"


def test_a_rule_across_body_fields_is_named_at_the_field_it_judges(client, analyst):
    body = {"ticker": "MSFT", "windows": 2, "retrain_every": 3}
    error = assert_error(
        client.post("/v1/jobs/walkforward", json=body, headers=analyst.headers), 422, "invalid_request"
    )
    assert error["details"] == [{"location": "body.retrain_every", "message": "1 to the number of windows (2), got 3"}]


def test_open_jobs_are_listed_all_whatever_the_limit(client, analyst):
    """A scheduler polling its running jobs must not lose one behind newer finished ones."""
    from datetime import timedelta

    from db.engine import session_scope
    from db.models import TrainingJob
    from db.models.forecasting import JobStatus
    from db.types import utc_now

    now = utc_now()

    def job_row(ticker: str, status: JobStatus, created_at) -> TrainingJob:
        row = TrainingJob(user_id=analyst.actor.user_id, ticker=ticker, kind="train", config={}, status=status.value)
        row.created_at = created_at
        return row

    with session_scope() as session:
        running = job_row("OLD", JobStatus.RUNNING, now - timedelta(hours=1))
        running.started_at = running.heartbeat_at = now
        session.add(running)
        for number in range(3):
            session.add(job_row(f"NEW{number}", JobStatus.SUCCEEDED, now - timedelta(minutes=number)))
        session.flush()
        running_id = str(running.id)
    newest = client.get("/v1/jobs", params={"limit": 2}, headers=analyst.headers).json()
    assert [job["ticker"] for job in newest["jobs"]] == ["NEW0", "NEW1"], "the limit counts every job"
    still_open = client.get("/v1/jobs", params={"open": "true"}, headers=analyst.headers).json()
    assert [job["id"] for job in still_open["jobs"]] == [running_id]
    assert still_open["count"] == 1
