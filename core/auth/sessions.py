"""Login sessions as signed cookies: issued, read, and revoked by logout or a password change."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from sqlalchemy.orm import Session

from common.config import Settings
from common.development_keys import development_key
from db.models import User
from db.repositories.users import get_user

ALGORITHM = "HS256"


@dataclass(frozen=True)
class SessionClaims:
    user_id: uuid.UUID
    username: str
    issued_at: float
    expires_at: float


DEVELOPMENT_KEY_FILE = "cookie.key"


def cookie_signing_key(settings: Settings) -> str:
    """COOKIE_KEY, or in development without one a key generated once and kept under var/."""
    if settings.cookie_key is not None:
        return settings.cookie_key.get_secret_value()
    return development_key(settings, DEVELOPMENT_KEY_FILE)


def issue_session_token(*, user: User, key: str, lifetime_seconds: float, now: float | None = None) -> str:
    """A signed token naming the user, with its issue time to the microsecond (revocation compares it)."""
    issued_at = time.time() if now is None else now
    claims = {
        "sub": str(user.id),
        "usr": user.username,
        "iat": issued_at,
        "exp": issued_at + lifetime_seconds,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read_session_token(token: str, *, key: str) -> SessionClaims | None:
    """The token's claims if its signature and expiry hold; anything forged or expired is None."""
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "iat", "exp"]})
        return SessionClaims(
            user_id=uuid.UUID(claims["sub"]),
            username=str(claims.get("usr", "")),
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None


def session_is_current(user: User | None, issued_at: float) -> bool:
    """An active user whose last logout (or password change) came before this session began."""
    if user is None or not user.is_active:
        return False
    return user.logged_out_at is None or issued_at > user.logged_out_at.timestamp()


def resume_session(*, session: Session, token: str, key: str) -> tuple[User, SessionClaims] | None:
    """The user a cookie still authenticates, with its claims; None for anything else."""
    claims = read_session_token(token, key=key)
    if claims is None:
        return None
    user = get_user(session=session, user_id=claims.user_id)
    if not session_is_current(user, claims.issued_at):
        return None
    return user, claims
