"""Password policy and hashing (argon2id: no 72-byte limit, so nothing is ever truncated).

Spaces at either end are not part of a password: the login widgets strip them, so every path here
does too, and a password is the same whichever form it was typed into.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from common.errors import BadInput
from db.repositories.users import normalise_email, normalise_username

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 128
# What the password fields' help says: exactly the rules check_password_policy applies.
PASSWORD_RULES = (
    f"{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, any letters, digits, symbols or spaces "
    "(spaces at either end are dropped); not your username or e-mail address."
)

_hasher = PasswordHasher()
# Verified against when a username is unknown, so that costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("candlecast-dummy-password")


class PasswordPolicyError(BadInput):
    """The password breaks the policy; the message says how."""


def _normalise(password: str) -> str:
    # The same password typed on two keyboards can arrive composed or decomposed.
    return unicodedata.normalize("NFC", password).strip()


def same_password(first: str, second: str) -> bool:
    """Whether two fields hold the same password once normalised (spaces at either end are not part of it)."""
    return _normalise(first) == _normalise(second)


def check_password_policy(password: str, *, username: str = "", email: str = "") -> None:
    """Raise PasswordPolicyError unless the password is 8-128 characters and not the username or e-mail."""
    password = _normalise(password)
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordPolicyError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordPolicyError(f"password must be at most {MAX_PASSWORD_CHARS} characters")
    # Against the forms the account stores, not as typed: " frank1234 " is stored as frank1234, and an
    # address typed with a fullwidth letter as its NFKC form; a password compares in that form too.
    folded = normalise_email(password)
    if username and folded == normalise_username(username):
        raise PasswordPolicyError("password must not be the username")
    if email and folded == normalise_email(email):
        raise PasswordPolicyError("password must not be the e-mail address")


def hash_password(password: str) -> str:
    """An argon2id hash with its own salt and parameters."""
    return _hasher.hash(_normalise(password))


def verify_password(password: str, password_hash: str) -> bool:
    """True when the password matches; a malformed hash is simply a mismatch."""
    try:
        return _hasher.verify(password_hash, _normalise(password))
    except (VerificationError, InvalidHashError):
        return False


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification, for logins whose username does not exist."""
    verify_password(password, _DUMMY_HASH)
