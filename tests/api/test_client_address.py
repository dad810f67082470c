"""The address the audit log records for API requests: X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from common.config import PROJECT_ROOT, get_settings
from db.engine import session_scope
from db.models import AuditLog
from tests.api.conftest import GENEROUS, User, unique_ticker
from tests.fixtures import gspc_2018_bytes

SPOOFED = "6.6.6.6"


def audit_ips(user: User, action: str) -> list[str | None]:
    with session_scope() as session:
        query = select(AuditLog.ip).where(AuditLog.user_id == user.actor.user_id, AuditLog.action == action)
        return list(session.scalars(query.order_by(AuditLog.at)))


def client_from(peer: str) -> TestClient:
    return TestClient(create_app(limits=GENEROUS), client=(peer, 50000))


def upload_and_train(client: TestClient, user: User, forwarded_for: str) -> None:
    """An upload (its address passed along) and a queued training (its address taken from the request's context)."""
    ticker = unique_ticker()
    headers = user.headers | {"X-Forwarded-For": forwarded_for}
    response = client.post(
        "/v1/prices",
        headers=headers,
        files={"file": ("prices.csv", gspc_2018_bytes(), "text/csv")},
        data={"ticker": ticker},
    )
    assert response.status_code == 201, response.text
    response = client.post("/v1/jobs/training", json={"ticker": ticker}, headers=headers)
    assert response.status_code == 202, response.text


@pytest.mark.usefixtures("committing_database", "queued_jobs")
def test_without_trusted_proxies_the_forwarded_header_is_ignored(analyst):
    with client_from("127.0.0.1") as client:
        upload_and_train(client, analyst, SPOOFED)
    assert audit_ips(analyst, "upload") == ["127.0.0.1"]
    assert audit_ips(analyst, "train") == ["127.0.0.1"]


@pytest.mark.usefixtures("committing_database", "queued_jobs")
def test_behind_a_trusted_proxy_the_first_untrusted_hop_from_the_right_is_recorded(analyst, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8")
    get_settings.cache_clear()
    # The client claims 6.6.6.6; the proxy appended the address it really saw.
    with client_from("10.0.0.2") as client:
        upload_and_train(client, analyst, f"{SPOOFED}, 203.0.113.9")
    assert audit_ips(analyst, "upload") == ["203.0.113.9"]
    assert audit_ips(analyst, "train") == ["203.0.113.9"]


@pytest.mark.usefixtures("committing_database", "queued_jobs")
def test_behind_a_trusted_proxy_every_forwarded_line_is_read(analyst, monkeypatch):
    # HAProxy's `option forwardfor` adds a line of its own; the first line is whatever the client sent.
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5")
    get_settings.cache_clear()
    headers = [*analyst.headers.items(), ("X-Forwarded-For", SPOOFED), ("X-Forwarded-For", "203.0.113.7")]
    with client_from("10.0.0.5") as client:
        response = client.post(
            "/v1/prices",
            headers=headers,
            files={"file": ("prices.csv", gspc_2018_bytes(), "text/csv")},
            data={"ticker": unique_ticker()},
        )
    assert response.status_code == 201, response.text
    assert audit_ips(analyst, "upload") == ["203.0.113.7"]


@pytest.mark.usefixtures("committing_database", "queued_jobs")
@pytest.mark.parametrize(
    ("hop", "recorded"), [("203.0.113.7:51234", "203.0.113.7"), ("[2001:db8::7]:443", "2001:db8::7")]
)
def test_a_forwarded_address_with_a_port_is_the_client_not_the_proxy(analyst, monkeypatch, hop, recorded):
    # Azure Application Gateway and IIS ARR write the client's port: every client read as the proxy before.
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5")
    get_settings.cache_clear()
    with client_from("10.0.0.5") as client:
        response = client.post(
            "/v1/prices",
            headers=analyst.headers | {"X-Forwarded-For": hop},
            files={"file": ("prices.csv", gspc_2018_bytes(), "text/csv")},
            data={"ticker": unique_ticker()},
        )
    assert response.status_code == 201, response.text
    assert audit_ips(analyst, "upload") == [recorded]


@pytest.fixture
def served_api(committing_database, queued_jobs) -> Iterator[str]:
    """`python -m api` as deployed, on a free loopback port, with TRUSTED_PROXIES unset."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {name: value for name, value in os.environ.items() if name != "TRUSTED_PROXIES"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx2.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("python -m api did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_served_api_does_not_take_the_forwarded_header_from_loopback(served_api, analyst):
    # uvicorn's default trusts X-Forwarded-For from 127.0.0.1, where a local proxy, or anyone on the machine, sits.
    response = httpx2.post(
        f"{served_api}/v1/prices",
        headers=analyst.headers | {"X-Forwarded-For": SPOOFED},
        files={"file": ("prices.csv", gspc_2018_bytes(), "text/csv")},
        data={"ticker": unique_ticker()},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert audit_ips(analyst, "upload") == ["127.0.0.1"]
