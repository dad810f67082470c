"""Login: lockout, one message for every refusal, equal cost for unknown users, audit, fail-closed."""

import statistics
import time

import pytest
from limits.storage import MemoryStorage
from redis import Redis
from sqlalchemy import select

from core.auth import LOGIN_REFUSED, LOGIN_UNAVAILABLE, authenticate, set_active
from core.passwords import hash_password
from core.throttle import Throttle, create_throttle
from db.models import AuditLog, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user

PASSWORD = "the right password"


@pytest.fixture
def throttle():
    return Throttle(MemoryStorage())


@pytest.fixture
def user(session):
    return create_user(
        session=session, username="lena", email="lena@example.com", password_hash=hash_password(PASSWORD)
    )


def attempt(session, throttle, password, username="lena", ip="192.0.2.7"):
    return authenticate(session=session, username=username, password=password, client_ip=ip, throttle=throttle)


def test_right_password_logs_in_and_is_audited(session, throttle, user):
    outcome = attempt(session, throttle, PASSWORD, username="  LENA ")
    assert outcome.ok
    assert outcome.user.id == user.id
    assert user.last_login is not None
    event = session.scalar(select(AuditLog).where(AuditLog.user_id == user.id, AuditLog.action == "login"))
    assert (event.status, event.ip) == ("ok", "192.0.2.7")
    assert event.latency_ms > 0


def test_lockout_after_five_failures_even_with_the_right_password(session, throttle, user):
    for _ in range(5):
        assert attempt(session, throttle, "wrong").message == LOGIN_REFUSED
    refused = attempt(session, throttle, PASSWORD)
    assert not refused.ok
    assert refused.message == LOGIN_REFUSED
    statuses = session.scalars(select(AuditLog.status).where(AuditLog.user_id == user.id)).all()
    assert statuses.count("failed") == 5
    assert statuses.count("locked") == 1


def test_the_lockout_is_per_account(session, throttle, user):
    create_user(session=session, username="mia", email="mia@example.com", password_hash=hash_password(PASSWORD))
    for _ in range(5):
        attempt(session, throttle, "wrong")
    assert attempt(session, throttle, PASSWORD, username="mia").ok


def test_a_success_clears_the_failures(session, throttle, user):
    for _ in range(4):
        attempt(session, throttle, "wrong")
    assert attempt(session, throttle, PASSWORD).ok
    for _ in range(4):
        attempt(session, throttle, "wrong")
    assert attempt(session, throttle, PASSWORD).ok


def test_twenty_attempts_per_address_per_minute(session, throttle, user):
    for number in range(20):
        attempt(session, throttle, "wrong", username=f"nobody{number}")
    assert attempt(session, throttle, PASSWORD).message == LOGIN_REFUSED
    assert attempt(session, throttle, PASSWORD, ip="198.51.100.1").ok


def test_unknown_and_known_users_get_the_same_message(session, throttle, user):
    assert attempt(session, throttle, "wrong", username="ghost").message == attempt(session, throttle, "wrong").message


def test_an_unknown_username_costs_as_much_as_a_wrong_password(session, throttle, user):
    def timed(username: str) -> float:
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            attempt(session, Throttle(MemoryStorage()), "wrong", username=username)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)

    unknown, known = timed("ghost"), timed("lena")
    assert 0.5 < unknown / known < 2.0


def test_a_deactivated_account_is_refused_with_the_same_message(session, throttle, user):
    admin = create_user(session=session, username="root", email="root@example.com", password_hash="x", role=Role.ADMIN)
    set_active(session=session, actor=Actor.of(admin), user_id=user.id, active=False, client_ip=None)
    assert attempt(session, throttle, PASSWORD).message == LOGIN_REFUSED


def test_long_and_unicode_passwords_are_whole(session, throttle):
    secret = "пароль-" * 12  # 168 bytes in UTF-8, past bcrypt's 72
    create_user(session=session, username="olga", email="olga@example.com", password_hash=hash_password(secret))
    assert attempt(session, throttle, secret, username="olga").ok
    assert not attempt(session, throttle, secret[:-1] + "X", username="olga").ok


def test_the_plain_password_is_never_stored_or_logged(session, throttle, user, caplog):
    with caplog.at_level("DEBUG"):
        attempt(session, throttle, PASSWORD)
        attempt(session, throttle, "a wrong one")
    stored = [
        *session.scalars(select(AuditLog.detail)).all(),
        *session.scalars(select(User.password_hash)).all(),
    ]
    for secret in (PASSWORD, "a wrong one"):
        assert secret not in caplog.text
        assert all(secret not in (value or "") for value in stored)


@pytest.mark.redis
def test_unreachable_redis_fails_closed(session, monkeypatch, user):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    outcome = attempt(session, create_throttle("redis://127.0.0.1:1/0"), PASSWORD)
    assert not outcome.ok
    assert outcome.message == LOGIN_UNAVAILABLE


@pytest.mark.redis
def test_lockout_is_shared_through_redis(session, monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    name = f"shared{time.time_ns()}"
    create_user(session=session, username=name, email=f"{name}@example.com", password_hash=hash_password(PASSWORD))
    replica_a, replica_b = create_throttle(redis_url), create_throttle(redis_url)
    for replica in (replica_a, replica_b, replica_a, replica_b, replica_a):
        attempt(session, replica, "wrong", username=name)
    assert attempt(session, replica_b, PASSWORD, username=name).message == LOGIN_REFUSED


@pytest.mark.redis
def test_typed_usernames_are_not_kept_in_redis_key_names(session, monkeypatch, redis_url):
    # People type passwords into the username field; the account's counter must not spell them out for 15 minutes.
    monkeypatch.setenv("REDIS_URL", redis_url)
    name = f"hashed{time.time_ns()}"
    create_user(session=session, username=name, email=f"{name}@example.com", password_hash=hash_password(PASSWORD))
    throttle = create_throttle(redis_url)
    before = set(Redis.from_url(redis_url).scan_iter("*login-account*"))
    for typed in (name, f"  {name.upper()} ", name.capitalize(), f"{name} ", name):
        assert attempt(session, throttle, "wrong", username=typed).message == LOGIN_REFUSED
    assert attempt(session, throttle, PASSWORD, username=name).message == LOGIN_REFUSED, (
        "one counter for every spelling"
    )
    typed_password = f"Tr0ub4dor{time.time_ns()}"
    attempt(session, throttle, "wrong", username=typed_password)
    keys = [key.decode() for key in set(Redis.from_url(redis_url).scan_iter("*login-account*")) - before]
    assert len(keys) == 2, "one counter for the account, one for the unknown name"
    assert not [key for key in keys if name in key.lower() or typed_password.lower() in key.lower()]
