"""Users: create, look up, list, change role, deactivate, record logins."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import User
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.types import utc_now

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserInputError(ValueError):
    """A user field is malformed or already taken; the message names the field."""


def normalise_username(username: str) -> str:
    return username.strip().lower()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    *,
    session: Session,
    username: str,
    email: str,
    password_hash: str,
    role: Role = Role.ANALYST,
    tier: Tier = Tier.FREE,
    full_name: str | None = None,
) -> User:
    """Add a user; raises UserInputError for a malformed or taken username or e-mail."""
    username = normalise_username(username)
    email = normalise_email(email)
    if not USERNAME_PATTERN.match(username):
        raise UserInputError(
            "username: 3-64 characters, letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise UserInputError(f"email: {email!r} is not an e-mail address")
    if get_user_by_username(session=session, username=username) is not None:
        raise UserInputError(f"username: {username!r} is taken")
    if get_user_by_email(session=session, email=email) is not None:
        raise UserInputError(f"email: {email!r} is already registered")
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=Role(role).value,
        subscription_tier=Tier(tier).value,
        full_name=(full_name or "").strip() or None,
    )
    try:
        # A savepoint, so that losing a race for the name leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UserInputError(f"username {username!r} or email {email!r} was registered just now") from None
    return user


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def list_users(*, session: Session, actor: Actor) -> Sequence[User]:
    """Every user for an admin; anyone else sees only themselves."""
    query = select(User).order_by(User.username)
    if not actor.is_admin:
        query = query.where(User.id == actor.user_id)
    return session.scalars(query).all()


def count_admins(*, session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_active)
    return session.scalar(query) or 0


def set_role(*, session: Session, user: User, role: Role) -> User:
    user.role = Role(role).value
    session.flush()
    return user


def set_password_hash(*, session: Session, user: User, password_hash: str) -> User:
    user.password_hash = password_hash
    session.flush()
    return user


def deactivate_user(*, session: Session, user: User) -> User:
    user.is_active = False
    session.flush()
    return user


def record_login(*, session: Session, user: User) -> User:
    user.last_login = utc_now()
    session.flush()
    return user


def record_logout(*, session: Session, user: User) -> User:
    user.logged_out_at = utc_now()
    session.flush()
    return user
