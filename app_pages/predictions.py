"""Predictions: forecast the next trading days, keep every forecast in a ledger, and score them as days pass."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor
from core.forecasting.config import MAX_FORECAST_DAYS
from core.forecasting.evaluation import stored_number
from core.forecasting.zoo import judged_version, version_name
from core.services import forecasts
from ui.auth import client_ip, require_login
from ui.charts import ledger_figure
from ui.errors import attempt
from ui.format import day, price, show_readable
from ui.freshness import warn_if_stale
from ui.pickers import ticker_picker
from ui.tables import csv_download
from ui.text import plain

LATEST_KEY = "latest_forecast"
LEDGER_KEY = "ledger_as_read"
CHART_TICKERS = 4
# Rows of the ledger the table shows, newest first. The whole of a heavy user's ledger (20,000 rows, 3 MB) went
# to the browser on every run, whatever was clicked; the scoreboard and the CSV download still take every row.
LEDGER_ROWS_SHOWN = 1_000


def render_predict(actor: Actor, view: forecasts.PredictionsView) -> None:
    versions = view.versions
    if not view.can_predict:
        st.caption("Viewers can read the ledger but not make predictions.")
        return
    tickers = sorted({v.ticker for v in versions})
    if not tickers:
        st.info("No models yet: train one on the Train page, then predict here.")
        return
    # Outside the form, so the model list follows the ticker at once; a row of its own, as a form cannot
    # share a row with a widget outside it, and Predict belongs under the whole form, not under one column.
    ticker_column, _ = st.columns([1, 2])
    ticker = ticker_picker(tickers, view.default_tickers, container=ticker_column)
    with st.form("predict", border=False):
        model_column, days_column = st.columns([2, 1])
        own = {version_name(v.ticker, v.version, v.model_type): v for v in versions if v.ticker == ticker}
        # Short: a model's full name cut the box off mid-word; it follows in full among the other choices.
        active = next((f"active: {v.ticker} v{v.version} · {v.model_type}" for v in own.values() if v.is_active), None)
        choices = {active or "the active version": None} | {name: v.id for name, v in own.items()}
        chosen = model_column.selectbox("Model", list(choices), help="The active version unless you pick another")
        days = days_column.number_input("Trading days ahead", 1, MAX_FORECAST_DAYS, 5)
        submitted = st.form_submit_button("Predict", icon=":material/query_stats:")
    if submitted:
        make_prediction(actor, ticker, days, choices.get(chosen))
    latest = st.session_state.get(LATEST_KEY)
    if latest:
        # Kept in the session: a rerun (a component reporting back, say) must not wipe the answer.
        first, last = (day(target) for target in (latest["rows"][0]["target_date"], latest["rows"][-1]["target_date"]))
        days = first if first == last else f"{first} to {last}"
        st.success(stored_sentence(latest["ticker"], len(latest["rows"]), latest["added"], days))
        warn_if_stale(latest["ticker"], latest["last_bar"], "This forecast")
        show_readable(pd.DataFrame(latest["rows"]), keep={"target_date": "Target day"})
        # Text, never markdown: the verdict of an imported version comes from its file.
        st.text(latest["made_by"])
        st.caption(
            f"Made from the close of {day(latest['last_bar'])} ({price(latest['last_close'])}); target days skip "
            f"exchange holidays. {latest['interval']}"
        )


def stored_sentence(ticker: str, count: int, added: int, days: str) -> str:
    """What Predict did to the ledger: a forecast asked for again is not stored twice, and says so."""
    if added == count:
        return f"Stored {plural(count, 'prediction')} of {plain(ticker)} in the ledger, for {days}."
    kept = "the first forecast for each day is kept."
    if added == 0:
        these = "This prediction" if count == 1 else f"These {count} predictions"
        verb = "was" if count == 1 else "were"
        return f"{these} of {plain(ticker)}, for {days}, {verb} already in the ledger: {kept}"
    return (
        f"Stored {plural(added, 'new prediction')} of {plain(ticker)} in the ledger; {count - added} of the days "
        f"from {days} were already in it: {kept}"
    )


def make_prediction(actor: Actor, ticker: str, days: int, version_id) -> None:
    """Forecast with the version (None: the active one) and keep the answer, with the verdict of the
    version that made it."""
    with st.spinner("Loading the model and forecasting…"):
        predicted = attempt(forecasts.predict, actor, ticker, days, version_id, client_ip())
    if predicted is None:
        return
    version = predicted.version
    made_by = f"Made by {judged_version(version.ticker, version.version, version.model_type, version.metrics)}."
    made = [
        (r.target_date, r.predicted_value, r.lower, r.upper, r.base_close, r.prediction_date) for r in predicted.rows
    ]
    st.session_state[LATEST_KEY] = {
        "ticker": ticker,
        "made_by": made_by,
        "interval": interval_sentence(version.metrics),
        "last_bar": predicted.last_bar,
        "added": predicted.added,
        "last_close": made[0][4],
        "rows": [
            {"target_date": target, "predicted_value": value, "move": value / base - 1, "lower": low, "upper": high}
            for target, value, low, high, base, _ in made
        ],
    }


def interval_sentence(metrics: dict) -> str:
    """What the interval promises, at the version's own level, and what it held on its test days."""
    level, coverage = stored_number(metrics.get("interval_level")), stored_number(metrics.get("test_coverage"))
    if level is None:
        return "The interval was sized on the model's errors on held-out days."
    held = f"; on its test days it held {coverage * 100:.1f} %" if coverage is not None else ""
    return (
        f"The interval is meant to hold {level * 100:.0f} % of outcomes{held}. It was sized on the model's errors "
        "on held-out days and scaled by the market's recent volatility."
    )


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
        show_readable(board)
        st.caption(
            "MASE below 1 means smaller errors than tomorrow = today on the same days. Direction right: how often "
            "the predicted move had the sign of the real one; its p-value is the chance of doing as well by coin toss."
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
    st.plotly_chart(ledger_figure(charted, template=template), width="stretch", theme=None)
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


def main() -> None:
    actor = require_login()
    st.title("Predictions")
    view = attempt(forecasts.predictions_view, actor)
    if view is None:
        return
    render_predict(actor, view)
    st.header("Ledger")
    render_ledger(actor, view.chart_template)


if __name__ == "__main__":
    main()
