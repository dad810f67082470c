"""The FastAPI application: routes under /v1, one error shape, RateLimit-* headers, OpenAPI at /docs."""

from __future__ import annotations

import asyncio
import tempfile
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import (
    CALLER_STATE,
    RATE_LIMIT_STATE,
    check_key,
    client_address_of,
    endpoint_of,
    missing_key,
    presented_key,
    required_permissions,
)
from api.errors import (
    EXPECTED_ERRORS,
    ApiError,
    allowed_methods,
    error_response,
    from_core,
    install_error_handlers,
)
from api.frames import JSON
from api.limits import ApiLimits
from api.routes import account, forecasts, jobs, market, results
from api.routes.market import MAX_UPLOAD_BYTES
from common.config import get_settings
from core.audit import client_address
from core.auth.roles import Permission, require

# A request's whole body must arrive within this time of its key being accepted, else 408 and the
# connection closed. Generous for the JSON bodies (bytes); a 20 MB upload needs about 6 Mbit/s.
BODY_TIMEOUT_SECONDS = 30.0
# JSON bodies are a ticker and a few numbers (a portfolio has at most 20 weights): 64 kB is ample.
JSON_BODY_MAX_BYTES = 64 * 1024
UPLOAD_BODY_MAX_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024  # room for the multipart framing
# A body waiting for its slot is kept in memory up to this size, then in a temporary file: uploads
# are read without a slot, so many at once must not each hold 21 MB of memory.
BODY_IN_MEMORY_BYTES = 1024 * 1024
REPLAY_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class _RouteRules:
    """What the gate checks of a request to one route before the route sees it."""

    permissions: frozenset[Permission]
    max_body_bytes: int


def _rules_of(route: APIRoute) -> _RouteRules:
    takes_upload = route.body_field is not None and isinstance(route.body_field.field_info, params.Form)
    return _RouteRules(
        permissions=required_permissions(route.dependant),
        max_body_bytes=UPLOAD_BODY_MAX_BYTES if takes_upload else JSON_BODY_MAX_BYTES,
    )


class _Body:
    """How much of the request's body the client has sent, and whether all of it has been read."""

    def __init__(self, scope: Scope) -> None:
        headers = scope.get("headers", [])
        declared = next((value for name, value in headers if name == b"content-length"), None)
        chunked = any(name == b"transfer-encoding" for name, _ in headers)
        self.declared = int(declared) if declared is not None and declared.isdigit() else None
        self.expected = chunked or (declared is not None and self.declared != 0)
        self.received = 0
        self.complete = not self.expected


class _Gate:
    """Slots for database work, handed out in turn, except that a request coming back for its route's
    slot (its key checked, its body read) goes before those still waiting for their key check: it
    has work under way, and serving it first keeps the latency of a burst of writes that of one pass."""

    def __init__(self, size: int) -> None:
        self._free = size
        self._route_waiters: deque[asyncio.Future[None]] = deque()
        self._key_waiters: deque[asyncio.Future[None]] = deque()

    async def take(self, *, for_route: bool) -> None:
        if self._free and not self._route_waiters and not self._key_waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        queue = self._route_waiters if for_route else self._key_waiters
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give_back()  # handed a slot as it was cancelled: pass it on
            else:
                with suppress(ValueError):  # give_back may have dropped it already
                    queue.remove(waiter)
            raise

    def give_back(self) -> None:
        for queue in (self._route_waiters, self._key_waiters):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._free += 1


class _Slot:
    """One place in the gate, given back exactly once: when the answer starts, or when the request ends."""

    def __init__(self, gate: _Gate) -> None:
        self._gate = gate
        self._held = False

    async def take(self, *, for_route: bool) -> None:
        await self._gate.take(for_route=for_route)
        self._held = True

    def give_back(self) -> None:
        if self._held:
            self._held = False
            self._gate.give_back()


