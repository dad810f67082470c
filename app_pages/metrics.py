"""Metrics: do the models beat tomorrow = today? Versions side by side, their history, and walk-forward runs."""

import streamlit as st

from core.forecasting.history import MIN_TEST_DAYS, SIGNIFICANCE
from core.services import analysis
from ui.auth import require_login
from ui.backtest_panel import render_backtest
from ui.errors import attempt
from ui.leaderboard import show_leaderboard
from ui.risk_panel import render_risk
from ui.versions_panel import render_version_scores
from ui.walk_forward_panel import (
    render_evaluations,
    render_walk_forward_progress,
    render_walkforward_form,
    show_ended_walk_forwards,
)


def show_reading_guide() -> None:
    """What the page's figures mean: MASE and a p-value are not words an analyst must already know."""
    with st.expander("How to read these figures", icon=":material/help:"):
        st.markdown(
            "- **Persistence** is the forecast *tomorrow = today*. Daily closes are close to a random walk, so "
            "persistence is the bar every model must clear, and most do not.\n"
            "- **MASE** is a model's mean absolute error divided by persistence's on the same days: below 1 the "
            "model erred less, above 1 more. 0.99 is 1 % less error, which can still be luck.\n"
            "- **Diebold-Mariano p** asks whether the gap to persistence is larger than luck would give: the "
            f"smaller, the less likely luck. A model *beats persistence* when p is below {SIGNIFICANCE:.2f} and "
            "its error is the smaller, is *worse than tomorrow = today* when p is below it and its error the "
            f"larger, and is otherwise *no better than tomorrow = today*; with fewer than {MIN_TEST_DAYS:d} test "
            "days it is *not tested*.\n"
            "- **Direction accuracy** is how often the model called the day's move up or down rightly; its "
            "p-value tests it against a coin.\n"
            "- **Interval coverage** is the share of actual closes inside the forecast's interval (95 % unless the "
            "training settings chose another level): near its level is honest, far below it overconfident.\n"
            "- A version's verdict comes from one split of its history; a **walk-forward** retrains at many "
            "points in time and scores every day after each, the figure to trust."
        )


def main() -> None:
    actor = require_login()
    st.title("Metrics")
    view = attempt(analysis.metrics_view, actor)
    if view is None:
        return
    template = view.chart_template
    show_reading_guide()
    st.header("Model versions")
    render_version_scores(actor, view)
    st.header("Leaderboard")
    show_leaderboard(view.leaderboard)
    st.header("Walk-forward evaluation")
    render_walkforward_form(actor, view.tickers)
    show_ended_walk_forwards()
    render_walk_forward_progress(actor)
    render_evaluations(actor, view.evaluations, template)
    st.header("Backtest")
    render_backtest(actor, view.evaluations, template)
    st.header("Risk")
    render_risk(actor, view.tickers, template)


if __name__ == "__main__":
    main()
