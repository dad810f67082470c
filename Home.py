"""Candlecast: the entry point. Settings check, login gate, and the router over app_pages/."""

import streamlit as st

from ui.auth import bind_client_address, current_actor, refresh_cookie_if_due, resume_from_cookie
from ui.bootstrap import database_or_stop, settings_or_stop
from ui.navigation import render_user_menu, route_member, route_visitor
from ui.notifications import show_notifications

st.set_page_config(page_title="Candlecast", page_icon=":material/candlestick_chart:", layout="wide")
settings = settings_or_stop()
database_or_stop(settings)
bind_client_address()
resume_from_cookie(settings)
actor = current_actor(settings)
if actor is not None:
    actor = render_user_menu(settings, actor)
if actor is None:
    # A visitor sees only the login page; a typed URL of another page opens it after the login.
    route_visitor()
else:
    refresh_cookie_if_due(settings)
    show_notifications(actor)
    route_member()
