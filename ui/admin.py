"""The admin's panel on the Account page: users, invitations, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from common.config import get_settings
from common.words import plural
from core.services import accounts
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.types import utc_now
from ui.errors import attempt
from ui.notices import done_then_rerun
from ui.tables import show_table
from ui.text import plain

SINCE_CHOICES = {
    "last hour": timedelta(hours=1),
    "last day": timedelta(days=1),
    "last week": timedelta(weeks=1),
}


def render_admin(actor: Actor) -> None:
    st.header("Administration")
    users, invitations, audit = st.tabs(["Users", "Invitations", "Audit log"])
    with users:
        render_users(actor)
    with invitations:
        render_invitations(actor)
    with audit:
        render_audit_log(actor)


def render_users(actor: Actor) -> None:
    people = attempt(accounts.list_users, actor) or []
    show_table(
        [
            {
                "Username": user.username,
                "E-mail": user.email,
                "Role": user.role,
                "Tier": user.subscription_tier,
                "Active": user.is_active,
                "Last login": user.last_login,
                "Created": user.created_at,
            }
            for user in people
        ],
        hide_index=True,
    )
    by_name = {user.username: user for user in people}
    chosen = st.selectbox("Manage a user", list(by_name), index=None, placeholder="Choose a user")
    if chosen is None:
        return
    user = by_name[chosen]
    # Keyed by the user: unkeyed, a control looks the same for two users with the same stored values,
    # and keeps what was chosen for the previous user, one click from being applied to this one.
    role_column, active_column, reset_column = st.columns(3)
    roles = [r.value for r in Role]
    new_role = role_column.selectbox("Role", roles, index=roles.index(user.role), key=f"role-{user.id}")
    changing = role_column.button("Change role", disabled=new_role == user.role, key=f"change-role-{user.id}")
    if changing and attempt(accounts.change_role, actor, user_id=user.id, role=Role(new_role)):
        done_then_rerun(f"{user.username} is now {new_role}.")
    label = "Deactivate" if user.is_active else "Reactivate"
    toggled = active_column.button(label, key=f"set-active-{user.id}")
    if toggled and attempt(accounts.set_active, actor, user_id=user.id, active=not user.is_active):
        done = "deactivated: they can no longer log in" if user.is_active else "reactivated: they can log in again"
        done_then_rerun(f"{user.username} {done}.")
    if reset_column.button("Reset password", key=f"reset-password-{user.id}"):
        reset = attempt(accounts.reset_password, actor, user_id=user.id)
        if reset:
            revoked = f"{plural(reset.revoked_keys, 'API key')} {'was' if reset.revoked_keys == 1 else 'were'} revoked"
            st.success(plain(f"Reset {user.username}'s password: their sessions have ended and {revoked}."))
            st.warning(plain(f"Temporary password for {user.username}, shown once; they should change it:"))
            st.code(reset.temporary_password, language=None)


def render_invitations(actor: Actor) -> None:
    if get_settings().registration_mode != "invite":
        st.caption("Registration is open (REGISTRATION_MODE=open): anyone can register; invitations are not needed.")
    with st.form("invite", clear_on_submit=True):
        email = st.text_input("E-mail address to invite")
        submitted = st.form_submit_button("Invite")
    if submitted and attempt(accounts.invite, actor, email=email):
        st.success("Invitation saved: this address may now register.")
        st.text(email.strip())
    invitations = attempt(accounts.list_invitations, actor) or []
    show_table([{"E-mail": i.email, "Invited": i.created_at, "Used": i.used_at} for i in invitations], hide_index=True)


def render_audit_log(actor: Actor) -> None:
    actions = attempt(accounts.audit_actions, actor) or []
    action_column, status_column, user_column, since_column = st.columns(4)
    action = action_column.selectbox("Action", actions, index=None, placeholder="any")
    status = status_column.selectbox("Status", ["ok", "failed", "locked", "unavailable"], index=None, placeholder="any")
    username = user_column.text_input("Username")
    since = since_column.selectbox("Since", list(SINCE_CHOICES), index=None, placeholder="any time")
    events = attempt(
        accounts.audit_log,
        actor,
        action=action,
        status=status,
        username=username or None,
        since=utc_now() - SINCE_CHOICES[since] if since else None,
    )
    show_table(
        [
            {
                "At": event.at,
                "User": event.username,
                "Action": event.action,
                "Status": event.status,
                "Detail": event.detail,
                "Address": event.ip,
                "Latency (ms)": event.latency_ms,
            }
            for event in events or []
        ],
        hide_index=True,
    )
