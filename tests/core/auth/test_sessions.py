"""Session cookies: signature, expiry, and revocation by logout, password change and deactivation."""

import base64
import json
import subprocess
import sys
import time

import jwt
import pytest
from limits.storage import MemoryStorage

from common.config import PROJECT_ROOT, load_settings
from core.auth import (
    change_password,
    issue_session_token,
    log_out,
    read_session_token,
    resume_session,
    set_active,
)
from core.passwords import hash_password
from core.throttle import Throttle
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user

KEY = "k" * 48
OTHER_KEY = "z" * 48
PASSWORD = "a good long password"


@pytest.fixture
def user(session):
    return create_user(session=session, username="sam", email="sam@example.com", password_hash=hash_password(PASSWORD))


def test_a_token_names_its_user_and_issue_time(user):
    now = time.time()
    claims = read_session_token(issue_session_token(user=user, key=KEY, lifetime_seconds=60, now=now), key=KEY)
    assert claims.user_id == user.id
    assert claims.issued_at == pytest.approx(now)
    assert claims.expires_at == pytest.approx(now + 60)


def test_wrongly_signed_token_is_not_logged_in(user):
    token = issue_session_token(user=user, key=OTHER_KEY, lifetime_seconds=60)
    assert read_session_token(token, key=KEY) is None


def test_tampered_token_is_not_logged_in(user, session):
    other = create_user(session=session, username="eve", email="eve@example.com", password_hash="x")
    header, payload, signature = issue_session_token(user=user, key=KEY, lifetime_seconds=60).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(other.id)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert read_session_token(f"{header}.{forged}.{signature}", key=KEY) is None


def test_unsigned_token_is_not_logged_in(user):
    token = jwt.encode({"sub": str(user.id), "iat": time.time(), "exp": time.time() + 60}, None, algorithm="none")
    assert read_session_token(token, key=KEY) is None


def test_expired_token_is_not_logged_in(user):
    token = issue_session_token(user=user, key=KEY, lifetime_seconds=60, now=time.time() - 61)
    assert read_session_token(token, key=KEY) is None


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_garbage_is_not_logged_in(garbage):
    assert read_session_token(garbage, key=KEY) is None


def test_cookie_copied_before_logout_does_not_authenticate_after_it(session, user):
    copied = issue_session_token(user=user, key=KEY, lifetime_seconds=3600)
    assert resume_session(session=session, token=copied, key=KEY) is not None
    log_out(session=session, actor=Actor.of(user), client_ip="10.0.0.1")
    assert resume_session(session=session, token=copied, key=KEY) is None
    fresh = issue_session_token(user=user, key=KEY, lifetime_seconds=3600)
    assert resume_session(session=session, token=fresh, key=KEY) is not None


def test_password_change_ends_the_other_sessions(session, user):
    other_browser = issue_session_token(user=user, key=KEY, lifetime_seconds=3600)
    change_password(
        session=session,
        actor=Actor.of(user),
        current=PASSWORD,
        new="an even better password",
        new_repeat="an even better password",
        client_ip=None,
        throttle=Throttle(MemoryStorage()),
    )
    assert resume_session(session=session, token=other_browser, key=KEY) is None


def test_deactivation_ends_sessions(session, user):
    admin = create_user(session=session, username="ada", email="ada@example.com", password_hash="x", role=Role.ADMIN)
    token = issue_session_token(user=user, key=KEY, lifetime_seconds=3600)
    set_active(session=session, actor=Actor.of(admin), user_id=user.id, active=False, client_ip=None)
    assert resume_session(session=session, token=token, key=KEY) is None


def test_development_without_a_cookie_key_keeps_one_generated_key_through_a_reload(tmp_path, monkeypatch):
    import importlib

    import core.auth.sessions as sessions

    monkeypatch.delenv("COOKIE_KEY", raising=False)
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "var" / "candlecast.db"))
    first = sessions.cookie_signing_key(load_settings())
    # Streamlit re-imports changed modules while it serves: a key kept in the module would change,
    # ending every login whose cookie is still valid.
    reloaded = importlib.reload(sessions)
    assert reloaded.cookie_signing_key(load_settings()) == first
    key_file = tmp_path / "var" / "cookie.key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0


RACE_FOR_THE_KEY = """
import sys, time
from common.config import load_settings
from common.development_keys import development_key
settings = load_settings()
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(development_key(settings, "cookie.key"))
"""


def test_processes_starting_together_read_one_whole_development_key(tmp_path, monkeypatch):
    # The app and a worker (or two login processes) asking at the same moment: one reading the file
    # between another's creating and writing it got an empty key.
    monkeypatch.delenv("COOKIE_KEY", raising=False)
    for round_number in range(3):
        monkeypatch.setenv("SQLITE_PATH", str(tmp_path / str(round_number) / "candlecast.db"))
        start_at = str(time.time() + 3)  # every process has imported by then
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACE_FOR_THE_KEY, start_at], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
            )
            for _ in range(6)
        ]
        keys = {racer.communicate(timeout=60)[0].strip() for racer in racers}
        assert len(keys) == 1, keys
        assert len(keys.pop()) == 64
