"""The app's pages, in the order the sidebar shows them, and the signed-in user's menu."""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.errors import StreamlitAPIException

from core.config import PROJECT_ROOT
from db.repositories.actor import Actor
from ui.auth import AUTH_STATE_KEY

PAGES_DIR = PROJECT_ROOT / "app_pages"


def login_pages() -> list[st.Page]:
    return [st.Page(PAGES_DIR / "login.py", title="Log in", icon=":material/login:", default=True)]


def app_pages() -> dict[str, list[st.Page]]:
    """Sections of the sidebar and the pages in each."""
    return {
        "": [st.Page(PAGES_DIR / "home.py", title="Home", icon=":material/home:", default=True)],
        "Data": [
            st.Page(PAGES_DIR / "tickers.py", title="Tickers", icon=":material/list_alt:"),
            st.Page(PAGES_DIR / "indicators.py", title="Indicators", icon=":material/candlestick_chart:"),
        ],
        "Models": [
            st.Page(PAGES_DIR / "train.py", title="Train", icon=":material/model_training:"),
            st.Page(PAGES_DIR / "predictions.py", title="Predictions", icon=":material/query_stats:"),
            st.Page(PAGES_DIR / "metrics.py", title="Metrics", icon=":material/monitoring:"),
        ],
        "You": [st.Page(PAGES_DIR / "account.py", title="Account", icon=":material/person:")],
    }


def render_user_menu(authenticator: stauth.Authenticate, actor: Actor) -> Actor | None:
    """Who is signed in, with a logout button; None once they have logged out."""
    with st.sidebar:
        # Filled after the button, so a click on it never leaves "Signed in as" on screen.
        label = st.empty()
        authenticator.logout(button_name="Log out", location="sidebar", key="logout_button")
    if not st.session_state.get(AUTH_STATE_KEY):
        return None
    label.markdown(f"Signed in as **{actor.username}** · {actor.role}")
    return actor


def link_to(page: str, label: str, *, icon: str | None = None, disabled: bool = False) -> None:
    """A link to one of the app's pages (a file under app_pages/); plain text where no router runs."""
    try:
        st.page_link(str(PAGES_DIR / page), label=label, icon=icon, disabled=disabled)
    except StreamlitAPIException:
        # A page run on its own (tests, bare mode) has no router to link through.
        st.markdown(f"{icon or ''} {label}")
