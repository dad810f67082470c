"""The API's routes, one module per area; each route calls one core function.

Each router carries the version prefix itself: the route's own path is then the full template
("GET /v1/prices/{ticker}") that limits and usage are counted under. A route taking a JSON body
reads it here (JsonBodyRoute) before FastAPI would, to refuse what FastAPI lets through or words badly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, params
from fastapi.routing import APIRoute

from api.deps import known_query_parameters
from api.errors import ApiError, invalid
from api.frames import JSON
from core.results import DEFAULT_LIMIT, MAX_LIMIT

VERSION_PREFIX = "/v1"
LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"at most this many, newest first ({DEFAULT_LIMIT} unless asked)"),
]
# A Content-Type is quoted back in a 415 up to this length: a header is the client's text, of any size.
QUOTED_MEDIA_TYPE_LENGTH = 80


def versioned_router(tag: str) -> APIRouter:
    """A router of /v1 routes, each refusing query parameters it does not take (after the key check)."""
    return APIRouter(
        prefix=VERSION_PREFIX,
        tags=[tag],
        dependencies=[Depends(known_query_parameters)],
        route_class=JsonBodyRoute,
    )


class JsonBodyRoute(APIRoute):
    """A route whose JSON body is judged before FastAPI reads it, after the gate's key, role and size checks.

    FastAPI answers a body it cannot decode with a 400 "There was an error parsing the body" (bad UTF-8,
    deep nesting) or a 422 at "body.1" (a character offset), reads JSON sent as text/plain as a string
    ("Input should be a valid dictionary"), and keeps the last of a key given twice. Here each is one
    answer naming the problem: 415 for another media type, 422 at "body" or at the key given twice.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None or isinstance(self.body_field.field_info, params.Form):
            return handle

        async def handle_json(request: Request) -> Response:
            request = _JudgedJsonRequest(request.scope, request.receive)
            # No body at all is left to the route's validation: "body: Field required".
            if await request.body():
                _refuse_other_media_types(request.headers.get("content-type"))
                await request.json()
            return await handle(request)

        return handle_json


class _JudgedJsonRequest(Request):
    """A request whose JSON body is decoded by json_body, once: FastAPI's own reading then gets the same value."""

    async def json(self) -> Any:
        if not hasattr(self, "_judged_json"):
            self._judged_json = json_body(await self.body())
        return self._judged_json


def _refuse_other_media_types(content_type: str | None) -> None:
    """ApiError 415 unless the body is labelled JSON: application/json or a +json type, in any case."""
    media_type = (content_type or "").split(";", 1)[0].strip()
    kind, _, subtype = media_type.lower().partition("/")
    if kind == "application" and (subtype == "json" or subtype.endswith("+json")):
        return
    if not media_type:
        sent = "no Content-Type was given"
    elif len(media_type) > QUOTED_MEDIA_TYPE_LENGTH:
        sent = f"not {media_type[:QUOTED_MEDIA_TYPE_LENGTH]}…"
    else:
        sent = f"not {media_type}"
    raise ApiError(415, "unsupported_media_type", f"send the body as JSON, with Content-Type: {JSON} ({sent})")


class _RepeatedKeys(dict):
    """An object of the body with a key given more than once; the decoded dict keeps the last value of each."""

    repeated: list[str]


def json_body(body: bytes) -> Any:
    """The value of a JSON body; ApiError 422 saying where it is not valid JSON, or naming each key given twice.

    Read in the encoding RFC 8259 allows a body to be detected in (UTF-8, or UTF-16/32 by their byte
    pattern), as FastAPI reads it.
    """
    encoding = json.detect_encoding(body)
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = _line_and_column(body[: error.start].decode(encoding, errors="replace"))
        raise _not_json(f"line {line}, column {column}: not {encoding.upper().removesuffix('-SIG')} text") from None
    found_repeats = False

    def object_of(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found_repeats
        decoded = dict(pairs)
        if len(decoded) == len(pairs):
            return decoded
        found_repeats = True
        seen: set[str] = set()
        repeated = _RepeatedKeys(decoded)
        repeated.repeated = []
        for key, _ in pairs:
            if key in seen and key not in repeated.repeated:
                repeated.repeated.append(key)
            seen.add(key)
        return repeated

    try:
        value = json.loads(text, object_pairs_hook=object_of)
    except json.JSONDecodeError as error:
        # "Unterminated string starting at", "Invalid control character at": the line and column say where.
        reason = error.msg.removesuffix(" at").removesuffix(" starting")
        raise _not_json(f"line {error.lineno}, column {error.colno}: {reason[:1].lower()}{reason[1:]}") from None
    except RecursionError:
        raise _not_json("nested too deeply") from None
    if found_repeats:
        raise _repeated_keys(value)
    return value


def _line_and_column(before: str) -> tuple[int, int]:
    """The 1-based line and column of the character after `before`, as json's own errors count them."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _not_json(where: str) -> ApiError:
    return invalid("body", f"not valid JSON ({where})")


def _repeated_keys(value: Any) -> ApiError:
    """The 422 naming every key given twice, where it is ("body.weights.MSFT"), in the body's order."""
    locations = []
    stack: list[tuple[str, Any]] = [("body", value)]
    while stack:  # not recursive: a body may be nested as deep as json reads
        location, item = stack.pop()
        if isinstance(item, _RepeatedKeys):
            locations += [f"{location}.{key}" for key in item.repeated]
        children = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        stack += reversed([(f"{location}.{name}", child) for name, child in children])
    problems = [{"location": location, "message": "given more than once"} for location in locations]
    return ApiError(422, "invalid_request", f"{locations[0]}: given more than once", details=problems)
