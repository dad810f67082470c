"""Account: profile, password, API keys and their usage, preferences, quotas; admins manage users and the audit log."""

import streamlit as st

from common.config import get_settings
from ui.admin import render_admin
from ui.api_keys_panel import render_api_keys
from ui.auth import get_authenticator, render_password_change, require_login
from ui.notices import show_notice
from ui.preferences_form import render_preferences
from ui.profile_panel import render_profile, render_usage


def main() -> None:
    actor = require_login()
    st.title("Account")
    show_notice()
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
