"""The user's default tickers on the Tickers page, typed or from a list file."""

import streamlit as st

from common.words import plural
from core.auth import Actor
from core.preferences import Preferences
from core.services import market
from ui.errors import attempt
from ui.text import plain


def render_ticker_lists(actor: Actor, preferences: Preferences) -> None:
    st.caption("Your default tickers fill the fetch form and the other pages' ticker choices.")
    with st.form("ticker_list"):
        typed = st.text_area("Tickers", ", ".join(preferences.default_tickers))
        file = st.file_uploader("…or a list file (CSV or TXT)", type=["csv", "txt"])
        column = st.text_input("Column in the CSV", placeholder="Ticker or Symbol")
        submitted = st.form_submit_button("Save as my default tickers")
    if not submitted:
        return
    tickers = attempt(
        market.save_ticker_list,
        actor,
        text=typed,
        data_bytes=file.getvalue() if file is not None else None,
        filename=file.name if file is not None else "",
        column=column.strip() or None,
    )
    if tickers is None:
        st.caption("Nothing saved: fix the list and save again.")
    else:
        st.success(f"Saved {plural(len(tickers), 'ticker')}: {plain(', '.join(tickers))}")
