"""Showing the user's notifications as toasts, once each, on their next page view."""

from __future__ import annotations

import streamlit as st

from core.services.home import news_since
from db.repositories.actor import Actor
from db.types import utc_now
from ui.text import plain

SEEN_KEY = "notified_until"


def show_notifications(actor: Actor) -> None:
    now = utc_now()
    since = st.session_state.get(SEEN_KEY)
    st.session_state[SEEN_KEY] = now
    if since is None:
        return  # a new session starts from now: no burst of old news at login
    for message in news_since(actor, since=since):
        st.toast(plain(message), icon=":material/notifications:")
