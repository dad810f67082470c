"""Changing one's password: the current password is guessed no more often than a login's."""

import time

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select

from core.auth import (
    LOGIN_REFUSED,
    LOGIN_UNAVAILABLE,
    AccountError,
    authenticate,
    change_password,
    create_api_key,
    session_is_current,
    verify_api_key,
)
from core.passwords import hash_password, verify_password
from core.throttle import LOGIN_FAILURES_PER_ACCOUNT, Throttle, create_throttle
from db.models import AuditLog
from db.repositories.actor import Actor
from db.repositories.users import create_user

PASSWORD = "the right password"
NEW = "a brand new passphrase"
LIMIT = LOGIN_FAILURES_PER_ACCOUNT.amount


@pytest.fixture
def throttle():
    return Throttle(MemoryStorage())


@pytest.fixture
def user(session):
    name = f"pat{time.time_ns()}"  # its own counter in a shared Redis
    return create_user(
        session=session, username=name, email=f"{name}@example.com", password_hash=hash_password(PASSWORD)
    )


def change(session, user, throttle, current):
    return change_password(
        session=session,
        actor=Actor.of(user),
        current=current,
        new=NEW,
        new_repeat=NEW,
        client_ip="192.0.2.8",
        throttle=throttle,
    )


def guess_wrong(session, user, throttle, times):
    for number in range(times):
        with pytest.raises(AccountError, match="current password is wrong"):
            change(session, user, throttle, f"guess {number}")


def test_after_five_wrong_current_passwords_even_the_right_one_is_refused(session, user, throttle):
    guess_wrong(session, user, throttle, LIMIT)
    with pytest.raises(AccountError) as refused:
        change(session, user, throttle, PASSWORD)
    # The form has no username, and the lock is what the user needs to know.
    assert str(refused.value) == "Too many wrong passwords for your account: your login is locked for 15 minutes"
    assert verify_password(PASSWORD, user.password_hash), "the password is unchanged"
    details = session.scalars(
        select(AuditLog.detail).where(AuditLog.user_id == user.id, AuditLog.action == "password change")
    ).all()
    assert details.count("wrong current password") == LIMIT
    assert details.count("too many attempts for this account") == 1


def test_wrong_current_passwords_count_against_the_login_lockout(session, user, throttle):
    # One counter per account: guesses cannot be split between the two forms to double them.
    guess_wrong(session, user, throttle, LIMIT - 1)
    assert not authenticate(
        session=session, username=user.username, password="wrong", client_ip=None, throttle=throttle
    ).ok
    outcome = authenticate(
        session=session, username=user.username, password=PASSWORD, client_ip=None, throttle=throttle
    )
    assert outcome.message == LOGIN_REFUSED


def test_a_locked_login_also_locks_the_password_change(session, user, throttle):
    for _ in range(LIMIT):
        authenticate(session=session, username=user.username, password="wrong", client_ip=None, throttle=throttle)
    with pytest.raises(AccountError, match="locked for 15 minutes"):
        change(session, user, throttle, PASSWORD)


def test_the_right_current_password_clears_the_count(session, user, throttle):
    guess_wrong(session, user, throttle, LIMIT - 1)
    change(session, user, throttle, PASSWORD)
    for _ in range(LIMIT - 1):
        authenticate(session=session, username=user.username, password="wrong", client_ip=None, throttle=throttle)
    assert authenticate(session=session, username=user.username, password=NEW, client_ip=None, throttle=throttle).ok


@pytest.mark.redis
def test_unreachable_redis_refuses_the_change(session, user, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    with pytest.raises(AccountError) as refused:
        change(session, user, create_throttle("redis://127.0.0.1:1/0"), PASSWORD)
    assert str(refused.value) == LOGIN_UNAVAILABLE
    assert verify_password(PASSWORD, user.password_hash)


@pytest.mark.redis
def test_the_count_is_shared_through_redis(session, user, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    replica_a, replica_b = create_throttle(redis_url), create_throttle(redis_url)
    for number in range(LIMIT):
        with pytest.raises(AccountError):
            change(session, user, (replica_a, replica_b)[number % 2], f"guess {number}")
    with pytest.raises(AccountError, match="locked for 15 minutes"):
        change(session, user, replica_b, PASSWORD)


def test_one_s_own_change_ends_the_other_sessions_but_leaves_one_s_api_keys_working(session, user, throttle):
    # Keys are credentials their owner manages on their own (made, named and revoked one by one): changing
    # the password is not revoking them. An admin's reset, for an account that may be in other hands, does.
    created = create_api_key(session=session, actor=Actor.of(user), name="nightly", expires_in_days=None)
    signed_in_before = time.time() - 1
    change(session, user, throttle, PASSWORD)
    assert not session_is_current(user, signed_in_before)
    assert verify_api_key(session, created.secret) is not None


def test_the_wrong_guess_that_locks_the_login_says_so(session, user, throttle):
    guess_wrong(session, user, throttle, LIMIT - 1)
    with pytest.raises(AccountError) as refused:
        change(session, user, throttle, "one guess too many")
    assert str(refused.value) == (
        "The current password is wrong, and that was one wrong password too many: your login is locked for 15 minutes"
    )
