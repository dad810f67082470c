"""What every request goes through: the API key, the key's limit on the endpoint, and a transaction.

The key is checked and its use counted in a transaction of its own, committed before the route
runs. Routes on the service layer own their transactions; the others call one core function with
the session `transaction` gives them, committed after the route returns but before the response
is sent, so a client that reads right after a write sees it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from api.errors import ApiError
from api.limits import ApiLimits, take
from common.config import Settings, get_settings
from core.api_usage import KeyHolder, authenticate_key, record_key_request, take_back_key_request
from core.auth.client_address import resolve_client_address
from core.auth.roles import Permission, require
from core.throttle import Throttle, get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor

bearer = HTTPBearer(auto_error=False, description="An API key from the Account page: `Authorization: Bearer cc_...`")
UNAUTHORISED_HEADERS = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Caller:
    """The key's owner acting through the API, the key, and where the request came from."""

    actor: Actor
    api_key_id: str
    client_ip: str | None


def client_address_of(scope: Scope) -> str:
    """The caller's address: the peer, or behind a proxy in TRUSTED_PROXIES the client its X-Forwarded-For names.

    The same rule as the app's pages; uvicorn runs without proxy headers, so the peer here is the connection's.
    """
    peer = scope.get("client")
    forwarded = ", ".join(
        value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"
    )
    return resolve_client_address(peer[0] if peer else None, forwarded or None, get_settings().trusted_proxy_networks)


def _endpoint(request: Request) -> str:
    route = request.scope.get("route")
    # path_format: the template as OpenAPI documents it, without the {job_id:uuid} converters.
    return f"{request.method} {getattr(route, 'path_format', request.url.path)}"


def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Iterator[Caller]:
    """The caller of a valid key, counted against the key's limit on this endpoint and in its usage.

    Its own short transaction: a route's service, with a transaction of its own, must not wait for
    this one (on SQLite the key's last use takes the write lock until the commit). A request that
    is then refused is taken back out of the usage, which counts the requests served.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(
            401, "unauthorised", "send an API key: Authorization: Bearer cc_...", headers=UNAUTHORISED_HEADERS
        )
    endpoint = _endpoint(request)
    limits: ApiLimits = request.app.state.limits
    with session_scope(action="API key check") as session:
        holder: KeyHolder | None = authenticate_key(session=session, secret=credentials.credentials)
        if holder is None:
            raise ApiError(
                401, "unauthorised", "the API key is unknown, revoked or expired", headers=UNAUTHORISED_HEADERS
            )
        allowance = take(throttle(), limits.for_endpoint(request.method, endpoint), str(holder.api_key_id), endpoint)
        if allowance is not None:
            if not allowance.allowed:
                raise ApiError(
                    429,
                    "rate_limited",
                    f"at most {allowance.limit} requests per window to {endpoint} with this key; "
                    f"retry in {allowance.reset_seconds} s",
                    headers=allowance.headers(),
                )
            request.state.rate_limit_headers = allowance.headers()
        day = record_key_request(session=session, api_key_id=holder.api_key_id, endpoint=endpoint)
    try:
        yield Caller(
            actor=holder.actor,
            api_key_id=str(holder.api_key_id),
            client_ip=client_address_of(request.scope),
        )
    except Exception:
        with session_scope(action="API key use taken back") as session:
            take_back_key_request(session=session, api_key_id=holder.api_key_id, endpoint=endpoint, day=day)
        raise


CallerDep = Annotated[Caller, Depends(authenticate, scope="function")]


def _query_parameters(dependant: Dependant) -> dict[str, bool]:
    """The route's query parameters by name, each with whether it takes several values (?a=1&a=2)."""
    parameters = {param.alias: _takes_many(param.field_info.annotation) for param in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        parameters |= _query_parameters(sub_dependant)
    return parameters


def _takes_many(annotation: object) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType, Annotated):
        return any(_takes_many(argument) for argument in get_args(annotation))
    return origin in (list, tuple, set, frozenset)


async def known_query_parameters(request: Request, _caller: CallerDep) -> None:
    """Refuse (422) query parameters the route does not take, and repeats of those taking one value:
    a typo like ?tickr= must not pass silently, nor ?ticker=A&ticker=B answer for B alone.

    After the key (the route's own caller, resolved once per request): a stranger learns nothing of
    the routes' parameters, and gets the 401 the request earns. Async, as it only reads the request:
    a sync dependency would cost every request a hop to a worker thread and back.
    """
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    parameters = _query_parameters(dependant)
    unknown = sorted(set(request.query_params) - set(parameters))
    if unknown:
        problems = [{"location": f"query.{name}", "message": "unknown parameter"} for name in unknown]
        raise ApiError(422, "invalid_request", f"unknown query parameter {unknown[0]!r}", details=problems)
    repeated = sorted(
        name for name, many in parameters.items() if not many and len(request.query_params.getlist(name)) > 1
    )
    if repeated:
        problems = [{"location": f"query.{name}", "message": "given more than once"} for name in repeated]
        raise ApiError(
            422, "invalid_request", f"query parameter {repeated[0]!r} given more than once", details=problems
        )


def permitted(permission: Permission):
    """A dependency refusing (403) callers whose role lacks the permission; viewers may only read."""

    async def check(caller: CallerDep) -> Caller:  # no I/O: no hop to a worker thread
        require(caller.actor, permission)
        return caller

    return check


def settings() -> Settings:
    return get_settings()


def throttle() -> Throttle:
    return get_throttle()


SettingsDep = Annotated[Settings, Depends(settings)]
ThrottleDep = Annotated[Throttle, Depends(throttle)]
TrainerDep = Annotated[Caller, Depends(permitted(Permission.TRAIN))]
PredictorDep = Annotated[Caller, Depends(permitted(Permission.PREDICT))]
UploaderDep = Annotated[Caller, Depends(permitted(Permission.UPLOAD))]
