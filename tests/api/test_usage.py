"""Usage per key: each request counted once under its key and endpoint, for the Account page."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from api.limits import ApiLimits
from core.api_usage import usage_by_key
from core.auth.api_keys import hash_api_key
from db.engine import session_scope
from db.models import ApiKey
from db.models.accounts import Role
from db.types import utc_now
from tests.api.conftest import assert_error, issue_key


def test_requests_are_counted_per_key_and_endpoint(client, analyst, priced):
    second = {"Authorization": f"Bearer {issue_key(analyst.actor)}"}
    for _ in range(3):
        client.get(f"/v1/prices/{priced}", headers=analyst.headers)
    client.get("/v1/prices/NOSUCH", headers=analyst.headers)  # refused with 404: counted all the same
    client.get("/v1/ledger", headers=second)
    with session_scope() as session:
        usage = usage_by_key(session=session, actor=analyst.actor)
    counts = {(u.key_prefix, u.endpoint): u.requests for u in usage}
    first_prefix, second_prefix = analyst.key[:11], second["Authorization"][7:18]
    assert counts == {
        (first_prefix, "POST /v1/prices"): 1,
        (first_prefix, "GET /v1/prices/{ticker}"): 4,
        (second_prefix, "GET /v1/ledger"): 1,
    }
    assert {u.last_day for u in usage} == {utc_now().date()}


def test_the_usage_endpoint_shows_the_callers_own_keys_only(client, analyst, new_user):
    other = new_user()
    client.get("/v1/ledger", headers=other.headers)
    body = client.get("/v1/usage", headers=analyst.headers).json()
    assert [(u["key_prefix"], u["endpoint"], u["requests"]) for u in body["usage"]] == [
        (analyst.key[:11], "GET /v1/usage", 1)
    ]
    later = client.get("/v1/usage", params={"since": "2999-01-01"}, headers=analyst.headers).json()
    assert later["count"] == 0


def _last_used(secret: str) -> datetime | None:
    with session_scope() as session:
        return session.scalar(select(ApiKey.last_used).where(ApiKey.key_hash == hash_api_key(secret)))


def test_a_keys_last_use_is_written_at_most_once_a_minute(client, analyst):
    client.get("/v1/ledger", headers=analyst.headers)
    first = _last_used(analyst.key)
    assert first is not None
    client.get("/v1/ledger", headers=analyst.headers)
    assert _last_used(analyst.key) == first  # a busy key does not write its row on every request

    with session_scope() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == hash_api_key(analyst.key))
            .values(last_used=first - timedelta(minutes=2))
        )
    client.get("/v1/ledger", headers=analyst.headers)
    assert _last_used(analyst.key) >= first


def test_a_job_s_endpoint_is_counted_under_its_documented_path(client, analyst, priced):
    job = client.post("/v1/jobs/training", json={"ticker": priced}, headers=analyst.headers).json()
    client.get(f"/v1/jobs/{job['id']}", headers=analyst.headers)
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=analyst.headers)
    endpoints = {u["endpoint"] for u in client.get("/v1/usage", headers=analyst.headers).json()["usage"]}
    assert {"GET /v1/jobs/{job_id}", "POST /v1/jobs/{job_id}/cancel"} <= endpoints
    assert set(client.get("/openapi.json").json()["paths"]) >= {"/v1/jobs/{job_id}", "/v1/jobs/{job_id}/cancel"}


def test_usage_says_which_keys_no_longer_authenticate(client, analyst):
    expiring = issue_key(analyst.actor)
    client.get("/v1/ledger", headers={"Authorization": f"Bearer {expiring}"})
    with session_scope() as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.key_hash == hash_api_key(expiring))
            .values(expires_at=utc_now() - timedelta(minutes=1))
        )
    body = client.get("/v1/usage", headers=analyst.headers).json()
    states = {u["key_prefix"]: (u["key_status"], u["key_active"]) for u in body["usage"]}
    assert states == {expiring[:11]: ("expired", False), analyst.key[:11]: ("active", True)}


def test_usage_counts_what_the_limit_counts_refusals_included_and_so_explains_a_429(committing_database, new_user):
    analyst, viewer = new_user(), new_user(Role.VIEWER)
    limits = ApiLimits(per_endpoint={"GET /v1/prices/{ticker}": "3/minute", "POST /v1/predictions": "2/minute"})
    with TestClient(create_app(limits=limits)) as client:
        assert client.get("/v1/prices/NOSUCH", headers=analyst.headers).status_code == 404
        assert client.get("/v1/prices/NOSUCH", params={"x": "1"}, headers=analyst.headers).status_code == 422
        assert client.get("/v1/prices/%20", headers=analyst.headers).status_code == 422
        assert_error(client.get("/v1/prices/NOSUCH", headers=analyst.headers), 429, "rate_limited")
        for _ in range(2):
            assert client.post("/v1/predictions", json={"ticker": "X"}, headers=viewer.headers).status_code == 403
        assert_error(client.post("/v1/predictions", json={"ticker": "X"}, headers=viewer.headers), 429)

    def counts(user) -> dict[str, int]:
        with session_scope() as session:
            return {u.endpoint: u.requests for u in usage_by_key(session=session, actor=user.actor)}

    # Every request the window counted is in the usage; the 429s used up nothing and are in neither.
    assert counts(analyst) == {"GET /v1/prices/{ticker}": 3}
    assert counts(viewer) == {"POST /v1/predictions": 2}
