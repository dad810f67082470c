"""Predict: a ticker, a model version and days ahead; the forecast stored in the ledger, shown with the verdict
of the version that made it and what its interval promises."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor
from core.forecasting.config import MAX_FORECAST_DAYS
from core.forecasting.evaluation import stored_number
from core.forecasting.zoo import judged_version, version_name
from core.services import forecasts
from ui.auth import client_ip
from ui.errors import attempt
from ui.format import day, price, show_readable
from ui.freshness import warn_if_stale
from ui.pickers import ticker_picker
from ui.text import plain

LATEST_KEY = "latest_forecast"


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
