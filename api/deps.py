"""What every request goes through: the API key, the key's limit on the endpoint, and its usage.

The key is checked by the API's gate (api.app.ApiGate) before the body is read or parsed, in a
transaction of its own committed before the route runs: routes on the service layer own their
transactions and must not wait for this one (on SQLite the key's last use and usage take the
write lock until the commit). The route's `authenticate` dependency hands on what the gate found.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from api.errors import ApiError
from api.limits import ApiLimits, take
from common.config import Settings, get_settings
from core.api_usage import KeyHolder, authenticate_key, record_key_request
from core.auth.client_address import client_address_from_forwarded_lines
from core.auth.roles import Permission, require
from core.throttle import Throttle, get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor

bearer = HTTPBearer(auto_error=False, description="An API key from the Account page: `Authorization: Bearer cc_...`")
UNAUTHORISED_HEADERS = {"WWW-Authenticate": "Bearer"}
# Where the gate leaves its findings in the request's state (request.state.<name>).
CALLER_STATE = "api_caller"
RATE_LIMIT_STATE = "rate_limit_headers"


@dataclass(frozen=True)
class Caller:
    """The key's owner acting through the API, the key, where the request came from, and the endpoint it called."""

    actor: Actor
    api_key_id: str
    client_ip: str | None
    endpoint: str


def client_address_of(scope: Scope) -> str:
    """The caller's address: the peer, or behind a proxy in TRUSTED_PROXIES the client its X-Forwarded-For names.

    The same rule as the app's pages; uvicorn runs without proxy headers, so the peer here is the connection's.
    """
    peer = scope.get("client")
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", []) if name == b"x-forwarded-for"]
    return client_address_from_forwarded_lines(
        peer[0] if peer else None, forwarded, get_settings().trusted_proxy_networks
    )


def endpoint_of(method: str, route: APIRoute) -> str:
    # path_format: the template as OpenAPI documents it, without the {job_id:uuid} converters.
    return f"{method} {route.path_format}"


def presented_key(scope: Scope) -> str | None:
    """The secret of `Authorization: Bearer <secret>`, read as HTTPBearer reads it; None for anything else."""
    value = next((v.decode("latin-1") for name, v in scope.get("headers", []) if name == b"authorization"), None)
    scheme, secret = get_authorization_scheme_param(value)
    return secret if scheme.lower() == "bearer" and secret else None


def missing_key() -> ApiError:
    return ApiError(401, "unauthorised", "send an API key: Authorization: Bearer cc_...", headers=UNAUTHORISED_HEADERS)


def check_key(scope: Scope, endpoint: str, limits: ApiLimits) -> Caller:
    """The caller of the request's key, counted against the key's limit on this endpoint and in its usage.

    Raises the 401 of a missing or invalid key, or the 429 of a full window. Usage counts every
    request the window counted, refusals that follow included (a 403, 404, 408, 413, 422): usage
    then explains a 429. A 429 is counted in neither, so a key hammering past its limit costs a
    read per request, not a write. The window's RateLimit-* headers go into the request's state
    (RATE_LIMIT_STATE) as soon as it is counted, so whatever answer follows carries them, a 500 included.
    """
    secret = presented_key(scope)
    if secret is None:
        raise missing_key()
    with session_scope(action="API key check") as session:
        holder: KeyHolder | None = authenticate_key(session=session, secret=secret)
        if holder is None:
            raise ApiError(
                401, "unauthorised", "the API key is unknown, revoked or expired", headers=UNAUTHORISED_HEADERS
            )
        allowance = take(throttle(), limits.for_endpoint(scope["method"], endpoint), str(holder.api_key_id), endpoint)
        if allowance is not None:
            scope.setdefault("state", {})[RATE_LIMIT_STATE] = allowance.headers()
        if allowance is not None and not allowance.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"at most {allowance.limit} requests per window to {endpoint} with this key; "
                f"retry in {allowance.reset_seconds} s",
                headers=allowance.headers(),
            )
        record_key_request(session=session, api_key_id=holder.api_key_id, endpoint=endpoint)
    return Caller(
        actor=holder.actor,
        api_key_id=str(holder.api_key_id),
        client_ip=client_address_of(scope),
        endpoint=endpoint,
    )


def required_permissions(dependant: Dependant) -> frozenset[Permission]:
    """The permissions a route's dependencies demand (`permitted`), so the gate can refuse before the body is read."""
    found = {permission} if (permission := getattr(dependant.call, "required_permission", None)) else set()
    for sub_dependant in dependant.dependencies:
        found |= required_permissions(sub_dependant)
    return frozenset(found)


async def authenticate(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    """The caller the gate checked for this request (`bearer` is here for the OpenAPI security scheme).

    Async, as it only reads the request: a sync dependency would cost a hop to a worker thread.
    """
    caller = getattr(request.state, CALLER_STATE, None)
    route = request.scope.get("route")
    # Only a wiring mistake (a route served without the gate, or matched differently) gets here: fail loudly.
    if not isinstance(caller, Caller) or not isinstance(route, APIRoute):
        raise RuntimeError("no API key was checked for this request: is api.app.ApiGate installed?")
    if caller.endpoint != endpoint_of(request.method, route):
        raise RuntimeError(f"the key was checked for {caller.endpoint}, not {endpoint_of(request.method, route)}")
    return caller


CallerDep = Annotated[Caller, Depends(authenticate)]


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

    check.required_permission = permission  # type: ignore[attr-defined]  # the gate checks it before the body
    return check


def settings() -> Settings:
    return get_settings()


def throttle() -> Throttle:
    return get_throttle()


SettingsDep = Annotated[Settings, Depends(settings)]
ThrottleDep = Annotated[Throttle, Depends(throttle)]
TrainerDep = Annotated[Caller, Depends(permitted(Permission.TRAIN))]
AnalyserDep = Annotated[Caller, Depends(permitted(Permission.ANALYSE))]
PredictorDep = Annotated[Caller, Depends(permitted(Permission.PREDICT))]
UploaderDep = Annotated[Caller, Depends(permitted(Permission.UPLOAD))]
