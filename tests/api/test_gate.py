"""The gate in front of the endpoints, against a real server: bodies that stall or never end cost no slot,
are cut off at the route's limit whether declared or chunked, and get 408 when too slow."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest

from api.app import create_app
from api.routes.market import MAX_UPLOAD_BYTES
from common.config import get_settings
from tests.api.conftest import GENEROUS, User
from tests.api.live import serve

MB = 1024 * 1024
JSON_LIMIT = 64 * 1024  # as the README says: a JSON body of at most 64 kB
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + MB  # and an upload of 20 MB with its multipart framing
# What a client can push into loopback socket buffers before the server's refusal stops it.
SOCKET_SLACK = 16 * MB


def gate_size() -> int:
    settings = get_settings()
    return settings.db_pool_size + settings.db_max_overflow


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def stalled_post(port: int, user: User | None = None, path: str = "/v1/predictions") -> socket.socket:
    """A POST declaring 1,000 bytes of JSON and sending one."""
    auth = f"Authorization: Bearer {user.key}\r\n" if user else ""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n{".encode()
    )
    return sock


def answer_of(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends on the socket until it closes it (or the timeout)."""
    sock.settimeout(timeout)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


@contextmanager
def stalled(port: int, count: int, user: User | None = None) -> Iterator[list[socket.socket]]:
    sockets = [stalled_post(port, user) for _ in range(count)]
    try:
        time.sleep(0.5)  # every one of them is inside the server
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def timed_get(base_url: str, user: User) -> tuple[int, float]:
    started = time.monotonic()
    response = httpx2.get(f"{base_url}/v1/tickers", headers=user.headers, timeout=5)
    return response.status_code, time.monotonic() - started


def test_stalled_bodies_without_a_key_are_refused_at_once_and_hold_no_slot(committing_database, analyst):
    with serve(create_app(limits=GENEROUS)) as base_url, stalled(port_of(base_url), gate_size() + 1) as sockets:
        status, seconds = timed_get(base_url, analyst)
        assert status == 200
        assert seconds < 3
        for sock in sockets:
            answer = answer_of(sock, timeout=3)
            assert answer.startswith(b"HTTP/1.1 401 "), answer[:100]
            assert b"connection: close" in answer.lower()


def test_stalled_bodies_with_a_valid_key_hold_no_slot(committing_database, analyst):
    with serve(create_app(limits=GENEROUS)) as base_url, stalled(port_of(base_url), gate_size() + 1, analyst):
        status, seconds = timed_get(base_url, analyst)
    assert status == 200
    assert seconds < 3


def test_a_body_not_all_there_in_time_gets_408_and_the_connection_closed(committing_database, analyst):
    with serve(create_app(limits=GENEROUS, body_timeout=1.0)) as base_url, stalled(port_of(base_url), 2, analyst) as s:
        started = time.monotonic()
        answers = [answer_of(sock, timeout=6) for sock in s]
        seconds = time.monotonic() - started
    assert seconds < 4
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), answer[:100]
        assert b"connection: close" in head.lower()
        assert b"ratelimit-remaining" in head.lower()
        assert b'"code":"request_timeout"' in body


class Counted:
    """A chunked request body of `total` bytes after `head`, counting what the client managed to send."""

    def __init__(self, head: bytes, total: int, chunk: bytes, tail: bytes = b"") -> None:
        self.head, self.total, self.chunk, self.tail = head, total, chunk, tail
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk
        yield self.tail


def post_counted(url: str, body: Counted, headers: dict[str, str]) -> int | None:
    """The status the server answered with, or None if it closed the connection before the client read one."""
    try:
        return httpx2.post(url, content=iter(body), headers=headers, timeout=30).status_code
    except httpx2.TransportError:
        return None


def json_body(megabytes: int) -> Counted:
    return Counted(b'{"ticker": "^GSPC", "pad": "', megabytes * MB, b"a" * MB, b'"}')


def multipart_body(megabytes: int) -> Counted:
    head = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\nContent-Type: text/csv\r\n\r\n'
        b"Date,Open,High,Low,Close,Adj Close,Volume\n"
    )
    return Counted(head, megabytes * MB, b"2024-01-02,1,2,0.5,1.5,1.5,100\n" * 32768, b"\r\n--B--\r\n")


