"""Predictions: forecast the next trading days, keep every forecast in a ledger, and score them as days pass."""

import streamlit as st

from core.actions import ActionLimitedError
from core.auth import Permission, PermissionDeniedError, can
from core.config import get_settings
from core.data.export import to_safe_csv
from core.forecasting.artifacts import ArtifactError
from core.predictions import PredictionError, ledger_with_outcomes, predict, scoreboard
from core.preferences import load_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.models import list_model_versions
from ui.auth import client_ip, require_login
from ui.charts import ledger_figure
from ui.tables import show_table

LATEST_KEY = "latest_forecast"


def render_predict(actor: Actor, versions: list) -> None:
    if not can(actor, Permission.PREDICT):
        st.caption("Viewers can read the ledger but not make predictions.")
        return
    tickers = sorted({v.ticker for v in versions})
    if not tickers:
        st.info("No models yet: train one on the Train page, then predict here.")
        return
    with st.form("predict"):
        left, middle, right = st.columns(3)
        ticker = left.selectbox("Ticker", tickers)
        choices = {"the active version": None} | {
            f"{v.ticker} v{v.version}": v.id for v in versions if v.ticker == ticker
        }
        chosen = middle.selectbox("Model", list(choices), help="The active version unless you pick another")
        days = right.number_input("Trading days ahead", 1, 30, 5)
        submitted = st.form_submit_button("Predict", icon=":material/query_stats:")
    if submitted:
        make_prediction(actor, ticker, days, choices.get(chosen))
    latest = st.session_state.get(LATEST_KEY)
    if latest:
        # Kept in the session: a rerun (a component reporting back, say) must not wipe the answer.
        st.success(f"Stored {len(latest['rows'])} predictions of {latest['ticker']} in the ledger.")
        show_table(latest["rows"], hide_index=True)


def make_prediction(actor: Actor, ticker: str, days: int, version_id) -> None:
    try:
        with st.spinner("Loading the model and forecasting…"), session_scope(action="predict") as session:
            rows = predict(
                session=session,
                actor=actor,
                ticker=ticker,
                days=days,
                settings=get_settings(),
                throttle=get_throttle(),
                version_id=version_id,
                client_ip=client_ip(),
            )
            made = [(r.target_date, r.predicted_value, r.lower, r.upper, r.confidence_score) for r in rows]
    except (PredictionError, PermissionDeniedError, ActionLimitedError, ArtifactError, ValueError) as error:
        st.error(str(error))
        return
    st.session_state[LATEST_KEY] = {
        "ticker": ticker,
        "rows": [
            {"target day": day, "predicted": value, "95 % interval": f"{low:,.2f} to {high:,.2f}", "confidence": score}
            for day, value, low, high, score in made
        ],
    }


def render_ledger(actor: Actor, template: str) -> None:
    with session_scope() as session:
        ledger = ledger_with_outcomes(session=session, actor=actor)
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
    board = scoreboard(shown)
    if board.empty:
        st.caption("No prediction has met its actual price yet: refresh the prices after the target days.")
    else:
        show_table(board, hide_index=True, column_config={"hit_rate": st.column_config.NumberColumn(format="percent")})
    st.plotly_chart(ledger_figure(shown, template=template), width="stretch")
    show_table(shown.drop(columns=["id"]), hide_index=True)
    st.download_button("Download the ledger (CSV)", to_safe_csv(shown.drop(columns=["id"])), file_name="ledger.csv")


def main() -> None:
    actor = require_login()
    st.title("Predictions")
    with session_scope() as session:
        versions = list(list_model_versions(session=session, actor=actor))
        template = load_preferences(session=session, actor=actor).plotly_template
    render_predict(actor, versions)
    st.header("Ledger")
    render_ledger(actor, template)


if __name__ == "__main__":
    main()
