"""API keys open the API: missing, unknown, expired and revoked keys get 401; viewers may only read."""

from __future__ import annotations

import uuid

import pytest

from core.auth.api_keys import revoke_key
from core.services import accounts
from db.engine import session_scope
from db.models import User as UserRow
from db.models.accounts import Role
from tests.api.conftest import assert_error, expire_key, issue_key, unique_ticker, upload

WRITES = [
    ("post", "/v1/predictions", {"json": {"ticker": "MSFT", "days": 1}}),
    ("post", "/v1/prices", {"files": {"file": ("p.csv", b"Date,Open,High,Low,Close,Volume\n", "text/csv")}}),
    ("post", "/v1/jobs/training", {"json": {"ticker": "MSFT"}}),
    ("post", "/v1/jobs/walkforward", {"json": {"ticker": "MSFT"}}),
    ("post", "/v1/jobs/00000000-0000-4000-8000-000000000000/cancel", {}),
    ("post", "/v1/backtests", {"json": {"evaluation_id": "00000000-0000-4000-8000-000000000000"}}),
    ("post", "/v1/risk", {"json": {"weights": {"MSFT": 1.0}}}),
]


def test_without_a_key_the_answer_is_401_in_the_error_shape(client):
    response = client.get("/v1/tickers")
    error = assert_error(response, 401, "unauthorised")
    assert "Authorization: Bearer" in error["message"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer cc_not-a-real-key", "Bearer nonsense", "Basic dXNlcjpwYXNz"])
def test_unknown_keys_get_401(client, header):
    assert_error(client.get("/v1/tickers", headers={"Authorization": header}), 401)


def test_a_valid_key_acts_as_its_owner(client, analyst):
    ticker = unique_ticker()
    assert upload(client, analyst, ticker).status_code == 201
    response = client.get("/v1/tickers", headers=analyst.headers)
    assert response.status_code == 200
    mine = [t for t in response.json()["tickers"] if t["owned"]]
    assert [(t["ticker"], t["rows"]) for t in mine] == [(ticker, 251)]


def test_an_expired_key_gets_401(client, analyst):
    assert client.get("/v1/tickers", headers=analyst.headers).status_code == 200
    expire_key(analyst.key)
    assert_error(client.get("/v1/tickers", headers=analyst.headers), 401, "unauthorised")


def test_a_revoked_key_gets_401_while_the_owners_other_keys_still_work(client, analyst):
    other = issue_key(analyst.actor)
    with session_scope() as session:
        from core.api_usage import authenticate_key

        holder = authenticate_key(session=session, secret=analyst.key)
        assert revoke_key(session=session, actor=analyst.actor, key_id=holder.api_key_id)
    assert_error(client.get("/v1/tickers", headers=analyst.headers), 401)
    assert client.get("/v1/tickers", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_an_admin_s_password_reset_revokes_every_key_of_the_user_and_no_one_else_s(client, analyst, new_user):
    # An admin resets a password when the account may be compromised: its keys are credentials too.
    second = issue_key(analyst.actor)
    bystander = new_user()
    admin = new_user(Role.ADMIN)
    assert client.get("/v1/tickers", headers=analyst.headers).status_code == 200
    reset = accounts.reset_password(admin.actor, user_id=analyst.actor.user_id)
    assert_error(client.get("/v1/tickers", headers=analyst.headers), 401, "unauthorised")
    assert_error(client.get("/v1/tickers", headers={"Authorization": f"Bearer {second}"}), 401, "unauthorised")
    assert client.get("/v1/tickers", headers=bystander.headers).status_code == 200
    assert client.get("/v1/tickers", headers=admin.headers).status_code == 200
    assert reset.revoked_keys == 2


def test_a_deactivated_users_key_gets_401(client, analyst):
    with session_scope() as session:
        session.get(UserRow, analyst.actor.user_id).is_active = False
    assert_error(client.get("/v1/tickers", headers=analyst.headers), 401)


@pytest.mark.parametrize(("method", "path", "payload"), WRITES, ids=[w[1] for w in WRITES])
def test_a_viewers_key_reads_but_every_write_gets_403(client, viewer, method, path, payload):
    assert client.get("/v1/ledger", headers=viewer.headers).status_code == 200
    error = assert_error(getattr(client, method)(path, headers=viewer.headers, **payload), 403, "forbidden")
    assert "viewer" in error["message"]


@pytest.mark.parametrize(
    ("path", "payload", "sentence"),
    [
        ("/v1/risk", {"weights": {"MSFT": 1.0}}, "the viewer role cannot run analyses"),
        ("/v1/backtests", {"evaluation_id": str(uuid.uuid4())}, "the viewer role cannot run analyses"),
        ("/v1/jobs/walkforward", {"ticker": "MSFT"}, "the viewer role cannot train"),
        ("/v1/jobs/training", {"ticker": "MSFT"}, "the viewer role cannot train"),
    ],
    ids=["risk", "backtest", "walk-forward", "training"],
)
def test_a_viewers_403_names_the_action_the_request_asked_for(client, viewer, path, payload, sentence):
    # A risk measurement or a backtest is no training: the refusal said so all the same.
    error = assert_error(client.post(path, json=payload, headers=viewer.headers), 403, "forbidden")
    assert error["message"] == sentence


def test_rate_limit_headers_come_with_every_answer(client, analyst):
    response = client.get("/v1/tickers", headers=analyst.headers)
    assert int(response.headers["RateLimit-Limit"]) == 10000
    assert int(response.headers["RateLimit-Remaining"]) == 9999
    assert int(response.headers["RateLimit-Reset"]) >= 1


def test_a_wrong_method_gets_405_naming_every_method_of_the_path(client, analyst):
    response = client.put("/v1/risk", headers=analyst.headers)
    assert_error(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert client.get("/v1/jobs/training", headers=analyst.headers).headers["Allow"] == "OPTIONS, POST"


def test_a_path_no_endpoint_serves_is_named_in_its_404(client, analyst):
    error = assert_error(client.get("/v1/nothing/here", headers=analyst.headers), 404, "not_found")
    assert error["message"] == "no endpoint serves GET /v1/nothing/here; see /docs"


def test_a_request_without_a_valid_key_gets_401_before_its_query_parameters_are_judged(client, analyst):
    assert_error(client.get("/v1/tickers", params={"x": "1"}), 401, "unauthorised")
    bad_key = {"Authorization": "Bearer cc_not_a_key"}
    assert_error(client.get("/v1/tickers", params={"x": "1"}, headers=bad_key), 401, "unauthorised")
    assert_error(client.get("/v1/tickers", params={"x": "1"}, headers=analyst.headers), 422, "invalid_request")


# Bodies a parser refuses: the key and the role are judged first, so none of these is parsed for a stranger.
MALFORMED_BODIES = [
    ("/v1/predictions", {"content": b"{bad", "headers": {"Content-Type": "application/json"}}),
    ("/v1/prices", {"content": b"x", "headers": {"Content-Type": "multipart/form-data"}}),  # no boundary
]


@pytest.mark.parametrize(("path", "request_args"), MALFORMED_BODIES, ids=["json", "multipart"])
@pytest.mark.parametrize("authorization", [None, "Bearer cc_not-a-real-key"], ids=["no key", "unknown key"])
def test_a_malformed_body_without_a_valid_key_gets_401(client, path, request_args, authorization):
    headers = request_args["headers"] | ({"Authorization": authorization} if authorization else {})
    response = client.post(path, content=request_args["content"], headers=headers)
    assert_error(response, 401, "unauthorised")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("path", "request_args"), MALFORMED_BODIES, ids=["json", "multipart"])
def test_a_viewers_write_with_a_malformed_body_gets_403(client, viewer, path, request_args):
    headers = request_args["headers"] | viewer.headers
    error = assert_error(client.post(path, content=request_args["content"], headers=headers), 403, "forbidden")
    assert "viewer" in error["message"]


def test_an_analysts_malformed_json_is_judged_after_the_key(client, analyst):
    response = client.post(
        "/v1/predictions", content=b"{bad", headers=analyst.headers | {"Content-Type": "application/json"}
    )
    error = assert_error(response, 422, "invalid_request")
    problem = "not valid JSON (line 1, column 2: expecting property name enclosed in double quotes)"
    assert error["details"] == [{"location": "body", "message": problem}]
