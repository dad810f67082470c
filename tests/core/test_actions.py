"""Actions: roles decide who may act, tiers how often; every allowed action is counted."""

import pytest
from limits.storage import MemoryStorage

from common.config import load_settings
from core.actions import ActionLimitedError, authorise_action, quotas
from core.auth import PermissionDeniedError
from core.throttle import Throttle, create_throttle
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.repositories.usage import list_usage
from db.repositories.users import create_user


def actor(session, name, role=Role.ANALYST, tier=Tier.FREE) -> Actor:
    user = create_user(
        session=session, username=name, email=f"{name}@example.com", password_hash="x", role=role, tier=tier
    )
    return Actor.of(user)


@pytest.mark.parametrize("action", ["fetch", "upload", "train", "predict"])
def test_a_viewer_cannot_act(session, action):
    viewer = actor(session, "vic", Role.VIEWER)
    with pytest.raises(PermissionDeniedError, match=f"the viewer role cannot {action}"):
        authorise_action(
            session=session,
            actor=viewer,
            action=action,
            settings=load_settings(),
            throttle=Throttle(MemoryStorage()),
        )
    assert list_usage(session=session, actor=viewer) == []


def test_an_analyst_acts_and_is_counted(session):
    analyst = actor(session, "ana")
    throttle = Throttle(MemoryStorage())
    for _ in range(3):
        authorise_action(session=session, actor=analyst, action="train", settings=load_settings(), throttle=throttle)
    authorise_action(session=session, actor=analyst, action="fetch", settings=load_settings(), throttle=throttle)
    session.expire_all()
    counts = {row.endpoint: row.request_count for row in list_usage(session=session, actor=analyst)}
    assert counts == {"train": 3, "fetch": 1}


def test_the_tier_limit_says_when_to_retry(session, monkeypatch):
    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"train": "2/hour"}}')
    settings = load_settings()
    analyst, pro = actor(session, "fay"), actor(session, "pat", tier=Tier.PRO)
    throttle = Throttle(MemoryStorage())
    for _ in range(2):
        authorise_action(session=session, actor=analyst, action="train", settings=settings, throttle=throttle)
    with pytest.raises(ActionLimitedError, match=r"2/hour on the free tier\): try again in \d+ s") as refused:
        authorise_action(session=session, actor=analyst, action="train", settings=settings, throttle=throttle)
    assert 0 < refused.value.retry_after_seconds <= 3600
    for _ in range(3):
        authorise_action(session=session, actor=pro, action="train", settings=settings, throttle=throttle)
    remaining = {q.action: q.remaining for q in quotas(actor=analyst, settings=settings, throttle=throttle)}
    assert remaining["train"] == 0
    assert remaining["fetch"] == 60


@pytest.mark.redis
def test_quotas_fail_open_when_redis_is_down(session, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    analyst = actor(session, "gus")
    throttle = create_throttle("redis://127.0.0.1:1/0")
    authorise_action(session=session, actor=analyst, action="fetch", settings=load_settings(), throttle=throttle)
    session.expire_all()
    assert list_usage(session=session, actor=analyst)[0].request_count == 1
    assert {q.remaining for q in quotas(actor=analyst, settings=load_settings(), throttle=throttle)} == {None}
