"""Gatekeeping for user actions (fetch, upload, train, predict): role, tier quota, usage count."""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse
from sqlalchemy.orm import Session

from common.config import Settings
from common.errors import LimitReached
from common.logging import get_logger
from core.auth.roles import Permission, require
from core.throttle import Throttle, ThrottleUnavailableError
from db.repositories.actor import Actor
from db.repositories.usage import count_action

ACTIONS: dict[str, Permission] = {
    "fetch": Permission.FETCH,
    "upload": Permission.UPLOAD,
    "train": Permission.TRAIN,
    "predict": Permission.PREDICT,
}
log = get_logger("api")


class ActionLimitedError(LimitReached):
    """The user's tier allows no more of this action for now; the message says when to retry."""

    def __init__(self, action: str, limit: str, tier: str, retry_after_seconds: int) -> None:
        super().__init__(
            f"Limit reached for {action} ({limit} on the {tier} tier): try again in {retry_after_seconds} s",
            retry_after_seconds=retry_after_seconds,
        )


@dataclass(frozen=True)
class Quota:
    action: str
    limit: str
    remaining: int | None


def action_limit(settings: Settings, actor: Actor, action: str) -> str:
    return settings.action_limits[actor.tier][action]


def authorise_action(*, session: Session, actor: Actor, action: str, settings: Settings, throttle: Throttle) -> None:
    """Allow one action or raise: PermissionDeniedError for the role, ActionLimitedError for the quota.

    Quotas fail open when Redis is down: a missing counter must not stop analysts working
    (logins, which guard security, fail closed instead).
    """
    require(actor, ACTIONS[action])
    limit = action_limit(settings, actor, action)
    try:
        verdict = throttle.hit(parse(limit), "action", action, str(actor.user_id))
    except ThrottleUnavailableError as error:
        log.warning("quota for %s of %s not checked, store unreachable: %s", action, actor.username, error)
    else:
        if not verdict.allowed:
            raise ActionLimitedError(action, limit, actor.tier, verdict.retry_after_seconds)
    count_action(session=session, actor=actor, endpoint=action)


def quotas(*, actor: Actor, settings: Settings, throttle: Throttle) -> list[Quota]:
    """What is left of each action's current window; None where the store cannot be reached."""
    found = []
    for action in ACTIONS:
        limit = action_limit(settings, actor, action)
        try:
            remaining: int | None = throttle.remaining(parse(limit), "action", action, str(actor.user_id))
        except ThrottleUnavailableError:
            remaining = None
        found.append(Quota(action, limit, remaining))
    return found
