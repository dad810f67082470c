"""One JSON shape for every error the API returns, and the mapping from core's errors to statuses."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.convertors import UUIDConvertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.errors import BadInput, LimitReached, NotAllowed, NotFound, Refusal
from common.logging import get_logger
from core.throttle import ThrottleUnavailableError

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
    """Every method some route of the app serves at this path, as the OpenAPI document lists them."""
    methods: set[str] = set()
    for route in app.state.api_routes:
        if route.path_regex.match(path):
            methods |= route.methods - {"HEAD"}
    return sorted(methods)


def unserved(app: FastAPI, method: str, path: str) -> str:
    """Why no route matched: the path, and which id it gave that is not a UUID where a route takes one."""
    for route in app.state.api_routes:
        # The route's template with any value in each {parameter}: a match means a parameter was malformed.
        loose = re.sub(r"\{(\w+)(:\w+)?\}", r"(?P<\1>[^/]+)", route.path)
        uuids = [name for name, kind in route.param_convertors.items() if isinstance(kind, UUIDConvertor)]
        if uuids and re.fullmatch(loose, path):
            names = " and ".join(uuids)
            return f"no endpoint serves {method} {path}: {names} must be a UUID; see /docs"
    return f"no endpoint serves {method} {path}; see /docs"


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
        message = unserved(request.app, request.method, request.url.path)
    return error_response(ApiError(error.status_code, _code_of(error.status_code), message, headers=headers))


async def _on_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        # A validator's own sentence, without pydantic's "Value error, " before it.
        {"location": ".".join(str(part) for part in item["loc"]), "message": item["msg"].removeprefix("Value error, ")}
        for item in error.errors()
    ]
    summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems[:5])
    return error_response(ApiError(422, "invalid_request", summary or "invalid request", details=problems))


async def _on_unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(ApiError(500, "internal_error", "internal error; it has been logged"))


def install_error_handlers(app: FastAPI) -> None:
    for kind in EXPECTED_ERRORS:
        app.add_exception_handler(kind, _on_expected)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_invalid)
    app.add_exception_handler(Exception, _on_unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with, all of shape ErrorBody."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}
