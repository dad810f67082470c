"""Authentication and authorisation: accounts, login sessions, roles, API keys, and who acts (Actor)."""

from core.auth.accounts import (
    LOGIN_REFUSED,
    LOGIN_UNAVAILABLE,
    AccountError,
    LoginOutcome,
    NewInvitation,
    authenticate,
    change_password,
    change_role,
    invite,
    log_out,
    register,
    reissue_invitation,
    reset_password_by_admin,
    set_active,
)
from core.auth.api_keys import ApiKeyError, NewApiKey, create_api_key, list_keys, revoke_key, verify_api_key
from core.auth.roles import Permission, PermissionDeniedError, can, require
from core.auth.sessions import (
    SessionClaims,
    cookie_signing_key,
    issue_session_token,
    read_session_token,
    resume_session,
    session_is_current,
)
from db.repositories.actor import Actor

__all__ = [
    "LOGIN_REFUSED",
    "LOGIN_UNAVAILABLE",
    "AccountError",
    "Actor",
    "ApiKeyError",
    "LoginOutcome",
    "NewApiKey",
    "NewInvitation",
    "Permission",
    "PermissionDeniedError",
    "SessionClaims",
    "authenticate",
    "can",
    "change_password",
    "change_role",
    "cookie_signing_key",
    "create_api_key",
    "invite",
    "issue_session_token",
    "list_keys",
    "log_out",
    "read_session_token",
    "register",
    "reissue_invitation",
    "require",
    "reset_password_by_admin",
    "resume_session",
    "revoke_key",
    "session_is_current",
    "set_active",
    "verify_api_key",
]
