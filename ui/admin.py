"""The admin's panel on the Account page: users, invitations, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from common.config import get_settings
from core.auth import AccountError, change_role, invite, reset_password_by_admin, set_active
from db.engine import session_scope
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.audit import list_audit_actions, list_audit_events
from db.repositories.invitations import list_invitations
from db.repositories.users import list_users
from db.types import utc_now
from ui.auth import client_ip
from ui.tables import show_table

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
    with session_scope() as session:
        people = list_users(session=session, actor=actor)
    show_table(
        [
            {
                "username": user.username,
                "email": user.email,
                "role": user.role,
                "tier": user.subscription_tier,
                "active": user.is_active,
                "last login": user.last_login,
                "created": user.created_at,
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
    role_column, active_column, reset_column = st.columns(3)
    new_role = role_column.selectbox("Role", [r.value for r in Role], index=[r.value for r in Role].index(user.role))
    try:
        if role_column.button("Change role", disabled=new_role == user.role):
            with session_scope(action="role change") as session:
                change_role(session=session, actor=actor, user_id=user.id, role=Role(new_role), client_ip=client_ip())
            st.success(f"{user.username} is now {new_role}.")
        label = "Deactivate" if user.is_active else "Reactivate"
        if active_column.button(label):
            with session_scope(action=label.lower()) as session:
                set_active(
                    session=session,
                    actor=actor,
                    user_id=user.id,
                    active=not user.is_active,
                    client_ip=client_ip(),
                )
            st.success(f"{user.username} {label.lower()}d.")
        if reset_column.button("Reset password"):
            with session_scope(action="password reset") as session:
                temporary = reset_password_by_admin(
                    session=session, actor=actor, user_id=user.id, client_ip=client_ip()
                )
            st.warning(f"Temporary password for {user.username}, shown once; they should change it:")
            st.code(temporary, language=None)
    except AccountError as error:
        st.error(str(error))


def render_invitations(actor: Actor) -> None:
    if get_settings().registration_mode != "invite":
        st.caption("Registration is open (REGISTRATION_MODE=open): anyone can register; invitations are not needed.")
    with st.form("invite", clear_on_submit=True):
        email = st.text_input("E-mail address to invite")
        submitted = st.form_submit_button("Invite")
    if submitted:
        try:
            with session_scope(action="invite") as session:
                invite(session=session, actor=actor, email=email)
        except AccountError as error:
            st.error(str(error))
        else:
            st.success("Invitation saved: this address may now register.")
            st.text(email.strip())
    with session_scope() as session:
        rows = [
            {"email": i.email, "invited": i.created_at, "used": i.used_at} for i in list_invitations(session=session)
        ]
    show_table(rows, hide_index=True)


def render_audit_log(actor: Actor) -> None:
    with session_scope() as session:
        actions = list_audit_actions(session=session)
    action_column, status_column, user_column, since_column = st.columns(4)
    action = action_column.selectbox("Action", actions, index=None, placeholder="any")
    status = status_column.selectbox("Status", ["ok", "failed", "locked", "unavailable"], index=None, placeholder="any")
    username = user_column.text_input("Username")
    since = since_column.selectbox("Since", list(SINCE_CHOICES), index=None, placeholder="any time")
    with session_scope() as session:
        events = list_audit_events(
            session=session,
            actor=actor,
            action=action,
            status=status,
            username=username or None,
            since=utc_now() - SINCE_CHOICES[since] if since else None,
        )
    show_table(
        [
            {
                "at": event.at,
                "user": event.username,
                "action": event.action,
                "status": event.status,
                "detail": event.detail,
                "address": event.ip,
                "ms": event.latency_ms,
            }
            for event in events
        ],
        hide_index=True,
    )
