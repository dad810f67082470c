"""Per-key, per-endpoint request limits on `limits`' moving windows (core/throttle.py: Redis or memory)."""

from __future__ import annotations

from dataclasses import dataclass, field

from limits import RateLimitItem, parse

from common.logging import get_logger
from core.throttle import Throttle, ThrottleUnavailableError

log = get_logger("api")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class ApiLimits:
    """How many requests one key may make to one endpoint; endpoints are "METHOD /path/{template}"."""

    read: str = "300/minute"
    write: str = "60/minute"
    per_endpoint: dict[str, str] = field(default_factory=dict)

    def for_endpoint(self, method: str, endpoint: str) -> RateLimitItem:
        text = self.per_endpoint.get(endpoint) or (self.read if method in READ_METHODS else self.write)
        return parse(text)


@dataclass(frozen=True)
class Allowance:
    """What the RateLimit-* headers say after one counted request, or why it was refused."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


def take(throttle: Throttle, limit: RateLimitItem, api_key_id: str, endpoint: str) -> Allowance | None:
    """Count one request of the key to the endpoint if its window has room; None when the store is down.

    Fails open like the action quotas: a Redis outage must not stop every API client, and the
    per-tier quotas on costly actions still apply where they can be checked.
    """
    identifiers = ("api", api_key_id, endpoint)
    try:
        verdict = throttle.hit(limit, *identifiers)
        remaining = throttle.remaining(limit, *identifiers)
        reset = verdict.retry_after_seconds if not verdict.allowed else throttle.retry_after(limit, *identifiers)
    except ThrottleUnavailableError as error:
        log.warning("API limit of %s not checked, store unreachable: %s", endpoint, error)
        return None
    return Allowance(verdict.allowed, limit.amount, remaining, reset)
