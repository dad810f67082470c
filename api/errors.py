"""One JSON shape for every error the API returns, and the mapping from core's errors to statuses."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.errors import BadInput, Conflict, LimitReached, NotAllowed, NotFound, Refusal
from common.logging import get_logger, stack_only
from core.throttle import ThrottleUnavailableError
from db.engine import DATABASE_NOT_ANSWERING, database_unreachable, logged_by_scope, one_line

log = get_logger("api")


class ErrorDetail(BaseModel):
    status: int
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error response: {"error": {"status", "code", "message", "details"}}."""

    error: ErrorDetail


class ApiError(Refusal):
    """A refusal of the API's own (a missing key, a body too large), returned with its status and headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", what)


def invalid(location: str, problem: str) -> ApiError:
    """The 422 of one malformed field of the request, worded as the request's validation words its own."""
    return ApiError(
        422, "invalid_request", f"{location}: {problem}", details=[{"location": location, "message": problem}]
    )


def error_response(error: ApiError) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(status=error.status, code=error.code, message=error.message, details=error.details)
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=error.status, headers=error.headers)


# The one table from core's refusals to the API's answers: status, code, and a message of its own
# where the error's would say too much. The first class that matches wins.
REFUSALS: tuple[tuple[type[Exception], int, str, str | None], ...] = (
    (NotAllowed, 403, "forbidden", None),
    (LimitReached, 429, "quota_exceeded", None),
    (NotFound, 404, "not_found", None),
    (Conflict, 409, "conflict", None),
    (BadInput, 422, "unprocessable", None),
    (ThrottleUnavailableError, 503, "unavailable", "the rate-limit store is unreachable; try again shortly"),
    (Refusal, 400, "refused", None),
)

# Errors a request can end in without anything being wrong with the server: the transaction
# rolls back quietly, with no traceback in error.log.
EXPECTED_ERRORS = (ApiError, *(kind for kind, *_ in REFUSALS))


def from_core(error: Exception) -> ApiError | None:
    """The API's answer to an error core raises with a message meant for the user, or None for a bug."""
    if isinstance(error, ApiError):
        return error
    for kind, status, code, message in REFUSALS:
        if isinstance(error, kind):
            headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, LimitReached) else None
            return ApiError(status, code, message or str(error), headers=headers)
    return None


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the app serves at this path: its routes' (as the OpenAPI document lists them), HEAD
    beside a GET and OPTIONS (the gate answers both); none for a path no route serves."""
    methods: set[str] = set()
    for route in app.state.api_routes:
        if route.path_regex.match(path):
            methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods | {"OPTIONS"}) if methods else []


def _code_of(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def _on_expected(_request: Request, error: Exception) -> JSONResponse:
    answer = from_core(error)
    assert answer is not None
    return error_response(answer)


async def _on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names the methods of the first route whose path matched; a path served by
        # several routes (GET and POST /v1/risk) must list them all.
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    message = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if error.status_code == 404 and message == HTTPStatus.NOT_FOUND.phrase:  # the router's, not a route's own 404
        message = f"no endpoint serves {request.method} {request.url.path}; see /docs"
    return error_response(ApiError(error.status_code, _code_of(error.status_code), message, headers=headers))


async def _on_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        # A validator's own sentence, without pydantic's "Value error, " before it.
        {"location": ".".join(str(part) for part in item["loc"]), "message": item["msg"].removeprefix("Value error, ")}
        for item in error.errors()
    ]
    summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems[:5])
    return error_response(ApiError(422, "invalid_request", summary or "invalid request", details=problems))


# How long a client waits before asking again while the database does not answer.
DATABASE_RETRY_AFTER_SECONDS = 30


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    if database_unreachable(error):
        # An outage, not a bug: the client can retry, and error.log gets one line per request, no stack.
        # error.log gets one line per request: the transaction's, if its scope has written it already.
        level = logging.WARNING if logged_by_scope(error) else logging.ERROR
        failed = f"{request.method} {request.url.path} failed"
        log.log(level, "%s: the database is not answering: %s", failed, one_line(getattr(error, "orig", None) or error))
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        return error_response(ApiError(503, "unavailable", DATABASE_NOT_ANSWERING, headers=headers))
    _log_unexpected(request, error)
    return error_response(ApiError(500, "internal_error", "internal error; it has been logged"))


def _log_unexpected(request: Request, error: Exception) -> None:
    """One traceback per failure, naming the request by method and path: its query string and headers can
    carry a key or a cursor, and a driver's message the values of a row, so neither is written."""
    failed = f"{request.method} {request.url.path} failed"
    if logged_by_scope(error):
        log.error("%s: %s (logged above)", failed, one_line(getattr(error, "orig", None) or error))
    elif isinstance(error, DBAPIError):
        log.error("%s: %s", failed, one_line(error.orig or error), exc_info=stack_only(error))
    else:
        log.error(failed, exc_info=error)


class UnexpectedErrors:
    """Answers a request that failed unexpectedly with a 500 of the one shape, and ends there.

    Starlette's own last resort (an exception handler for Exception) answers and then raises again
    for the server to log; uvicorn then drops the connection without saying so, and the client's
    next request on it is reset. It wraps the middleware added before install_error_handlers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as error:
            if started:  # half a response: only closing the connection tells the client it is cut short
                raise
            response = await _on_unexpected(Request(scope), error)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    for kind in EXPECTED_ERRORS:
        app.add_exception_handler(kind, _on_expected)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_middleware(UnexpectedErrors)
    # A failure in a middleware added later, outside UnexpectedErrors, still gets the one shape from
    # Starlette's last resort, though the server then drops the connection.
    app.add_exception_handler(Exception, _on_unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with, all of shape ErrorBody."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}
