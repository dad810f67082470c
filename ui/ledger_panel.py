"""The ledger: every prediction kept, the scoreboard of those that met their day, a chart and the table."""

import pandas as pd
import streamlit as st

from core.auth import Actor
from core.services import forecasts
from ui.charts import CHART_CONFIG, ledger_figure
from ui.errors import attempt
from ui.format import SCOREBOARD_LABELS, show_readable
from ui.tables import csv_download
from ui.text import plain

LEDGER_KEY = "ledger_as_read"
CHART_TICKERS = 4
# Rows of the ledger the table shows, newest first. The whole of a heavy user's ledger (20,000 rows, 3 MB) went
# to the browser on every run, whatever was clicked; the scoreboard and the CSV download still take every row.
LEDGER_ROWS_SHOWN = 1_000


def current_ledger(actor: Actor) -> dict | None:
    """The ledger kept in this browser session, read again only when it changed.

    Every click reruns the page, and reading a heavy user's 20,000 predictions with their outcomes took
    half a second; whether anything changed is one small query. Session state rather than st.cache_data:
    it is this user's alone, and hands the frame back without copying it. Holds the freshness it was read
    at, the ledger, and the scoreboard of the last filters chosen (the slowest part after the read).
    """
    # Read before the ledger: a change committed between the two is then in the copy but not in its
    # freshness, and costs one more read on the next run, never a stale ledger.
    freshness = attempt(forecasts.ledger_freshness, actor)
    if freshness is None:
        return None
    kept = st.session_state.get(LEDGER_KEY)
    if kept is None or kept["freshness"] != freshness:
        ledger = attempt(forecasts.ledger, actor)
        if ledger is None:
            return None
        kept = {"freshness": freshness, "ledger": ledger, "board": None}
        st.session_state[LEDGER_KEY] = kept
    return kept


def scoreboard_of(kept: dict, shown: pd.DataFrame, filters: tuple) -> pd.DataFrame:
    """The scoreboard of the rows shown, computed again only when the ledger or the filters changed."""
    if kept["board"] is None or kept["board"][0] != filters:
        kept["board"] = (filters, forecasts.scoreboard(shown))
    return kept["board"][1]


def render_ledger(actor: Actor, template: str) -> None:
    kept = current_ledger(actor)
    if kept is None:
        return
    ledger = kept["ledger"]
    if ledger.empty:
        st.caption("The ledger is empty: every prediction you make is kept here and scored once its day has come.")
        return
    left, right = st.columns(2)
    tickers = left.multiselect("Tickers", sorted(ledger["ticker"].unique()))
    models = right.multiselect("Models", sorted(ledger["model"].unique()))
    keep = ledger["ticker"].isin(tickers or ledger["ticker"].unique()) & ledger["model"].isin(
        models or ledger["model"].unique()
    )
    shown = ledger[keep]
    st.subheader("Scoreboard (matured predictions)")
    board = scoreboard_of(kept, shown, (tuple(tickers), tuple(models)))
    if board.empty:
        st.caption("No prediction has met its actual price yet: refresh the prices after the target days.")
    else:
        show_readable(
            board,
            keep=SCOREBOARD_LABELS,
            # Long model names took three quarters of a phone's width and pushed the verdict out of view.
            column_config={"Model": st.column_config.TextColumn("Model", width="medium")},
        )
        st.caption(
            "Figures marked one-day are of each run's first forecast day alone, the forecasts the verdict tests: "
            "a run's later days share their moves with the next run's, so they are no independent trials. Figures "
            "marked all horizons take every matured day, later days' larger errors too, and can disagree with the "
            "verdict. MASE below 1 means smaller errors than tomorrow = today on the same days; direction right is "
            "how often the predicted move had the sign of the real one, and its p-value the chance of doing as well "
            "by coin toss."
        )
    charted = shown
    if not tickers and shown["ticker"].nunique() > CHART_TICKERS:
        # Newest target day first: the tickers forecast last. A pane per ticker for every one cost over half a
        # second of each run for a long ledger, and showed nothing readable.
        latest = shown["ticker"].drop_duplicates().head(CHART_TICKERS).tolist()
        charted = shown[shown["ticker"].isin(latest)]
        st.caption(
            plain(f"The chart shows the {CHART_TICKERS} tickers forecast last; choose tickers above to see others.")
        )
    st.plotly_chart(ledger_figure(charted, template=template), width="stretch", theme=None, config=CHART_CONFIG)
    st.caption(
        "Actual is the target day's close on the price scale of the day the forecast was made, as the forecast "
        "is; it differs from the close as traded only across a split or dividend between the two days."
    )
    # The version's id is for joining a download to versions elsewhere; on the page the Model column names it.
    show_readable(
        shown.head(LEDGER_ROWS_SHOWN).drop(columns=["id", "model_type", "confidence_score", "model_version_id"])
    )
    if len(shown) > LEDGER_ROWS_SHOWN:
        st.caption(
            f"The table shows the newest {LEDGER_ROWS_SHOWN:,} of these {len(shown):,} predictions; "
            "the CSV download holds all of them."
        )
    csv_download("Download the ledger (CSV)", shown.drop(columns=["id"]), "ledger.csv")