class ApiGate:
    """Admits each request to an endpoint in an order that keeps strangers and slow clients cheap.

    1. The key (401), its window (429) and the role the route needs (403), before any of the body is
       read: a stranger can make the API read no body, and a refused one is not parsed.
    2. The body, counted as it arrives and kept aside: past the route's limit is 413 whether declared
       or chunked, and one not all there within BODY_TIMEOUT_SECONDS is 408. The connection of a
       request answered before its body ended is closed, so the server reads no more of it.
    3. A slot of the gate, then the route. At most as many requests hold a slot as the database
       pool has connections; the rest wait here. Each sync step of a request takes a worker thread
       in turn; without the gate a burst fills every thread with requests waiting for a connection
       (or, on SQLite, the write lock) while those holding one wait for a thread: nothing moves
       until the pool or busy timeout. Waiting in the event loop holds neither.

    A slot is held only for database work: not while a body trickles in (15 stalled uploads froze
    the API), and not while the answer is sent (a client that reads slowly would hold it). So a
    route must do its database work before its answer starts, as every route here does.
    The key check takes a slot of its own, briefly: it is database work too.
    """

    def __init__(self, app: ASGIApp, limit: int, body_timeout: float = BODY_TIMEOUT_SECONDS) -> None:
        self.app = app
        self.limit = limit
        self.body_timeout = body_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = _Gate(limit)
        self._rules: dict[int, _RouteRules] = {}  # by id(route): routes are unhashable, and live as long as the app

    def _gate_of_this_loop(self) -> _Gate:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # its waiters belong to one event loop; test clients may start several
            self._loop, self._gate = loop, _Gate(self.limit)
        return self._gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = _Body(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        slot = _Slot(self._gate_of_this_loop())
        send = _answering(send, body, slot)
        route = _route_of(scope)
        if route is None and scope["method"] == "HEAD":
            # HEAD is the GET it stands for, judged, limited and counted as that GET. A copy of the scope
            # (sharing its state), as the server reads its own scope's method to send no body.
            as_get = {**scope, "method": "GET"}
            if (route := _route_of(as_get)) is not None:
                scope = as_get
        if route is None:
            # No endpoint: OPTIONS, a stray slash's redirect or the router (404, 405, the docs) answers,
            # without the key, the database or the body.
            await (_options(scope) or _stray_slash_redirect(scope) or self.app)(scope, receive, send)
            return
        spool: Any = None
        try:
            try:
                await self._check_caller(scope, route, state, slot)
                if body.expected:
                    slot.give_back()
                    spool = await self._read_body(receive, body, self._rules_for(route).max_body_bytes)
                    if spool is None:
                        return  # the client went away
                    receive = _replaying(spool, body.received, receive)
                    await slot.take(for_route=True)
            except EXPECTED_ERRORS as error:
                answer = from_core(error)
                assert answer is not None
                await error_response(answer)(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            slot.give_back()
            if spool is not None:
                spool.close()

    async def _check_caller(self, scope: Scope, route: APIRoute, state: dict[str, Any], slot: _Slot) -> None:
        """The key, its window and the route's role; leaves the caller and its RateLimit-* headers in `state`."""
        if presented_key(scope) is None:
            raise missing_key()  # no database work: no slot
        await slot.take(for_route=False)
        caller = await run_in_threadpool(
            check_key, scope, endpoint_of(scope["method"], route), scope["app"].state.limits
        )
        state[CALLER_STATE] = caller
        for permission in self._rules_for(route).permissions:
            require(caller.actor, permission)

    def _rules_for(self, route: APIRoute) -> _RouteRules:
        rules = self._rules.get(id(route))
        if rules is None:
            rules = self._rules[id(route)] = _rules_of(route)
        return rules

    async def _read_body(self, receive: Receive, body: _Body, max_bytes: int) -> Any:
        """The whole body in a spooled file, or None if the client left; ApiError 413 or 408 as it says."""
        too_large = ApiError(413, "too_large", f"the request body is over {_size(max_bytes)}")
        if body.declared is not None and body.declared > max_bytes:
            raise too_large
        spool = tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY_BYTES)  # noqa: SIM115 - closed by the caller
        try:
            async with asyncio.timeout(self.body_timeout):
                while not body.complete:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        spool.close()
                        return None
                    chunk = message.get("body", b"")
                    body.received += len(chunk)
                    if body.received > max_bytes:
                        raise too_large
                    spool.write(chunk)
                    body.complete = not message.get("more_body", False)
        except TimeoutError:
            spool.close()
            raise ApiError(
                408, "request_timeout", f"the request body did not arrive within {self.body_timeout:g} s"
            ) from None
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


def _route_of(scope: Scope) -> APIRoute | None:
    """The endpoint the router will run for this request, as it picks one: the first full match."""
    for route in scope["app"].state.api_routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
    return None


def _options(scope: Scope) -> Response | None:
    """OPTIONS on a path some endpoint serves: 204 naming its methods, as its 405 would, without the key
    (nothing is read or done); a CORS preflight gets no Access-Control-* header, so browsers stay out."""
    if scope["method"] != "OPTIONS":
        return None
    methods = allowed_methods(scope["app"], scope["path"])
    return Response(status_code=204, headers={"Allow": ", ".join(methods)}) if methods else None


def _stray_slash_redirect(scope: Scope) -> Response | None:
    """A 307 to the path without its trailing slash when something serves that path: relative, since the
    scheme and host this process sees are not the client's behind a proxy ending TLS."""
    path = scope["path"]
    if path == "/" or not path.endswith("/"):
        return None
    # One slash only: /v1/prices// lacks a ticker, and is not GET /v1/prices (which is not served).
    target = {**scope, "path": path.removesuffix("/")}
    if not any(route.matches(target)[0] is not Match.NONE for route in scope["app"].router.routes):
        return None
    url = URL(scope=target)
    return RedirectResponse(url.path + (f"?{url.query}" if url.query else ""), status_code=307)


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} kB"


