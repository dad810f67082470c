"""Account actions: register, log in and out, passwords, API keys, preferences, usage, and user management.

Every function owns its transaction; the audit rows (refusals included) are written by core.auth,
whose functions these wrap. The request's address comes from core.audit's per-request binding.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from common.config import get_settings
from common.errors import NotFound
from core import auth
from core.actions import quotas
from core.api_usage import KeyUsage, usage_by_key
from core.audit import current_client_address, refusals_audited
from core.auth.accounts import LoginOutcome, NewInvitation, PasswordReset
from core.auth.api_keys import NewApiKey
from core.auth.roles import Permission, require
from core.auth.sessions import SessionClaims
from core.preferences import Preferences, load_preferences
from core.preferences import save_preferences as store_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.models import ApiKey, AuditLog, Invitation, User
from db.models.accounts import Role
from db.repositories import audit as audit_rows
from db.repositories import invitations as invitation_rows
from db.repositories import users as user_rows
from db.repositories.actor import Actor
from db.repositories.usage import counts_today


class UnknownApiKeyError(NotFound):
    """The key to revoke is not one of the actor's active keys."""


# Logging in, sessions and cookies


def register(
    *,
    username: str,
    email: str,
    password: str,
    password_repeat: str,
    full_name: str | None,
    invitation_code: str = "",
) -> User:
    """A new analyst account; when REGISTRATION_MODE=invite, only for an invited address with its code."""
    with session_scope(action="registration") as session:
        return auth.register(
            session=session,
            username=username,
            email=email,
            password=password,
            password_repeat=password_repeat,
            full_name=full_name,
            invite_only=registration_is_by_invitation(),
            invitation_code=invitation_code,
            client_ip=current_client_address(),
            throttle=get_throttle(),
        )


def registration_is_by_invitation() -> bool:
    return get_settings().registration_mode == "invite"


def log_in(*, username: str, password: str) -> LoginOutcome:
    """Check a login (throttled, audited either way); the outcome carries the user or the one refusal message."""
    with session_scope(action="login") as session:
        return auth.authenticate(
            session=session,
            username=username,
            password=password,
            client_ip=current_client_address(),
            throttle=get_throttle(),
        )


def current_user(*, user_id: uuid.UUID, issued_at: float) -> User | None:
    """The user a login session begun at `issued_at` still speaks for; None once it is revoked or they are gone."""
    with session_scope(action="session check", read_only=True) as session:
        user = user_rows.get_user(session=session, user_id=user_id)
        return user if auth.session_is_current(user, issued_at) else None


def resume_cookie(*, token: str) -> tuple[User, SessionClaims] | None:
    """The user and claims of a session cookie that still authenticates, or None."""
    # Read-only: every new browser tab checks its cookie, and must not queue behind a job's writes.
    with session_scope(action="cookie check", read_only=True) as session:
        return auth.resume_session(session=session, token=token, key=auth.cookie_signing_key(get_settings()))


def session_cookie(*, user_id: uuid.UUID, lifetime_seconds: float, now: float) -> str | None:
    """A signed session token for the user, issued at `now`; None if the user is gone."""
    with session_scope(action="cookie issue", read_only=True) as session:
        user = user_rows.get_user(session=session, user_id=user_id)
        if user is None:
            return None
        return auth.issue_session_token(
            user=user, key=auth.cookie_signing_key(get_settings()), lifetime_seconds=lifetime_seconds, now=now
        )


def log_out(actor: Actor) -> None:
    """End every session of the actor begun before now."""
    with session_scope(action="logout") as session:
        auth.log_out(session=session, actor=actor, client_ip=current_client_address())


def change_password(actor: Actor, *, current: str, new: str, new_repeat: str) -> User:
    """The actor's new password; every other session ends. Wrong current passwords count towards
    the login lockout. A refusal's audit row outlives its rollback."""
    with session_scope(action="password change") as session:
        return auth.change_password(
            session=session,
            actor=actor,
            current=current,
            new=new,
            new_repeat=new_repeat,
            throttle=get_throttle(),
        )


def profile(actor: Actor) -> User:
    with session_scope(action="profile", read_only=True) as session:
        user = user_rows.get_user(session=session, user_id=actor.user_id)
        if user is None:
            raise NotFound("Your account no longer exists")
        return user


# API keys


def create_api_key(actor: Actor, *, name: str, expires_in_days: int | None) -> NewApiKey:
    """A new key of the actor's; its secret is in the answer and nowhere else."""
    with (
        session_scope(action="api key create") as session,
        refusals_audited(session=session, action="api key create", actor=actor),
    ):
        return auth.create_api_key(session=session, actor=actor, name=name, expires_in_days=expires_in_days)


def revoke_api_key(actor: Actor, *, key_id: uuid.UUID) -> uuid.UUID:
    """Revoke one of the actor's keys at once (its id is the answer); any other key is refused as unknown."""
    with session_scope(action="api key revoke") as session:
        if not auth.revoke_key(session=session, actor=actor, key_id=key_id):
            raise UnknownApiKeyError("No such active API key of yours")
    return key_id


