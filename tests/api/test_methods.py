"""HEAD, OPTIONS and a stray trailing slash, answered as an HTTP client (curl, requests, a scheduler) expects."""

from __future__ import annotations

import httpx2
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import ApiLimits
from tests.api.conftest import GENEROUS, assert_error
from tests.api.live import serve

RATE_LIMIT = ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")


def test_head_answers_as_get_without_the_body(client, analyst, priced):
    for path, accept in [("/v1/tickers", "application/json"), (f"/v1/prices/{priced}", "text/csv")]:
        headers = analyst.headers | {"Accept": accept}
        got = client.get(path, headers=headers)
        head = client.head(path, headers=headers)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-type"] == got.headers["content-type"]
        assert head.headers["content-length"] == str(len(got.content))
        assert all(name in head.headers for name in RATE_LIMIT)


def test_head_judges_the_key_first_and_answers_a_refusal_as_get_does(client, analyst):
    refused = client.head("/v1/tickers")
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert client.head("/v1/prices/NOSUCH", headers=analyst.headers).status_code == 404
    assert client.head("/v1/tickers", params={"tickr": "x"}, headers=analyst.headers).status_code == 422


def test_head_counts_against_its_get_s_window_and_usage(committing_database, queued_jobs, analyst):
    app = create_app(limits=ApiLimits(per_endpoint={"GET /v1/tickers": "3/minute"}))
    with TestClient(app) as client:
        assert [client.head("/v1/tickers", headers=analyst.headers).status_code for _ in range(2)] == [200, 200]
        assert client.get("/v1/tickers", headers=analyst.headers).headers["RateLimit-Remaining"] == "0"
        assert client.head("/v1/tickers", headers=analyst.headers).status_code == 429
        usage = client.get("/v1/usage", headers=analyst.headers).json()["usage"]
    assert {row["endpoint"] for row in usage} >= {"GET /v1/tickers"}
    assert not [row for row in usage if row["endpoint"].startswith("HEAD ")]


def test_head_on_a_real_server_sends_no_body_and_keeps_the_connection(committing_database, queued_jobs, analyst):
    with serve(create_app(limits=GENEROUS)) as base, httpx2.Client(base_url=base, headers=analyst.headers) as http:
        head = http.head("/v1/tickers")
        after = http.get("/v1/tickers")
    assert (head.status_code, head.content, after.status_code) == (200, b"", 200)


def test_head_or_a_wrong_method_on_a_path_without_get_is_405_naming_what_it_serves(client, analyst):
    response = client.head("/v1/jobs/training", headers=analyst.headers)
    assert (response.status_code, response.headers["Allow"]) == (405, "OPTIONS, POST")
    assert_error(client.put("/v1/tickers", headers=analyst.headers), 405)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/risk", "GET, HEAD, OPTIONS, POST"),
        ("/v1/jobs/training", "OPTIONS, POST"),
        ("/v1/ledger", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_names_the_path_s_methods_without_a_key(client, path, allowed):
    response = client.options(path)
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["Allow"] == allowed
    assert not [name for name in RATE_LIMIT if name in response.headers]


def test_options_on_a_path_no_endpoint_serves_is_404(client):
    assert_error(client.options("/v1/nothing/here"), 404, "not_found")


@pytest.mark.parametrize(
    ("asked", "location"),
    [
        ("/v1/tickers/", "/v1/tickers"),
        ("/v1/ledger/?ticker=MSFT&limit=5", "/v1/ledger?ticker=MSFT&limit=5"),
        ("/v1/prices/%5EGSPC/", "/v1/prices/%5EGSPC"),
    ],
)
def test_a_trailing_slash_is_redirected_relatively_so_a_tls_proxy_s_scheme_and_host_hold(
    committing_database, queued_jobs, asked, location
):
    # As behind a proxy ending TLS: the API sees plain HTTP from the proxy, with its own host.
    with TestClient(create_app(limits=GENEROUS), base_url="http://10.0.0.5:8000") as client:
        response = client.get(asked, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (307, location)


def test_a_redirected_request_keeps_its_key_and_is_served(client, analyst):
    response = client.get("/v1/tickers/", headers=analyst.headers)
    assert response.status_code == 200, response.text
    assert [r.status_code for r in response.history] == [307]


@pytest.mark.parametrize("asked", ["/v1/prices//", "/v1/indicators//", "/v1/prices//?start=2018-01-02"])
def test_an_empty_path_segment_is_not_redirected_to_another_endpoint(client, analyst, asked):
    # Stripping every slash would send GET /v1/prices// to POST /v1/prices and answer 405: as if GET of a
    # ticker were not served, when it is the ticker that is missing.
    response = client.get(asked, headers=analyst.headers, follow_redirects=False)
    assert_error(response, 404, "not_found")
