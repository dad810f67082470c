"""Accounts: log in (throttled), register, change password, log out, and the admin's user management."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import math
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from common.config import get_settings
from common.errors import BadInput, NotFound
from common.words import plural
from core.audit import record_event, refusals_audited
from core.auth.api_keys import revoke_every_key_of
from core.auth.roles import Permission, require
from core.auth.sessions import cookie_signing_key
from core.passwords import (
    PasswordPolicyError,
    burn_verification_time,
    check_password_policy,
    hash_password,
    same_password,
    verify_password,
)
from core.throttle import (
    LOGIN_ATTEMPTS_PER_ADDRESS,
    LOGIN_FAILURES_PER_ACCOUNT,
    REGISTRATIONS_PER_ADDRESS,
    Throttle,
    ThrottleUnavailableError,
)
from db.models import Invitation, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.invitations import add_invitation, claim_invitation, find_open_invitation
from db.repositories.users import (
    MAX_USERNAME_CHARS,
    UserInputError,
    checked_email,
    create_user,
    get_user,
    get_user_by_username,
    lock_active_admins,
    normalise_username,
    record_login,
    record_logout,
    set_password_hash,
    set_role,
)

# One message for every refused login: a wrong password, an unknown user, a locked or inactive
# account all read the same, so the message tells an attacker nothing.
LOGIN_REFUSED = "Wrong username or password. After 5 failed attempts an account is locked for 15 minutes."
LOGIN_UNAVAILABLE = "Login is temporarily unavailable. Please try again in a minute."
USERNAME_TOO_LONG = f"Usernames have at most {MAX_USERNAME_CHARS} characters."
NOT_INVITED = "Registration is by invitation: no open invitation matches this e-mail address and invitation code"
INVITATION_CODE_BYTES = 10
UNKNOWN_ADDRESS = "unknown"


class AccountError(BadInput):
    """A registration, password change or admin action was refused; the message says why.

    `reason` is what the audit log records: it never repeats what the user typed.
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class NoSuchUserError(NotFound):
    """An admin action names a user who does not exist."""


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


@dataclass(frozen=True)
class NewInvitation:
    """A fresh invitation code: `code` is shown to the admin once, to pass on, and never stored."""

    code: str
    record: Invitation


@dataclass(frozen=True)
class PasswordReset:
    """What an admin's reset did: the temporary password to pass on, once, and how many API keys stopped working."""

    temporary_password: str
    revoked_keys: int


def _account_counter(name: str) -> str:
    """The login counter's name for a (normalised) username: a keyed hash, since what was typed may be a password."""
    key = cookie_signing_key(get_settings()).encode()
    return hmac.new(key, f"login-account\0{name}".encode(), hashlib.sha256).hexdigest()


