"""Log in or register: the only page a visitor can reach."""

import streamlit as st

from common.config import get_settings
from ui.auth import get_authenticator, is_logged_in, render_login, render_registration
from ui.text import plain


def main() -> None:
    settings = get_settings()
    authenticator = get_authenticator(settings)
    st.title("Candlecast")
    st.caption("Stock analytics with honest forecasts. Log in or create an account.")
    # Kept until the next login: the logout component reruns the page, and a notice popped on the
    # first run would vanish before anyone read it.
    notice_slot = st.empty()
    notice = st.session_state.get("auth_notice")
    if notice:
        notice_slot.info(plain(notice), icon=":material/info:")
    log_in, sign_up = st.tabs(["Log in", "Register"])
    with log_in:
        already_in = is_logged_in()
        if render_login(authenticator) and not already_in:
            st.rerun()  # the router now offers every page
    if notice and "auth_notice" not in st.session_state:
        notice_slot.empty()  # a login was tried: its outcome is what to read now
    with sign_up:
        render_registration(authenticator, settings)


if __name__ == "__main__":
    main()
