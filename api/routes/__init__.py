"""The API's routes, one module per area; each route calls one core function.

Each router carries the version prefix itself: the route's own path is then the full template
("GET /v1/prices/{ticker}") that limits and usage are counted under.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import known_query_parameters
from core.results import DEFAULT_LIMIT, MAX_LIMIT

VERSION_PREFIX = "/v1"
LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"at most this many, newest first ({DEFAULT_LIMIT} unless asked)"),
]


def versioned_router(tag: str) -> APIRouter:
    """A router of /v1 routes, each refusing query parameters it does not take (after the key check)."""
    return APIRouter(prefix=VERSION_PREFIX, tags=[tag], dependencies=[Depends(known_query_parameters)])
