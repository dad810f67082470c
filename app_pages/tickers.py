"""Tickers: keep ticker lists, fetch prices from Yahoo, upload price files, and manage the price cache."""

import streamlit as st

from core.data.yahoo import OFFLINE_MESSAGE, yahoo_reachable
from core.services import accounts
from ui.auth import require_login
from ui.errors import attempt
from ui.notices import show_notice
from ui.price_cache import render_cache
from ui.price_fetch import render_fetch
from ui.price_upload import render_upload
from ui.text import plain
from ui.ticker_lists import render_ticker_lists


@st.cache_data(ttl=300, show_spinner=False)
def yahoo_is_reachable() -> bool:
    return yahoo_reachable()


def main() -> None:
    actor = require_login()
    st.title("Tickers")
    show_notice()
    offline = not yahoo_is_reachable()
    if offline:
        st.info(plain(OFFLINE_MESSAGE), icon=":material/cloud_off:")
    preferences = attempt(accounts.read_preferences, actor)
    if preferences is None:
        return
    cache, fetch, upload, lists = st.tabs(["Cache", "Fetch", "Upload prices", "Ticker lists"])
    with cache:
        render_cache(actor, preferences)
    with fetch:
        render_fetch(actor, preferences, offline_shown=offline)
    with upload:
        render_upload(actor)
    with lists:
        render_ticker_lists(actor, preferences)


if __name__ == "__main__":
    main()
