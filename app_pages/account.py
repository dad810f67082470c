"""Account: profile, password, API keys, preferences, usage; admins manage users and read the audit log."""

import streamlit as st

from common.config import get_settings
from core.actions import quotas
from core.auth import ApiKeyError, create_api_key, list_keys, revoke_key
from core.preferences import DATE_RANGES, NOTIFICATIONS, PreferencesError, load_preferences, save_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.usage import list_usage
from db.repositories.users import get_user
from ui.admin import render_admin
from ui.auth import client_ip, database_or_stop, get_authenticator, render_password_change, require_login
from ui.tables import show_table


def render_profile(actor: Actor) -> None:
    with session_scope() as session:
        user = get_user(session=session, user_id=actor.user_id)
    left, right = st.columns(2)
    # Names and addresses are what people typed: shown as text, never as markdown.
    left.text(f"{user.full_name or user.username}\n{user.email}")
    last = f"last login {user.last_login:%Y-%m-%d %H:%M} UTC" if user.last_login else "first login"
    right.text(f"Role {user.role} · tier {user.subscription_tier}\n{last}")


def render_api_keys(actor: Actor) -> None:
    with st.form("new_api_key", clear_on_submit=True):
        name = st.text_input("Key name", max_chars=100, help="What the key is for, e.g. 'nightly fetch job'")
        expiry = st.selectbox("Expires", ["in 30 days", "in 90 days", "in 365 days", "never"], index=1)
        submitted = st.form_submit_button("Create key")
    if submitted:
        days = None if expiry == "never" else int(expiry.split()[1])
        try:
            with session_scope(action="api key create") as session:
                created = create_api_key(
                    session=session, actor=actor, name=name, expires_in_days=days, client_ip=client_ip()
                )
        except ApiKeyError as error:
            st.error(str(error))
        else:
            st.success("Copy the key now: it is shown only once.")
            st.code(created.secret, language=None)

    with session_scope() as session:
        keys = list_keys(session=session, actor=actor)
    if not keys:
        st.caption("No API keys yet.")
        return
    show_table(
        [
            {
                "name": key.name,
                "prefix": key.prefix + "…",
                "created": key.created_at,
                "last used": key.last_used,
                "expires": key.expires_at,
                "active": key.is_active,
            }
            for key in keys
        ],
        hide_index=True,
    )
    active = {f"{key.name} ({key.prefix}…)": key.id for key in keys if key.is_active}
    if active:
        chosen = st.selectbox("Revoke a key", list(active), index=None, placeholder="Choose a key")
        if st.button("Revoke", disabled=chosen is None):
            with session_scope(action="api key revoke") as session:
                revoke_key(session=session, actor=actor, key_id=active[chosen], client_ip=client_ip())
            st.success(f"Revoked {chosen}: it no longer authenticates.")
            st.rerun()


def render_preferences(actor: Actor) -> None:
    with session_scope() as session:
        current = load_preferences(session=session, actor=actor)
    with st.form("preferences"):
        tickers = st.text_area(
            "Default tickers", ", ".join(current.default_tickers), help="Separated by commas, spaces or lines"
        )
        theme = st.radio("Chart theme", ["light", "dark"], index=["light", "dark"].index(current.chart_theme))
        date_range = st.selectbox("Default chart range", DATE_RANGES, index=DATE_RANGES.index(current.default_range))
        notifications = {
            key: st.checkbox(label, value=current.notifications[key]) for key, label in NOTIFICATIONS.items()
        }
        submitted = st.form_submit_button("Save preferences")
    if submitted:
        try:
            with session_scope(action="save preferences") as session:
                save_preferences(
                    session=session,
                    actor=actor,
                    tickers_text=tickers,
                    chart_theme=theme,
                    default_range=date_range,
                    notifications=notifications,
                )
        except PreferencesError as error:
            st.error(str(error))
        else:
            st.success("Preferences saved.")


def render_usage(actor: Actor) -> None:
    settings = get_settings()
    with session_scope() as session:
        counts = {row.endpoint: row.request_count for row in list_usage(session=session, actor=actor)}
    rows = [
        {
            "action": quota.action,
            "today": counts.get(quota.action, 0),
            "limit": quota.limit,
            "left in window": quota.remaining if quota.remaining is not None else "unknown (Redis unreachable)",
        }
        for quota in quotas(actor=actor, settings=settings, throttle=get_throttle())
    ]
    show_table(rows, hide_index=True)


def main() -> None:
    actor = require_login()
    st.title("Account")
    with database_or_stop():
        render_profile(actor)
        password, keys, preferences, usage = st.tabs(["Password", "API keys", "Preferences", "Usage"])
        with password:
            render_password_change(get_authenticator(get_settings()), actor)
        with keys:
            render_api_keys(actor)
        with preferences:
            render_preferences(actor)
        with usage:
            render_usage(actor)
        if actor.is_admin:
            st.divider()
            render_admin(actor)


if __name__ == "__main__":
    main()
