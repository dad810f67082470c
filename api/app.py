"""The FastAPI application: routes under /v1, one error shape, RateLimit-* headers, OpenAPI at /docs."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import client_address_of
from api.errors import ApiError, error_response, install_error_handlers
from api.limits import ApiLimits
from api.routes import account, forecasts, jobs, market, results
from api.routes.market import MAX_UPLOAD_BYTES
from common.config import get_settings
from core.audit import client_address


class ConcurrencyLimit:
    """At most as many requests inside the app as the database pool has connections; the rest wait here.

    Each sync step of a request (dependencies, route, commit) takes a worker thread in turn. Without
    this gate, a burst fills every thread with requests waiting for a connection (or, on SQLite, for
    the write lock) while the requests that hold one wait for a thread to finish on: nothing moves
    until the pool or busy timeout. Waiting in the event loop holds neither a thread nor a connection.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a semaphore belongs to one event loop; test clients may start several
            self._loop, self._gate = loop, asyncio.Semaphore(self.limit)
        async with self._gate:
            await self.app(scope, receive, send)


class ClientAddress:
    """Every audit row a request writes carries the caller's address, as on the app's pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with client_address(client_address_of(scope)):
            await self.app(scope, receive, send)


class BodySizeLimit:
    """Refuses (413) a request whose declared body is over the limit before anything reads or spools it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
            if not declared.isdigit() or int(declared) > self.max_bytes:
                limit_mb = self.max_bytes // (1024 * 1024)
                refusal = error_response(ApiError(413, "too_large", f"the request body is over {limit_mb} MB"))
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RateLimitHeaders:
    """Copies the RateLimit-* headers the authentication step worked out onto whatever response follows."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get("rate_limit_headers")
                if extra:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    message["headers"] = list(message.get("headers", [])) + [
                        (name.lower().encode(), value.encode())
                        for name, value in extra.items()
                        if name.lower().encode() not in present
                    ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(*, limits: ApiLimits | None = None) -> FastAPI:
    """A new app; limits per key and endpoint default to ApiLimits()."""
    app = FastAPIOffline(
        title="Candlecast API",
        version="1.0.0",
        description=(
            "Prices, indicators, forecasts, the prediction ledger, training jobs and results of Candlecast. "
            "Authenticate with an API key from the Account page: `Authorization: Bearer cc_...`. "
            'Errors are `{"error": {"status", "code", "message", "details"}}`; '
            "every response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, "
            "and a 429 also `Retry-After`."
        ),
    )
    app.state.limits = limits or ApiLimits()
    install_error_handlers(app)
    routers = [module.router for module in (market, forecasts, jobs, results, account)]
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    app.add_middleware(RateLimitHeaders)
    app.add_middleware(ClientAddress)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_UPLOAD_BYTES + 1024 * 1024)  # room for the multipart framing
    settings = get_settings()
    app.add_middleware(ConcurrencyLimit, limit=settings.db_pool_size + settings.db_max_overflow)
    return app
