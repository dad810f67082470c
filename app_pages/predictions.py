"""Predictions: forecast the next trading days, keep every forecast in a ledger, and score them as days pass."""

import streamlit as st

from core.services import forecasts
from ui.auth import require_login
from ui.errors import attempt
from ui.ledger_panel import render_ledger
from ui.predict_panel import render_predict


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