def authenticate(
    *, session: Session, username: str, password: str, client_ip: str | None, throttle: Throttle
) -> LoginOutcome:
    """Check a login against the lockout limits and the stored hash; audit it either way."""
    started = time.perf_counter()
    name = normalise_username(username)
    address = client_ip or UNKNOWN_ADDRESS

    def finish(status: str, detail: str, user: User | None = None) -> None:
        # Only a real account's name is recorded: what was typed for an unknown one may be a
        # password typed into the wrong field, or a formula aimed at the admin's spreadsheet.
        record_event(
            session=session,
            action="login",
            status=status,
            actor=Actor.of(user) if user else None,
            detail=detail,
            ip=client_ip,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    if len(name) > MAX_USERNAME_CHARS:
        finish("failed", f"username longer than {MAX_USERNAME_CHARS} characters")
        return LoginOutcome(None, USERNAME_TOO_LONG)

    counter = _account_counter(name)
    try:
        # Counted before the password is checked, so parallel guesses cannot slip past the limit;
        # a successful login clears the account's count.
        by_address = throttle.hit(LOGIN_ATTEMPTS_PER_ADDRESS, "login-address", address)
        by_account = throttle.hit(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter)
    except ThrottleUnavailableError:
        finish("unavailable", "rate-limit store unreachable: refused (fails closed)")
        return LoginOutcome(None, LOGIN_UNAVAILABLE)

    user = get_user_by_username(session=session, username=name)
    if user is None:
        burn_verification_time(password)
        password_ok = False
    else:
        password_ok = verify_password(password, user.password_hash)

    if not by_address.allowed or not by_account.allowed:
        finish(
            "locked",
            "too many attempts for this account" if not by_account.allowed else "too many attempts from this address",
            user,
        )
        return LoginOutcome(None, LOGIN_REFUSED)
    if user is None:
        finish("failed", "unknown username")
        return LoginOutcome(None, LOGIN_REFUSED)
    if not password_ok:
        finish("failed", "wrong password", user)
        return LoginOutcome(None, LOGIN_REFUSED)
    if not user.is_active:
        finish("failed", "account deactivated", user)
        return LoginOutcome(None, LOGIN_REFUSED)

    try:
        throttle.clear(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter)
    except ThrottleUnavailableError:
        finish("unavailable", "rate-limit store unreachable after the password check")
        return LoginOutcome(None, LOGIN_UNAVAILABLE)
    record_login(session=session, user=user)
    finish("ok", "password", user)
    return LoginOutcome(user)


def register(
    *,
    session: Session,
    username: str,
    email: str,
    password: str,
    password_repeat: str,
    full_name: str | None,
    invite_only: bool,
    client_ip: str | None,
    throttle: Throttle,
    invitation_code: str = "",
) -> User:
    """Create an analyst account; invite-only mode needs an open invitation for the e-mail and its code,
    which this registration uses up.

    A refusal is audited (without what was typed) in a row that survives the rollback.
    """
    started = time.perf_counter()
    with refusals_audited(session=session, action="register", ip=client_ip):
        if not same_password(password, password_repeat):
            raise AccountError("The two passwords differ", reason="passwords differ")
        _check_policy(password, username=username, email=email)
        # Counted before any invitation is looked up, so guessing invited addresses or codes is throttled too.
        _count_registration(throttle, client_ip)
        if invite_only:
            _use_invitation(session, email, invitation_code)
        try:
            user = create_user(
                session=session,
                username=username,
                email=email,
                password_hash=hash_password(password),
                full_name=full_name,
            )
        except UserInputError as error:
            raise AccountError(str(error), reason=f"{error.field}: refused") from None
    record_event(
        session=session,
        action="register",
        status="ok",
        actor=Actor.of(user),
        ip=client_ip,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return user


def _use_invitation(session: Session, email: str, code: str) -> None:
    """Mark the address's open invitation used if the code is its own; refuse otherwise.

    One message whatever failed (no invitation, a wrong code, an invitation from before codes), so the form
    does not tell a stranger which addresses are invited; the audit row says which it was.
    """
    try:
        address = checked_email(email)
    except UserInputError:
        address = None
    code_hash = hash_invitation_code(code) if normalise_invitation_code(code) else None
    if (
        address is not None
        and code_hash is not None
        and claim_invitation(session=session, email=address, code_hash=code_hash)
    ):
        return
    invitation = find_open_invitation(session=session, email=email)
    if invitation is None:
        reason = "not invited"
    elif invitation.code_hash is None:
        reason = "invitation has no code yet (made before codes): an admin must give it one"
    else:
        reason = "wrong invitation code"
    raise AccountError(NOT_INVITED, reason=reason)


def _check_policy(password: str, *, username: str, email: str) -> None:
    try:
        check_password_policy(password, username=username, email=email)
    except PasswordPolicyError as error:
        raise AccountError(str(error).capitalize(), reason="password policy") from None


def _count_registration(throttle: Throttle, client_ip: str | None) -> None:
    try:
        verdict = throttle.hit(REGISTRATIONS_PER_ADDRESS, "register-address", client_ip or UNKNOWN_ADDRESS)
    except ThrottleUnavailableError:
        raise AccountError(
            "Registration is temporarily unavailable. Please try again in a minute.",
            reason="rate-limit store unreachable",
        ) from None
    if not verdict.allowed:
        raise AccountError(
            f"Too many registrations from this address: try again in {verdict.retry_after_seconds} s",
            reason="too many registrations from this address",
        )


def change_password(
    *,
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    new_repeat: str,
    client_ip: str | None = None,
    throttle: Throttle,
) -> User:
    """Replace the actor's password after checking the current one; ends every other session.

    The current password is checked against login's per-account limit: whoever holds a session gets
    no more guesses than the login form gives.
    Every refusal is audited in a row that survives the rollback the refusal causes.
    """
    user = get_user(session=session, user_id=actor.user_id)
    with refusals_audited(session=session, action="password change", actor=actor, ip=client_ip):
        if user is None:
            raise AccountError("The current password is wrong", reason="wrong current password")
        _check_current_password(user, current, throttle)
        if not same_password(new, new_repeat):
            raise AccountError("The two new passwords differ", reason="new passwords differ")
        if verify_password(new, user.password_hash):
            raise AccountError("The new password is the same as the current one", reason="new password unchanged")
        _check_policy(new, username=user.username, email=user.email)
    set_password_hash(session=session, user=user, password_hash=hash_password(new))
    # Every session that began before now stops authenticating; the caller issues a fresh one.
    record_logout(session=session, user=user)
    record_event(session=session, action="password change", status="ok", actor=actor, ip=client_ip)
    return user


def _check_current_password(user: User, current: str, throttle: Throttle) -> None:
    """Refuse a wrong current password, counted as a failed login of the account."""
    counter = _account_counter(user.username)
    try:
        # As at login: counted before the check so parallel guesses cannot slip past the limit,
        # and cleared once the password is right.
        verdict = throttle.hit(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter)
    except ThrottleUnavailableError:
        raise AccountError(LOGIN_UNAVAILABLE, reason="rate-limit store unreachable: refused (fails closed)") from None
    password_ok = verify_password(current, user.password_hash)
    if not verdict.allowed:
        # Unlike the login form's one message for every refusal, this one may name the lock: whoever
        # sees it is signed in to the account already, and the form has no username to be wrong.
        raise AccountError(
            f"Too many wrong passwords for your account: your login is locked for {_lock_minutes(throttle, counter)}",
            reason="too many attempts for this account",
        )
    if not password_ok:
        raise AccountError(_wrong_current_password(throttle, counter), reason="wrong current password")
    try:
        throttle.clear(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter)
    except ThrottleUnavailableError:
        raise AccountError(LOGIN_UNAVAILABLE, reason="rate-limit store unreachable after the password check") from None


def _lock_minutes(throttle: Throttle, counter: str) -> str:
    try:
        seconds = throttle.retry_after(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter)
    except ThrottleUnavailableError:
        seconds = LOGIN_FAILURES_PER_ACCOUNT.get_expiry()
    return plural(math.ceil(seconds / 60), "minute")


def _wrong_current_password(throttle: Throttle, counter: str) -> str:
    """The refusal of a wrong current password, saying so when this guess locked the login."""
    try:
        locked = throttle.remaining(LOGIN_FAILURES_PER_ACCOUNT, "login-account", counter) == 0
    except ThrottleUnavailableError:
        locked = False
    if not locked:
        return "The current password is wrong"
    return (
        "The current password is wrong, and that was one wrong password too many: "
        f"your login is locked for {_lock_minutes(throttle, counter)}"
    )


def log_out(*, session: Session, actor: Actor, client_ip: str | None) -> None:
    """Revoke every cookie issued to the actor before now."""
    user = get_user(session=session, user_id=actor.user_id)
    if user is not None:
        record_logout(session=session, user=user)
    record_event(session=session, action="logout", status="ok", actor=actor, ip=client_ip)


def change_role(
    *, session: Session, actor: Actor, user_id: uuid.UUID, role: Role, client_ip: str | None = None
) -> User:
    """Admin: give a user another role; the last active admin cannot be demoted."""
    with refusals_audited(session=session, action="role change", actor=actor, ip=client_ip):
        require(actor, Permission.MANAGE_USERS)
        user = _existing_user(session, user_id)
        if role != Role.ADMIN:
            _keep_an_active_admin(session, user, "demoted")
    before = user.role
    set_role(session=session, user=user, role=role)
    record_event(
        session=session,
        action="role change",
        status="ok",
        actor=actor,
        ip=client_ip,
        detail=f"{user.username}: {before} -> {Role(role).value}",
    )
    return user


def set_active(
    *, session: Session, actor: Actor, user_id: uuid.UUID, active: bool, client_ip: str | None = None
) -> User:
    """Admin: deactivate (ends their sessions) or reactivate a user."""
    action = "reactivate" if active else "deactivate"
    with refusals_audited(session=session, action=action, actor=actor, ip=client_ip):
        require(actor, Permission.MANAGE_USERS)
        user = _existing_user(session, user_id)
        if user.id == actor.user_id and not active:
            raise AccountError("You cannot deactivate yourself")
        if not active:
            _keep_an_active_admin(session, user, "deactivated")
    user.is_active = active
    if not active:
        record_logout(session=session, user=user)
    record_event(session=session, action=action, status="ok", actor=actor, ip=client_ip, detail=user.username)
    return user


def reset_password_by_admin(
    *, session: Session, actor: Actor, user_id: uuid.UUID, throttle: Throttle, client_ip: str | None = None
) -> PasswordReset:
    """Admin: give a user a random temporary password, returned once to be passed on; ends their sessions,
    revokes their API keys and lifts their login lockout.

    A reset is what an admin does when an account may be in someone else's hands: a key is a credential
    as good as the password, so the keys go with it, in the same transaction. The user makes new ones.
    """
    with refusals_audited(session=session, action="password reset", actor=actor, ip=client_ip):
        require(actor, Permission.MANAGE_USERS)
        user = _existing_user(session, user_id)
    temporary = secrets.token_urlsafe(12)
    set_password_hash(session=session, user=user, password_hash=hash_password(temporary))
    record_logout(session=session, user=user)
    revoked = revoke_every_key_of(session=session, user_id=user.id)
    # The admin has just vouched for the user: the guesses that locked the account were at a password
    # that no longer works. Without the store the reset still goes through (revoking the keys of an
    # account in the wrong hands must not wait for Redis); the lockout then lapses on its own.
    with contextlib.suppress(ThrottleUnavailableError):
        throttle.clear(LOGIN_FAILURES_PER_ACCOUNT, "login-account", _account_counter(user.username))
    record_event(
        session=session,
        action="password reset",
        status="ok",
        actor=actor,
        ip=client_ip,
        detail=f"{user.username}: {plural(revoked, 'API key')} revoked",
    )
    return PasswordReset(temporary_password=temporary, revoked_keys=revoked)


def new_invitation_code() -> str:
    """A one-time code to pass on with an invitation: 80 random bits in base32, as four groups of four."""
    text = base64.b32encode(secrets.token_bytes(INVITATION_CODE_BYTES)).decode()
    return "-".join(text[start : start + 4] for start in range(0, len(text), 4))


def normalise_invitation_code(code: str) -> str:
    """The code as generated, however it was typed: case, spaces and dashes do not count."""
    return "".join(code.split()).replace("-", "").upper()


def hash_invitation_code(code: str) -> str:
    # 80 random bits need no slow hash: nobody tries 2^80 SHA-256 candidates, and online guesses are throttled.
    return hashlib.sha256(normalise_invitation_code(code).encode()).hexdigest()


def invite(*, session: Session, actor: Actor, email: str) -> NewInvitation:
    """Admin: let an e-mail address register, with a code returned once to pass on; audited (the address,
    never the code), refusals too."""
    with refusals_audited(session=session, action="invite", actor=actor):
        require(actor, Permission.MANAGE_USERS)
        try:
            invitation = add_invitation(session=session, actor=actor, email=email)
        except UserInputError as error:
            message = str(error)
            if "already invited" in message:
                message += " (if its code was lost, give the invitation a new code)"
            raise AccountError(message, reason=f"{error.field}: refused") from None
    code = new_invitation_code()
    invitation.code_hash = hash_invitation_code(code)
    session.flush()
    record_event(session=session, action="invite", status="ok", actor=actor, detail=invitation.email)
    return NewInvitation(code=code, record=invitation)


def reissue_invitation(*, session: Session, actor: Actor, email: str) -> NewInvitation:
    """Admin: a new code for an open invitation (lost, or made before codes existed); the old code stops working."""
    with refusals_audited(session=session, action="invite", actor=actor):
        require(actor, Permission.MANAGE_USERS)
        invitation = find_open_invitation(session=session, email=email)
        if invitation is None:
            raise AccountError("No open invitation for this address: invite it first", reason="no open invitation")
    code = new_invitation_code()
    invitation.code_hash = hash_invitation_code(code)
    session.flush()
    record_event(session=session, action="invite", status="ok", actor=actor, detail=f"{invitation.email}: new code")
    return NewInvitation(code=code, record=invitation)


def _keep_an_active_admin(session: Session, user: User, change: str) -> None:
    """Refuse to demote or deactivate the only active admin: nobody could then manage users."""
    # Counted under lock, as another admin may be demoting or deactivating someone right now;
    # whether the user is an active admin is read there too, fresher than the loaded row.
    admins = lock_active_admins(session=session)
    if user.id in admins and len(admins) <= 1:
        raise AccountError(
            f"The last active admin cannot be {change}: make another user admin first",
            reason=f"last active admin: not {change}",
        )


def _existing_user(session: Session, user_id: uuid.UUID) -> User:
    user = get_user(session=session, user_id=user_id)
    if user is None:
        raise NoSuchUserError("No such user")
    return user
