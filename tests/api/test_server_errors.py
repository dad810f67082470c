"""A request the server fails answers 500 in the one error shape, logged once, and the connection lives on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text

from api.app import create_app
from db.engine import get_engine
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


def on_its_connection(response: httpx.Response) -> httpx.Response:
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
            httpx.Client(base_url=base, headers=analyst.headers, event_hooks=hooks) as client,
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
