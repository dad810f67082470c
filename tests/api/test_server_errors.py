"""A request the server fails answers 500 in the one error shape, logged once, and the connection lives on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from common.config import get_settings
from db.engine import DATABASE_NOT_ANSWERING, get_engine, reset_engine
from tests.api.conftest import GENEROUS, assert_error
from tests.api.live import serve


@contextmanager
def table_gone(name: str) -> Iterator[None]:
    """The table is missing until the block ends, as after a failed migration or a restore gone wrong."""
    with get_engine().begin() as connection:
        connection.execute(text(f"ALTER TABLE {name} RENAME TO {name}_gone"))
    try:
        yield
    finally:
        with get_engine().begin() as connection:
            connection.execute(text(f"ALTER TABLE {name}_gone RENAME TO {name}"))


def on_its_connection(response: httpx2.Response) -> httpx2.Response:
    """The response, marked with the client's end of the connection it came on (read while that is open)."""
    response.extensions["client_addr"] = response.extensions["network_stream"].get_extra_info("client_addr")
    return response


@pytest.mark.parametrize(
    ("table", "path"),
    [("risk_metrics", "/v1/risk"), ("api_key_usage", "/v1/tickers")],
    ids=["in-the-route", "in-the-key-check"],
)
def test_a_failed_request_answers_500_and_the_next_one_on_the_same_connection_is_served(
    committing_database, queued_jobs, analyst, caplog, table, path
):
    # uvicorn's own logger does not reach the root logger: listen to it too, to count every traceback.
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(caplog.handler)
    try:
        hooks = {"response": [on_its_connection]}
        with (
            serve(create_app(limits=GENEROUS)) as base,
            httpx2.Client(base_url=base, headers=analyst.headers, event_hooks=hooks) as client,
        ):
            assert client.get("/v1/tickers").status_code == 200
            with table_gone(table):
                failed = client.get(path)
            served = client.get("/v1/tickers")
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    error = assert_error(failed, 500, "internal_error")
    assert error["details"] is None
    assert failed.headers.get("connection", "").lower() != "close"
    assert served.status_code == 200, served.text
    assert served.extensions["client_addr"] == failed.extensions["client_addr"], "the 500 dropped the connection"

    logged = [caplog.handler.format(record) for record in caplog.records if record.levelno >= logging.ERROR]
    assert any(f"GET {path}" in entry for entry in logged), logged
    tracebacks = [entry for entry in logged if 'File "' in entry]
    assert len(tracebacks) == 1, "the failure is logged once with its traceback"
    assert table in tracebacks[0]
    # The key the request carried, and the statement's parameters (values of rows), stay out of the log.
    assert not [entry for entry in logged if analyst.key in entry or "[parameters:" in entry]


@pytest.mark.parametrize(
    ("table", "path"),
    [("risk_metrics", "/v1/risk"), ("api_key_usage", "/v1/tickers")],
    ids=["in-the-route", "after-the-count-in-the-key-check"],
)
def test_a_500_carries_the_ratelimit_headers_of_the_window_that_counted_it(client, analyst, table, path):
    with table_gone(table):
        failed = client.get(path, headers=analyst.headers)
    assert_error(failed, 500, "internal_error")
    assert failed.headers["RateLimit-Limit"] == str(GENEROUS.for_endpoint("GET", f"GET {path}").amount)
    assert failed.headers["RateLimit-Remaining"] == str(GENEROUS.for_endpoint("GET", f"GET {path}").amount - 1)
    assert int(failed.headers["RateLimit-Reset"]) >= 1


def test_a_database_that_does_not_answer_is_a_503_in_the_pages_words_logged_in_one_line(
    queued_jobs, monkeypatch, caplog
):
    # Nothing listens on port 1: every connection is refused, as in an outage.
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@127.0.0.1:1/x")
    get_settings.cache_clear()
    reset_engine()
    key = "cc_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    with caplog.at_level(logging.INFO), TestClient(create_app(limits=GENEROUS)) as client:
        answers = [client.get("/v1/tickers", headers={"Authorization": f"Bearer {key}"}) for _ in range(2)]
    for answer in answers:
        error = assert_error(answer, 503, "unavailable")
        assert error["message"] == DATABASE_NOT_ANSWERING
        assert int(answer.headers["Retry-After"]) >= 1
    logged = [caplog.handler.format(record) for record in caplog.records if record.levelno >= logging.WARNING]
    assert any("GET /v1/tickers" in entry and "not answering" in entry for entry in logged), logged
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == len(answers), "error.log has one line a request"
    assert not [entry for entry in logged if 'File "' in entry or "Traceback" in entry], logged
    assert not [entry for entry in logged if key in entry or "pw@" in entry], logged
    reset_engine()
