"""Preferences on the Account page: default tickers, chart theme and range, notifications."""

import streamlit as st

from core.auth import Actor
from core.preferences import DATE_RANGES, MAX_DEFAULT_TICKERS, NOTIFICATIONS
from core.services import accounts
from ui.errors import attempt


def render_preferences(actor: Actor) -> None:
    current = attempt(accounts.read_preferences, actor)
    if current is None:
        return
    with st.form("preferences"):
        tickers = st.text_area(
            "Default tickers",
            ", ".join(current.default_tickers),
            help=f"Separated by commas, spaces or lines; at most {MAX_DEFAULT_TICKERS}",
        )
        theme = st.radio("Chart theme", ["light", "dark"], index=["light", "dark"].index(current.chart_theme))
        date_range = st.selectbox("Default chart range", DATE_RANGES, index=DATE_RANGES.index(current.default_range))
        notifications = {
            key: st.checkbox(label, value=current.notifications[key]) for key, label in NOTIFICATIONS.items()
        }
        submitted = st.form_submit_button("Save preferences")
    if submitted and attempt(
        accounts.save_preferences,
        actor,
        tickers_text=tickers,
        chart_theme=theme,
        default_range=date_range,
        notifications=notifications,
    ):
        st.success("Preferences saved.")
