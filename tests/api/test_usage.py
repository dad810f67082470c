"""Usage per key: each request counted once under its key and endpoint, for the Account page."""

from __future__ import annotations

from core.api_usage import usage_by_key
from db.engine import session_scope
from db.types import utc_now
from tests.api.conftest import issue_key


def test_requests_are_counted_per_key_and_endpoint(client, analyst, priced):
    second = {"Authorization": f"Bearer {issue_key(analyst.actor)}"}
    for _ in range(3):
        client.get(f"/v1/prices/{priced}", headers=analyst.headers)
    client.get("/v1/prices/NOSUCH", headers=analyst.headers)  # refused with 404: not counted
    client.get("/v1/ledger", headers=second)
    with session_scope() as session:
        usage = usage_by_key(session=session, actor=analyst.actor)
    counts = {(u.key_prefix, u.endpoint): u.requests for u in usage}
    first_prefix, second_prefix = analyst.key[:11], second["Authorization"][7:18]
    assert counts == {
        (first_prefix, "POST /v1/prices"): 1,
        (first_prefix, "GET /v1/prices/{ticker}"): 3,
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
