"""One JSON shape for every error the API returns, and the mapping from core's errors to statuses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.logging import get_logger
from core.actions import ActionLimitedError
from core.analysis import AnalysisError
from core.auth.roles import PermissionDeniedError
from core.forecasting.registry import RegistryError
from core.jobs import JobError
from core.predictions import PredictionError
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


class ApiError(Exception):
    """An error with a user-facing message, returned as ErrorBody with its status and headers."""

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


def from_core(error: Exception) -> ApiError | None:
    """The API's answer to an error core raises with a message meant for the user, or None for a bug."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, PermissionDeniedError):
        return ApiError(403, "forbidden", str(error))
    if isinstance(error, ActionLimitedError):
        return ApiError(429, "quota_exceeded", str(error), headers={"Retry-After": str(error.retry_after_seconds)})
    if isinstance(error, PredictionError | RegistryError | JobError):
        return ApiError(404, "not_found", str(error))
    if isinstance(error, AnalysisError):
        return ApiError(422, "unprocessable", str(error))
    if isinstance(error, ThrottleUnavailableError):
        return ApiError(503, "unavailable", "the rate-limit store is unreachable; try again shortly")
    return None


# Errors a request can end in without anything being wrong with the server: the transaction
# rolls back quietly, with no traceback in error.log.
EXPECTED_ERRORS = (
    ApiError,
    PermissionDeniedError,
    ActionLimitedError,
    PredictionError,
    RegistryError,
    JobError,
    AnalysisError,
    ThrottleUnavailableError,
)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of the app serves at this path, as the OpenAPI document lists them."""
    methods: set[str] = set()
    for route in app.state.api_routes:
        if route.path_regex.match(path):
            methods |= route.methods - {"HEAD"}
    return sorted(methods)


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
    return error_response(ApiError(error.status_code, _code_of(error.status_code), message, headers=headers))


async def _on_invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        {"location": ".".join(str(part) for part in item["loc"]), "message": item["msg"]} for item in error.errors()
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