def list_api_keys(actor: Actor) -> Sequence[ApiKey]:
    with session_scope(action="list api keys", read_only=True) as session:
        return auth.list_keys(session=session, actor=actor)


def usage_per_key(actor: Actor, *, since: date | None = None) -> list[KeyUsage]:
    """Requests each of the actor's keys made to each endpoint, and the last day it did."""
    with session_scope(action="api usage", read_only=True) as session:
        return usage_by_key(session=session, actor=actor, since=since)


@dataclass(frozen=True)
class ActionUsage:
    action: str
    today: int
    limit: str
    left_in_window: int | None  # None: the limit store cannot be reached


def action_usage(actor: Actor) -> list[ActionUsage]:
    """The actor's count of each limited action this UTC day and what is left of its tier's window."""
    with session_scope(action="usage", read_only=True) as session:
        counts = counts_today(session=session, actor=actor)
    return [
        ActionUsage(quota.action, counts.get(quota.action, 0), quota.limit, quota.remaining)
        for quota in quotas(actor=actor, settings=get_settings(), throttle=get_throttle())
    ]


# Preferences


def read_preferences(actor: Actor) -> Preferences:
    with session_scope(action="read preferences", read_only=True) as session:
        return load_preferences(session=session, actor=actor)


def save_preferences(
    actor: Actor, *, tickers_text: str, chart_theme: str, default_range: str, notifications: dict[str, bool]
) -> Preferences:
    """Check every value, then store them all; a refusal leaves the stored preferences as they were."""
    with (
        session_scope(action="save preferences") as session,
        refusals_audited(session=session, action="save preferences", actor=actor),
    ):
        return store_preferences(
            session=session,
            actor=actor,
            tickers_text=tickers_text,
            chart_theme=chart_theme,
            default_range=default_range,
            notifications=notifications,
        )


# The admin's user management


def list_users(actor: Actor) -> Sequence[User]:
    with session_scope(action="list users", read_only=True) as session:
        return user_rows.list_users(session=session, actor=actor)


def change_role(actor: Actor, *, user_id: uuid.UUID, role: Role) -> User:
    with session_scope(action="role change") as session:
        return auth.change_role(session=session, actor=actor, user_id=user_id, role=role)


def set_active(actor: Actor, *, user_id: uuid.UUID, active: bool) -> User:
    """Deactivate (their sessions end at once) or reactivate a user."""
    with session_scope(action="deactivate" if not active else "reactivate") as session:
        return auth.set_active(session=session, actor=actor, user_id=user_id, active=active)


def reset_password(actor: Actor, *, user_id: uuid.UUID) -> PasswordReset:
    """A temporary password for the user, returned once; their sessions end, their API keys are revoked and
    their login lockout is lifted."""
    with session_scope(action="password reset") as session:
        return auth.reset_password_by_admin(session=session, actor=actor, user_id=user_id, throttle=get_throttle())


def invite(actor: Actor, *, email: str) -> NewInvitation:
    """Let an address register while registration is by invitation, with the one-time code in the answer (and
    nowhere else) for the admin to pass on: admins only, audited either way."""
    with session_scope(action="invite") as session:
        return auth.invite(session=session, actor=actor, email=email)


def reissue_invitation(actor: Actor, *, email: str) -> NewInvitation:
    """A new code for an open invitation (its code was lost, or it was made before codes); the old one stops working."""
    with session_scope(action="invite") as session:
        return auth.reissue_invitation(session=session, actor=actor, email=email)


def list_invitations(actor: Actor) -> Sequence[Invitation]:
    require(actor, Permission.MANAGE_USERS)
    with session_scope(action="list invitations", read_only=True) as session:
        return invitation_rows.list_invitations(session=session)


def audit_actions(actor: Actor) -> list[str]:
    require(actor, Permission.READ_AUDIT)
    with session_scope(action="audit actions", read_only=True) as session:
        return audit_rows.list_audit_actions(session=session)


def audit_statuses(actor: Actor) -> list[str]:
    """Every status the audit log holds, for its filter."""
    require(actor, Permission.READ_AUDIT)
    with session_scope(action="audit statuses", read_only=True) as session:
        return audit_rows.list_audit_statuses(session=session)


@dataclass(frozen=True)
class AuditPage:
    """The newest events a filter matches, and how many it matches in all."""

    events: Sequence[AuditLog]
    total: int

    @property
    def complete(self) -> bool:
        return len(self.events) >= self.total


def audit_log(
    actor: Actor,
    *,
    action: str | None = None,
    status: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
) -> AuditPage:
    """The newest audit events a filter matches (at most DEFAULT_AUDIT_ROWS) and their total; admins only."""
    require(actor, Permission.READ_AUDIT)
    filters = {"action": action, "status": status, "username": username, "since": since}
    with session_scope(action="read audit log", read_only=True) as session:
        events = audit_rows.list_audit_events(session=session, actor=actor, **filters)
        return AuditPage(events=events, total=audit_rows.count_audit_events(session=session, actor=actor, **filters))