JSON = {"Content-Type": "application/json"}
MULTIPART = {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize(
    ("path", "make", "headers"),
    [("/v1/predictions", json_body, JSON), ("/v1/prices", multipart_body, MULTIPART)],
    ids=["json", "upload"],
)
def test_a_chunked_body_without_a_key_is_not_read(committing_database, path, make, headers):
    body = make(64)
    with serve(create_app(limits=GENEROUS)) as base_url:
        status = post_counted(base_url + path, body, headers)
    assert status in (401, None)
    assert body.sent < SOCKET_SLACK


@pytest.mark.parametrize(
    ("path", "make", "headers", "limit"),
    [
        ("/v1/predictions", json_body, JSON, JSON_LIMIT),
        ("/v1/prices", multipart_body, MULTIPART, UPLOAD_LIMIT),
    ],
    ids=["json", "upload"],
)
def test_a_chunked_body_is_cut_off_at_the_routes_limit_with_413(
    committing_database, analyst, path, make, headers, limit
):
    body = make(96)
    with serve(create_app(limits=GENEROUS)) as base_url:
        status = post_counted(base_url + path, body, headers | analyst.headers)
    assert status in (413, None)
    assert body.sent < limit + SOCKET_SLACK


def test_a_declared_body_over_the_limit_gets_413_before_it_is_sent(committing_database, analyst):
    with serve(create_app(limits=GENEROUS)) as base_url:
        sock = socket.create_connection(("127.0.0.1", port_of(base_url)))
        sock.sendall(
            f"POST /v1/prices HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {analyst.key}\r\n"
            f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {10**9}\r\n\r\n".encode()
        )
        answer = answer_of(sock, timeout=5)
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), answer[:100]
    assert b"connection: close" in head.lower()
    assert b"ratelimit-limit" in head.lower()
    assert b'"code":"too_large"' in body


def test_a_client_that_reads_its_answer_slowly_holds_no_slot(committing_database, analyst):
    """The slot is given back as the answer starts: sending it is no database work."""

    def scope_of(path: str) -> dict:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"test"), (b"authorization", f"Bearer {analyst.key}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run() -> list[int]:
        app = create_app(limits=GENEROUS)
        never = asyncio.Event()

        async def stuck_send(message: dict) -> None:
            if message["type"] == "http.response.body":
                await never.wait()  # a client that never reads its answer

        stuck = [asyncio.create_task(app(scope_of("/v1/tickers"), receive, stuck_send)) for _ in range(gate_size() + 1)]
        statuses: list[int] = []

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        try:
            await asyncio.wait_for(app(scope_of("/v1/ledger"), receive, send), timeout=10)
        finally:
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        return statuses

    assert asyncio.run(run()) == [200]


def test_the_gate_serves_requests_back_for_their_route_first_and_loses_no_slot_to_a_cancelled_waiter():
    from api.app import _Gate

    async def run() -> list[str]:
        gate = _Gate(1)
        served: list[str] = []
        await gate.take(for_route=False)

        async def wait(name: str, for_route: bool) -> None:
            await gate.take(for_route=for_route)
            served.append(name)
            gate.give_back()

        key_check = asyncio.create_task(wait("key check", False))
        cancelled = asyncio.create_task(wait("cancelled", True))
        route = asyncio.create_task(wait("route", True))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        gate.give_back()
        await asyncio.gather(key_check, route, cancelled, return_exceptions=True)
        await gate.take(for_route=False)  # the one slot is free again
        return served

    assert asyncio.run(run()) == ["route", "key check"]


def test_a_failing_key_check_is_a_500_of_the_one_shape_and_gives_its_slot_back(
    committing_database, analyst, monkeypatch
):
    from fastapi.testclient import TestClient

    import api.deps
    from db.engine import reset_engine
    from tests.api.conftest import assert_error

    monkeypatch.setenv("DB_POOL_SIZE", "1")
    monkeypatch.setenv("DB_MAX_OVERFLOW", "0")
    get_settings.cache_clear()
    reset_engine()
    real = api.deps.authenticate_key

    def broken(**_kwargs):
        raise RuntimeError("the key table is unreadable")

    with TestClient(create_app(limits=GENEROUS), raise_server_exceptions=False) as client:
        monkeypatch.setattr(api.deps, "authenticate_key", broken)
        assert_error(client.get("/v1/tickers", headers=analyst.headers), 500, "internal_error")
        monkeypatch.setattr(api.deps, "authenticate_key", real)
        assert client.get("/v1/tickers", headers=analyst.headers).status_code == 200  # the one slot is free