def _answering(send: Send, body: _Body, slot: _Slot) -> Send:
    """`send`, giving the slot back as the answer starts, with Connection: close when the body was not
    read to its end: else the server would go on reading the rest of it, however long."""

    async def send_answer(message: Message) -> None:
        if message["type"] == "http.response.start":
            slot.give_back()
            headers = list(message.get("headers", []))
            if not body.complete and not any(name.lower() == b"connection" for name, _ in headers):
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return send_answer


def _replaying(spool: Any, size: int, receive: Receive) -> Receive:
    """A receive giving the app the body read before, then whatever the server says next (a disconnect)."""
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = spool.read(REPLAY_CHUNK_BYTES)
        done = spool.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


class RateLimitHeaders:
    """Copies the RateLimit-* headers the key check worked out onto whatever answer follows, a 500 included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(RATE_LIMIT_STATE)
                if extra:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    message["headers"] = list(message.get("headers", [])) + [
                        (name.lower().encode(), value.encode())
                        for name, value in extra.items()
                        if name.lower().encode() not in present
                    ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ClientAddress:
    """Every audit row a request writes carries the caller's address, as on the app's pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with client_address(client_address_of(scope)):
            await self.app(scope, receive, send)


def _document_common_refusals(app: FastAPI) -> None:
    """Every operation can be answered 422 (a query parameter it does not take: versioned_router), one
    taking a body 408 (too slow) or 413 (too large) by the gate, and one taking JSON 415 (another media
    type: JsonBodyRoute)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict):
                    continue
                refusals = [("422", "Unprocessable Content")]
                if "requestBody" in operation:
                    refusals += [("408", "Request Timeout"), ("413", "Content Too Large")]
                if JSON in operation.get("requestBody", {}).get("content", {}):
                    refusals.append(("415", "Unsupported Media Type"))
                for status, description in refusals:
                    operation["responses"].setdefault(status, {"description": description, "content": error_body})
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(*, limits: ApiLimits | None = None, body_timeout: float = BODY_TIMEOUT_SECONDS) -> FastAPI:
    """A new app; limits per key and endpoint default to ApiLimits(), a body must arrive within body_timeout s."""
    app = FastAPIOffline(
        title="Candlecast API",
        redirect_slashes=False,  # the gate redirects a stray slash itself, relatively (_stray_slash_redirect)
        version="1.0.0",
        description=(
            "Prices, indicators, forecasts, the prediction ledger, training jobs and results of Candlecast. "
            "Authenticate with an API key from the Account page: `Authorization: Bearer cc_...`. "
            'Errors are `{"error": {"status", "code", "message", "details"}}`; '
            "every answer of an endpoint to a valid key carries `RateLimit-Limit`, `RateLimit-Remaining` and "
            "`RateLimit-Reset` (none while the limit store is unreachable), and a 429 also `Retry-After`. "
            f"A request body must arrive within {BODY_TIMEOUT_SECONDS:g} s (else 408) and stay within "
            f"{_size(JSON_BODY_MAX_BYTES)} of JSON or {_size(UPLOAD_BODY_MAX_BYTES)} of upload (else 413)."
        ),
    )
    app.state.limits = limits or ApiLimits()
    settings = get_settings()
    # Added first, so innermost: inside whatever the error handlers wrap around the app, a failing
    # key check is answered as a failing route is.
    app.add_middleware(ApiGate, limit=settings.db_pool_size + settings.db_max_overflow, body_timeout=body_timeout)
    install_error_handlers(app)
    routers = [module.router for module in (market, forecasts, jobs, results, account)]
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    _document_common_refusals(app)
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(ClientAddress)
    return app
