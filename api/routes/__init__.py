"""The API's routes, one module per area; each route calls one core function.

Each router carries the version prefix itself: the route's own path is then the full template
("GET /v1/prices/{ticker}") that limits and usage are counted under.
"""

from fastapi import APIRouter, Depends

from api.deps import known_query_parameters

VERSION_PREFIX = "/v1"


def versioned_router(tag: str) -> APIRouter:
    """A router of /v1 routes, each refusing query parameters it does not take (after the key check)."""
    return APIRouter(prefix=VERSION_PREFIX, tags=[tag], dependencies=[Depends(known_query_parameters)])
