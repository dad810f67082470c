"""The app's pages, in the order the sidebar shows them, and the signed-in user's menu."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from common.config import PROJECT_ROOT, Settings
from db.repositories.actor import Actor
from ui.auth import AUTH_STATE_KEY, log_out
from ui.text import plain

PAGES_DIR = PROJECT_ROOT / "app_pages"


NEXT_PARAM = "next"  # the page a visitor asked for, carried through the login page


def login_page() -> st.Page:
    return st.Page(PAGES_DIR / "login.py", title="Log in", icon=":material/login:", default=True)


def app_pages(*, home_is_default: bool = True) -> dict[str, list[st.Page]]:
    """Sections of the sidebar and the pages in each."""
    home = st.Page(PAGES_DIR / "home.py", title="Home", icon=":material/home:", default=home_is_default)
    return {
        "": [home],
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


def route_visitor() -> None:
    """Show a visitor the login page, whatever URL they typed; the page they asked for rides along in the URL.

    Every page is known to the router (hidden), so a typed page URL is recognised rather than
    "not found", and the login page can send the user there afterwards with its query intact.
    """
    login = login_page()
    pages = [login, *(page for section in app_pages(home_is_default=False).values() for page in section)]
    chosen = st.navigation(pages, position="hidden")
    if chosen.url_path in ("", login.url_path) or chosen is login:
        chosen.run()
        return
    st.switch_page(login, query_params={**st.query_params.to_dict(), NEXT_PARAM: chosen.url_path})


def route_member() -> None:
    """Run the page a signed-in user asked for; straight after a login, the one they asked for before it."""
    sections = app_pages()
    chosen = st.navigation(sections)
    wanted = st.query_params.get(NEXT_PARAM)
    if wanted is not None:
        rest = {key: value for key, value in st.query_params.to_dict().items() if key != NEXT_PARAM}
        target = next((page for section in sections.values() for page in section if page.url_path == wanted), None)
        if target is not None:
            st.switch_page(target, query_params=rest)
        del st.query_params[NEXT_PARAM]
    chosen.run()


def render_user_menu(settings: Settings, actor: Actor) -> Actor | None:
    """Who is signed in, with a logout button; None once they have logged out."""
    with st.sidebar:
        # Filled after the button, so a click on it never leaves "Signed in as" on screen.
        label = st.empty()
        # The library's own logout button would need its Authenticate, and so its cookie
        # component, on every page (see get_authenticator): it is built on the click instead.
        if st.button("Log out", key="logout_button"):
            log_out(settings)
    if not st.session_state.get(AUTH_STATE_KEY):
        return None
    label.markdown(f"Signed in as **{plain(actor.username)}** · {plain(actor.role)}")
    return actor


def link_to(page: str, label: str, *, icon: str | None = None, disabled: bool = False) -> None:
    """A link to one of the app's pages (a file under app_pages/); plain text where no router runs."""
    if not (PAGES_DIR / page).is_file():
        # Checked first: the fallback below would otherwise draw a wrong name as text, silently unlinked.
        raise ValueError(f"no page {page} under {PAGES_DIR.name}/")
    try:
        st.page_link(str(PAGES_DIR / page), label=label, icon=icon, disabled=disabled)
    except StreamlitAPIException:
        # A page run on its own (tests, bare mode) has no router to link through.
        st.markdown(f"{icon or ''} {label}")
