"""A backtest of a walk-forward run's out-of-sample forecasts against buy and hold."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.forecasting.evaluation import stored_number
from core.services import analysis
from db.models import Evaluation
from ui.charts import (
    CHART_CONFIG,
    equity_figure,
)
from ui.errors import attempt
from ui.format import percent_points
from ui.tables import show_table
from ui.text import plain
from ui.walk_forward_panel import run_chooser

# Sharpe's excess return is over a risk-free rate, Sortino's downside below a target return: both are 0 here.
PERFORMANCE_NAMES = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "sharpe": "Sharpe (risk-free rate 0)",
    "sortino": "Sortino (target return 0)",
    "max_drawdown": "Max drawdown",
}


def render_backtest(actor: Actor, evaluations: list[Evaluation], template: str) -> None:
    if not can(actor, Permission.ANALYSE):
        st.caption("Viewers can read backtests but not run them.")
        return
    if not evaluations:
        st.caption("Backtests trade a walk-forward run's out-of-sample forecasts: run one above first.")
        return
    with st.form("backtest"):
        # A row of its own: a run's name is long, and runs of one ticker differ only at its end.
        chosen = run_chooser("Walk-forward run", evaluations)
        threshold_column, cost_column, short_column = st.columns(3)
        threshold = threshold_column.number_input(
            "Threshold (bp)", 0.0, 500.0, 0.0, help="Act only on larger predicted moves"
        )
        cost = cost_column.number_input(
            "Costs (bp per unit traded)", 0.0, 100.0, 5.0,
            help="Paid on every change of position, each side: flat to long pays once, long to short twice",
        )  # fmt: skip
        short = short_column.checkbox("Allow short positions")
        submitted = st.form_submit_button("Backtest", icon=":material/trending_up:")
    done = submitted and attempt(
        analysis.backtest,
        actor,
        evaluation_id=chosen,
        threshold_bps=threshold,
        cost_bps=cost,
        allow_short=short,
    )
    if not done:
        return
    result, _ = done
    m = result.metrics
    performance = (
        pd.DataFrame([m["strategy"] | {"": "strategy"}, m["buy_and_hold"] | {"": "buy and hold"}])
        .set_index("")
        .rename(columns=PERFORMANCE_NAMES)
    )
    shown, percents = percent_points(performance, ("Total return", "CAGR", "Max drawdown"))
    show_table(
        shown,
        column_config=percents
        | {PERFORMANCE_NAMES[name]: st.column_config.NumberColumn(format="%.2f") for name in ("sharpe", "sortino")},
    )
    st.caption(
        plain(
            f"{plural(m['trades'], 'trade')} over {plural(m['days'], 'day')}, "
            f"in the market {m['exposure'] * 100:.0f} % of them. {annualised_by(m)}"
        )
    )
    st.plotly_chart(equity_figure(result.equity, template=template), width="stretch", theme=None, config=CHART_CONFIG)


def annualised_by(metrics: dict) -> str:
    """The rate a year a backtest's CAGR, Sharpe and Sortino scale by, or why they are blank."""
    rate = stored_number(metrics.get("days_a_year"))
    if rate is not None:
        return f"CAGR, Sharpe and Sortino are annualised by {rate:g} returns a year."
    days = metrics["days"]
    return (
        f"CAGR, Sharpe and Sortino are left blank: {plural(days, 'day')} {'is' if days == 1 else 'are'} under a "
        "quarter of a year, too few for a rate a year."
    )
