"""Fetching prices from Yahoo on the Tickers page, and what each ticker's fetch came to."""

from datetime import date, timedelta

import streamlit as st

from core.auth import Actor, Permission, can
from core.data.yahoo import OFFLINE_MESSAGE
from core.preferences import Preferences
from core.services import market
from ui.errors import attempt
from ui.notices import keep_then_rerun, kept
from ui.tables import show_table
from ui.text import plain

FETCHED_KEY = "tickers.fetched"
FETCH_COLUMNS = {
    "ticker": "Ticker",
    "status": "Status",
    "rows": "Days stored",
    "dropped_rows": "Days dropped (empty or incomplete)",
    "message": "Message",
}


def render_fetch(actor: Actor, preferences: Preferences, *, offline_shown: bool) -> None:
    if not can(actor, Permission.FETCH):
        st.caption("Viewers can look at prices but not fetch them.")
        return
    with st.form("fetch"):
        text = st.text_area("Tickers", ", ".join(preferences.default_tickers), help="e.g. MSFT, BRK-B, ^GSPC")
        start_column, end_column = st.columns(2)
        start = start_column.date_input("From", date.today() - timedelta(days=5 * 365))
        end = end_column.date_input("To", date.today())
        refresh = st.checkbox("Only days after the last cached one (refresh)")
        submitted = st.form_submit_button("Fetch", icon=":material/cloud_download:")
    if not submitted:
        fetched = kept(FETCHED_KEY)
        if fetched is not None:
            show_fetch(fetched, offline_shown=offline_shown)
        return
    bar = st.progress(0.0, text="Fetching…")
    run = attempt(
        market.fetch_prices,
        actor,
        tickers=text,
        start=start,
        end=end,
        refresh=refresh,
        on_progress=lambda done, total, o: bar.progress(done / total, text=f"{o.ticker}: {o.status}"),
    )
    bar.empty()  # the table below says how each ticker went
    if run is None:
        return
    if run.table()["rows"].sum():  # prices were written: the Cache tab and the preview are to show them
        keep_then_rerun(FETCHED_KEY, run)
    show_fetch(run, offline_shown=offline_shown)


def show_fetch(run, *, offline_shown: bool) -> None:
    if run.offline and not offline_shown:
        st.warning(plain(OFFLINE_MESSAGE), icon=":material/cloud_off:")
    table = run.table()
    table["rows"] = table["rows"].map("{:,}".format)
    table["dropped_rows"] = table["dropped_rows"].map(lambda count: f"{count:,}" if count else "")
    show_table(table.rename(columns=FETCH_COLUMNS), hide_index=True)
