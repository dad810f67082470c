"""Users: create, look up, list, change role, deactivate, lock, record logins."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import BadInput
from db.models import User
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.types import utc_now

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MAX_USERNAME_CHARS = 64
MAX_EMAIL_CHARS = 254
MAX_FULL_NAME_CHARS = 200


class UserInputError(BadInput):
    """A user field is malformed or already taken; the message names the field (never repeats the input)."""

    def __init__(self, field: str, problem: str = "") -> None:
        # One argument is the whole message (what unpickling passes back).
        super().__init__(f"{field}: {problem}" if problem else field)
        self.field = field.split(":", 1)[0]


def normalise_username(username: str) -> str:
    return username.strip().lower()


def normalise_email(email: str) -> str:
    """The comparison form of an address: NFKC and case-folded, so composed and decomposed
    accents, fullwidth letters and case all compare equal."""
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def checked_email(email: str) -> str:
    """The address in its comparison form, or UserInputError when it is not a mail address."""
    key = normalise_email(email)
    if len(key) > MAX_EMAIL_CHARS:
        raise UserInputError("email", f"at most {MAX_EMAIL_CHARS} characters")
    try:
        # Syntax only: no DNS lookup, so registration never waits on the network.
        validated = validate_email(key, check_deliverability=False)
    except EmailNotValidError as error:
        raise UserInputError("email", f"not an e-mail address ({error})") from None
    return normalise_email(validated.normalized)


def checked_full_name(full_name: str | None) -> str | None:
    name = (full_name or "").strip()
    if len(name) > MAX_FULL_NAME_CHARS:
        raise UserInputError("full name", f"at most {MAX_FULL_NAME_CHARS} characters (first and last name together)")
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise UserInputError("full name", "no control characters")
    return name or None


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
    """Add a user; raises UserInputError for a malformed or taken username or e-mail, or a too long name."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.match(username):
        raise UserInputError(
            "username", "3-64 characters, letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    email = checked_email(email)
    full_name = checked_full_name(full_name)
    if get_user_by_username(session=session, username=username) is not None:
        raise UserInputError("username", f"{username!r} is taken")
    if get_user_by_email(session=session, email=email) is not None:
        raise UserInputError("email", "this address is already registered")
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=Role(role).value,
        subscription_tier=Tier(tier).value,
        full_name=full_name,
    )
    try:
        # A savepoint, so that losing a race for the name leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise UserInputError("username or email", "registered by someone else just now") from None
    return user


def get_user(*, session: Session, user_id: uuid.UUID) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def get_user_by_email(*, session: Session, email: str) -> User | None:
    """The user of an address however its domain is spelt (Unicode or punycode); None for no user or no address."""
    try:
        # The form create_user stored: plain normalisation leaves a punycode domain unconverted.
        key = checked_email(email)
    except UserInputError:
        return None
    return session.scalar(select(User).where(User.email == key))


def list_users(*, session: Session, actor: Actor) -> Sequence[User]:
    """Every user for an admin; anyone else sees only themselves."""
    query = select(User).order_by(User.username)
    if not actor.is_admin:
        query = query.where(User.id == actor.user_id)
    return session.scalars(query).all()


def lock_active_admins(*, session: Session) -> set[uuid.UUID]:
    """The active admins' ids, their rows locked (FOR UPDATE) until the transaction ends.

    A concurrent demotion or deactivation waits for this transaction, and PostgreSQL re-reads a
    row changed meanwhile, so two admins cannot each count the other and both act. SQLite has no
    row locks: its writing transactions begin IMMEDIATE and so run one at a time.
    """
    # Ordered, so that two transactions take the same locks in the same order and never deadlock.
    query = select(User.id).where(User.role == Role.ADMIN.value, User.is_active).order_by(User.id).with_for_update()
    return set(session.scalars(query))


def lock_user(*, session: Session, user_id: uuid.UUID) -> None:
    """Lock a user's row until the transaction ends, to run one of their changes at a time (no-op on SQLite)."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())


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
