"""The admin's panel on the Account page: users, invitations, and the audit log."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from common.config import get_settings
from common.words import plural
from core.services import accounts
from db.models import Invitation
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.types import utc_now
from ui.confirm import confirmed
from ui.errors import attempt
from ui.format import in_local_time
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
    table, moments = in_local_time(
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
        ["Username", "E-mail", "Role", "Tier", "Active", "Last login", "Created"],
        ["Last login", "Created"],
    )
    show_table(table, hide_index=True, column_config=moments)
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
    oneself = user.id == actor.user_id and user.is_active
    toggled = active_column.button(
        label,
        key=f"set-active-{user.id}",
        disabled=oneself,
        help="You cannot deactivate yourself: another admin can." if oneself else None,
    )
    if toggled and attempt(accounts.set_active, actor, user_id=user.id, active=not user.is_active):
        done = "deactivated: they can no longer log in" if user.is_active else "reactivated: they can log in again"
        done_then_rerun(f"{user.username} {done}.")
    # It ends the user's sessions and revokes every key of theirs: one stray click must not do that.
    question = (
        f"Reset {user.username}'s password? Their sessions end and every API key of theirs is revoked; "
        "you get a temporary password to pass on."
    )
    if confirmed("Reset password", question, key=f"reset-password-{user.id}", container=reset_column):
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
    if submitted:
        invited = attempt(accounts.invite, actor, email=email)
        if invited:
            st.success(
                plain(f"Invited {invited.record.email}. Pass this code on with the address; it is shown only once:")
            )
            st.code(invited.code, language=None)
    invitations = attempt(accounts.list_invitations, actor) or []
    table, moments = in_local_time(
        [
            {"E-mail": i.email, "Invited": i.created_at, "Used": i.used_at, "Code": invitation_code_state(i)}
            for i in invitations
        ],
        ["E-mail", "Invited", "Used", "Code"],
        ["Invited", "Used"],
    )
    show_table(table, hide_index=True, column_config=moments)
    render_new_code([i.email for i in invitations if i.used_at is None], actor)
    if any(i.used_at is None and not i.has_code for i in invitations):
        st.caption(
            "Invitations made before invitation codes have none and admit nobody: give each a new code and pass it on."
        )


def invitation_code_state(invitation: Invitation) -> str:
    if invitation.used_at is not None:
        return "used"
    return "given" if invitation.has_code else "none: give it a new code"


def render_new_code(open_addresses: list[str], actor: Actor) -> None:
    """A new code for an open invitation: its code was lost, or it was made before codes."""
    if not open_addresses:
        return
    chosen_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    email = chosen_column.selectbox("Give a new code to", open_addresses, index=None, placeholder="Choose an address")
    if button_column.button("New code", disabled=email is None):
        invited = attempt(accounts.reissue_invitation, actor, email=email)
        if invited:
            st.success(
                plain(
                    f"New code for {invited.record.email}; the one before no longer works. "
                    "Pass it on; it is shown only once:"
                )
            )
            st.code(invited.code, language=None)


def render_audit_log(actor: Actor) -> None:
    actions = attempt(accounts.audit_actions, actor) or []
    action_column, status_column, user_column, since_column = st.columns(4)
    action = action_column.selectbox("Action", actions, index=None, placeholder="any")
    statuses = attempt(accounts.audit_statuses, actor) or []
    status = status_column.selectbox("Status", statuses, index=None, placeholder="any")
    username = user_column.text_input("Username")
    since = since_column.selectbox("Since", list(SINCE_CHOICES), index=None, placeholder="any time")
    page = attempt(
        accounts.audit_log,
        actor,
        action=action,
        status=status,
        username=username or None,
        since=utc_now() - SINCE_CHOICES[since] if since else None,
    )
    columns = ["At", "User", "Action", "Status", "Detail", "Address", "Latency (ms)"]
    events = page.events if page else []
    table, moments = in_local_time(
        [
            dict(zip(columns, (e.at, e.username, e.action, e.status, e.detail, e.ip, e.latency_ms), strict=True))
            for e in events
        ],
        columns,
        ["At"],
        seconds=True,
    )
    show_table(table, hide_index=True, column_config=moments)
    if page and not page.complete:
        st.caption(
            f"Showing the newest {len(page.events):,} of {page.total:,} matching events: "
            "narrow the filters to see older ones."
        )
