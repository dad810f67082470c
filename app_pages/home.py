"""Home: the analyst's start page: watchlist, recent jobs, predictions that met their day; system status for admins."""

from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.home import StartPage
from core.services.home import home_page
from core.status import system_status
from ui.auth import require_login
from ui.errors import attempt
from ui.format import show_readable
from ui.freshness import now
from ui.navigation import link_to
from ui.status import render_status_panel
from ui.tables import text_width
from ui.text import plain

SINCE_KEY = "home_seen_since"


# A page link is one line, cut where it meets its box's edge: on a 390 px phone that is about 36 characters,
# and "1. Load prices: fetch, upload, or the S&P 500 sample" ended in "samp". The pages say the rest.
PHONE_LINK_CHARS = 36
FIRST_STEPS = {
    "prices": ("tickers.py", "Load prices on the Tickers page"),
    "model": ("train.py", "Train a model on the Train page"),
    "prediction": ("predictions.py", "Predict into your ledger"),
}


def render_first_steps(page: StartPage) -> None:
    with st.container(border=True):
        st.header("Getting started")
        for number, step in enumerate(page.first_steps, start=1):
            target, text = FIRST_STEPS[step.name]
            if step.done:
                # Text that says so, not a disabled link: a screen reader announced a done step as a link that
                # went nowhere, its state only in grey and an icon hidden from it. Text wraps on a phone, too.
                st.markdown(f":material/check_circle: {number:d}. {text} (done)")
            else:
                link_to(target, f"{number}. {text}", icon=":material/radio_button_unchecked:")


def render_watchlist(page: StartPage) -> None:
    st.header("Watchlist")
    if not page.watchlist:
        st.caption("No prices yet: the watchlist fills once prices are loaded.")
        return
    if not page.watchlist_is_default:
        st.caption("Showing the first tickers in the cache: choose your default tickers on the Account page.")
    rows = pd.DataFrame([asdict(row) for row in page.watchlist])
    rows["stale"] = rows["stale"].map({True: "stale", False: ""})
    show_readable(
        rows,
        keep={"last_bar": "Last bar", "recent": "Last 30 closes"},
        column_config={"Last 30 closes": st.column_config.LineChartColumn("Last 30 closes")},
    )
    stale = [row for row in page.watchlist if row.stale]
    if stale:
        names = ", ".join(f"{row.ticker} (last bar {row.last_bar:%Y-%m-%d})" for row in stale)
        st.warning(
            f"Prices older than the last trading day: {plain(names)}. "
            "Fetch newer ones, or upload a newer file, on the Tickers page."
        )


def render_matured(page: StartPage) -> None:
    since = "since your last visit" if page.seen_since.year > 1970 else "so far"
    st.header("Predictions that met their day")
    if not page.matured:
        st.caption(f"No prediction has met its actual price {since}.")
        return
    rows = pd.DataFrame([asdict(row) for row in page.matured])
    rows["direction_right"] = rows["direction_right"].map({True: "hit", False: "miss"}).fillna("no call")
    shown = f"The latest {len(rows)} of {page.matured_total}" if page.matured_total > len(rows) else f"{len(rows)}"
    st.caption(
        f"{shown} {since}: hit means the predicted move had the sign of the real one; a forecast of no move makes "
        "no call."
    )
    show_readable(rows, keep={"direction_right": "Direction", "predicted": "Predicted", "actual": "Actual"})


def render_jobs(page: StartPage) -> None:
    st.header("Recent jobs")
    if not page.jobs:
        st.caption("No jobs yet: training runs on the Train page.")
        return
    rows = pd.DataFrame([asdict(job) for job in page.jobs])
    rows["progress"] = rows["progress"].astype(float)
    show_readable(
        rows, keep={"created_at": "Queued", "finished_at": "Finished", "job": "Job"},
        column_config={
            "Progress": st.column_config.ProgressColumn("Progress", min_value=0.0, max_value=1.0),
            # A verdict or a failure's reason: read whole, not cut at the cell's edge.
            "Message": st.column_config.TextColumn("Message", width=text_width(rows["message"], "Message")),
        },
    )  # fmt: skip


def main() -> None:
    actor = require_login()
    st.title("Candlecast")
    status = system_status()
    if not (status.database.health.ok and status.database.migrated):
        render_status_panel(status)  # nothing below can work: everyone sees why
        return
    page = attempt(home_page, actor, now=now(), seen_since=st.session_state.get(SINCE_KEY))
    if page is None:
        return
    # Reruns of this visit keep the list of outcomes the first run found.
    st.session_state.setdefault(SINCE_KEY, page.seen_since)
    if page.first_run:
        render_first_steps(page)
    render_watchlist(page)
    render_matured(page)
    render_jobs(page)
    if actor.is_admin:
        with st.expander("System status (admins)", icon=":material/monitor_heart:"):
            st.button("Refresh status", icon=":material/refresh:")
            render_status_panel(status)


if __name__ == "__main__":
    main()
