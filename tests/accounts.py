"""Making real accounts in a test database, and logged-in AppTest sessions for them."""

from __future__ import annotations

import time
import uuid

from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker
from streamlit.testing.v1 import AppTest

from common.config import PROJECT_ROOT, load_settings
from core.passwords import hash_password
from db.engine import create_engine_from_settings, session_scope
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.repositories.users import create_user

DEFAULT_PASSWORD = "correct horse battery"


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def make_account(
    url: URL,
    *,
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
    role: Role = Role.ANALYST,
    tier: Tier = Tier.FREE,
) -> Actor:
    """Commit a user to the database at url and return them as an actor."""
    username = username or unique_name()
    engine = create_engine_from_settings(load_settings(), url)
    try:
        with session_scope(sessionmaker(bind=engine, expire_on_commit=False)) as session:
            user = create_user(
                session=session,
                username=username,
                email=f"{username}@example.com",
                password_hash=hash_password(password),
                role=role,
                tier=tier,
            )
            return Actor.of(user)
    finally:
        engine.dispose()


def logged_in_app(script: str, actor: Actor, *, timeout: float = 30) -> AppTest:
    """An AppTest of a script whose browser session is logged in as the actor (not yet run)."""
    at = AppTest.from_file(str(PROJECT_ROOT / script), default_timeout=timeout)
    now = time.time()
    at.session_state["candlecast_auth"] = {
        "user_id": str(actor.user_id),
        "issued_at": now,
        "last_seen": now,
        "cookie_pending": False,
        "cookie_issued_at": now,
    }
    at.session_state["authentication_status"] = True
    at.session_state["username"] = actor.username
    return at
