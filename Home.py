"""Candlecast: the entry point. Settings check, login gate, and the router over app_pages/."""

import streamlit as st

from ui.auth import (
    bind_client_address,
    build_authenticator,
    current_actor,
    refresh_cookie_if_due,
    resume_from_cookie,
)
from ui.bootstrap import settings_or_stop
from ui.navigation import app_pages, login_pages, render_user_menu
from ui.notifications import show_notifications

st.set_page_config(page_title="Candlecast", page_icon=":material/candlestick_chart:", layout="wide")
settings = settings_or_stop()
bind_client_address()
authenticator = build_authenticator(settings)
resume_from_cookie(authenticator)
actor = current_actor(settings)
if actor is not None:
    actor = render_user_menu(authenticator, actor)
if actor is None:
    # Only the login page exists for a visitor: a typed URL of any other page lands here too.
    st.navigation(login_pages()).run()
else:
    refresh_cookie_if_due(authenticator)
    show_notifications(actor)
    st.navigation(app_pages()).run()
