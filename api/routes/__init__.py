"""The API's routes, one module per area; each route calls one core function.

Each router carries the version prefix itself: the route's own path is then the full template
("GET /v1/prices/{ticker}") that limits and usage are counted under.
"""

VERSION_PREFIX = "/v1"
