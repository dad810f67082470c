"""An admin's password reset: a temporary password, the user's sessions ended, their working API keys revoked
and their login lockout lifted."""

import time
from datetime import timedelta

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select

from core.auth import (
    PermissionDeniedError,
    authenticate,
    create_api_key,
    reset_password_by_admin,
    revoke_key,
    verify_api_key,
)
from core.auth.api_keys import KeyStatus, key_status
from core.passwords import verify_password
from core.throttle import LOGIN_FAILURES_PER_ACCOUNT, Throttle, create_throttle
from db.models import AuditLog, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user
from db.types import utc_now


@pytest.fixture
def throttle() -> Throttle:
    return Throttle(MemoryStorage())


def reset(session, admin: Actor, user: Actor, throttle: Throttle):
    return reset_password_by_admin(session=session, actor=admin, user_id=user.user_id, throttle=throttle)


def account(session, name: str, role: Role = Role.ANALYST) -> Actor:
    return Actor.of(
        create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x", role=role)
    )


@pytest.fixture
def admin(session) -> Actor:
    return account(session, "root", Role.ADMIN)


def key(session, owner: Actor, name: str, **fields):
    created = create_api_key(session=session, actor=owner, name=name, expires_in_days=None)
    for field, value in fields.items():
        setattr(created.record, field, value)
    session.flush()
    return created


def test_a_reset_revokes_the_keys_that_worked_and_counts_them(session, admin, throttle, caplog):
    user, bystander = account(session, "kim"), account(session, "lee")
    nightly, notebook = key(session, user, "nightly"), key(session, user, "notebook")
    expired = key(session, user, "old", expires_at=utc_now() - timedelta(days=1))
    revoked = key(session, user, "dropped")
    assert revoke_key(session=session, actor=user, key_id=revoked.record.id)
    theirs = key(session, bystander, "theirs")

    with caplog.at_level("DEBUG"):
        done = reset(session, admin, user, throttle)
        session.commit()  # an audit line reaches the log once its transaction commits

    assert verify_api_key(session, nightly.secret) is None
    assert verify_api_key(session, notebook.secret) is None
    assert done.revoked_keys == 2, "only the keys that still authenticated"
    assert key_status(expired.record) is KeyStatus.EXPIRED, "an expired key keeps saying why it stopped"
    assert verify_api_key(session, theirs.secret) is not None, "another user's keys are not touched"
    assert verify_password(done.temporary_password, session.get(User, user.user_id).password_hash)
    details = session.scalars(
        select(AuditLog.detail).where(AuditLog.user_id == admin.user_id, AuditLog.action == "password reset")
    ).all()
    assert details == ["kim: 2 API keys revoked"]
    assert "password reset" in caplog.text
    for created in (nightly, notebook):
        assert created.secret not in caplog.text
        assert created.record.prefix not in caplog.text, "not even the part the owner sees"
    assert done.temporary_password not in caplog.text


def test_a_reset_of_a_user_without_keys_says_none_were_revoked(session, admin, throttle):
    user = account(session, "kim")
    assert reset(session, admin, user, throttle).revoked_keys == 0
    detail = session.scalar(select(AuditLog.detail).where(AuditLog.action == "password reset"))
    assert detail == "kim: 0 API keys revoked"


def test_a_refused_reset_leaves_the_keys_working(session, throttle):
    user, colleague = account(session, "kim"), account(session, "lee")
    working = key(session, user, "nightly")
    with pytest.raises(PermissionDeniedError):
        reset(session, colleague, user, throttle)
    assert verify_api_key(session, working.secret) is not None


def lock_out(session, user: Actor, throttle: Throttle) -> None:
    for _ in range(LOGIN_FAILURES_PER_ACCOUNT.amount):
        authenticate(session=session, username=user.username, password="a guess", client_ip=None, throttle=throttle)


def log_in(session, user: Actor, password: str, throttle: Throttle):
    # Another address than the guesses': the account's count is what is tested, not the address's.
    return authenticate(
        session=session, username=user.username, password=password, client_ip="192.0.2.1", throttle=throttle
    )


def test_a_locked_out_user_logs_in_with_the_temporary_password_at_once(session, admin, throttle):
    # The admin has just vouched for them: a lockout left in place refused the new password for 15 minutes.
    user = account(session, "kim")
    lock_out(session, user, throttle)
    assert log_in(session, user, reset(session, admin, user, throttle).temporary_password, throttle).ok


@pytest.mark.redis
def test_the_lockout_is_lifted_for_every_replica_sharing_redis(session, admin, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    user = account(session, f"kim{time.time_ns()}")  # its own counter in a shared Redis
    replica_a, replica_b = create_throttle(redis_url), create_throttle(redis_url)
    lock_out(session, user, replica_a)
    temporary = reset(session, admin, user, replica_b).temporary_password
    assert log_in(session, user, temporary, replica_a).ok


@pytest.mark.redis
def test_a_reset_still_revokes_everything_when_redis_cannot_be_reached(session, admin, monkeypatch):
    # A reset is what an admin does for an account in the wrong hands: an outage must not keep its keys working.
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    user = account(session, "kim")
    working = key(session, user, "nightly")
    done = reset(session, admin, user, create_throttle("redis://127.0.0.1:1/0"))
    assert done.revoked_keys == 1
    assert verify_api_key(session, working.secret) is None
    assert verify_password(done.temporary_password, session.get(User, user.user_id).password_hash)
