"""Risk of a portfolio of tickers: volatility, drawdown, value at risk, beta, correlation and a fan of outcomes."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.forecasting.evaluation import figure, stored_number
from core.risk import long_enough_to_annualise
from core.services import analysis
from ui.charts import (
    CHART_CONFIG,
    correlation_figure,
    fan_figure,
)
from ui.errors import attempt
from ui.format import percent_points
from ui.pickers import preferred_tickers
from ui.tables import show_table
from ui.text import plain

# A Sharpe ratio's excess return is over a risk-free rate; these take none, and say so.
SHARPE_LABEL = "Sharpe (risk-free rate 0)"


def sharpe_left_blank(metrics: dict) -> str | None:
    """Why a risk report's Sharpe is blank, as a sentence; None when it has one."""
    if stored_number(metrics.get("sharpe")) is not None:
        return None
    start, end = metrics["start"], metrics["end"]
    if not long_enough_to_annualise(start, end):
        return f"Sharpe is left blank: {start} to {end} is under a quarter of a year, too short for a rate a year."
    return "Sharpe is left blank: the returns do not vary, so there is no deviation to divide by."


def render_risk(actor: Actor, tickers: list[str], template: str) -> None:
    if not can(actor, Permission.ANALYSE):
        st.caption("Viewers can read risk results but not measure them.")
        return
    if not tickers:
        st.caption("No prices to measure yet.")
        return
    with st.form("risk"):
        chosen = st.multiselect("Portfolio", tickers, default=preferred_tickers(tickers))
        weights_text = st.text_input("Weights", help="One per ticker, in order, e.g. 0.6, 0.4; empty: equal weights")
        benchmark = st.selectbox("Beta against", ["none", *tickers])
        submitted = st.form_submit_button("Measure risk", icon=":material/shield:")
    done = submitted and attempt(
        analysis.risk,
        actor,
        tickers=chosen,
        weights_text=weights_text,
        benchmark=None if benchmark == "none" else benchmark,
    )
    if not done:
        return
    report, _ = done
    m = report.metrics
    blank_sharpe = sharpe_left_blank(m)
    a, b, c, d = st.columns(4)
    a.metric("Annualised volatility", figure(m.get("annualised_volatility"), ".1%"))
    b.metric(SHARPE_LABEL, figure(m.get("sharpe"), ".2f"), help=plain(blank_sharpe) if blank_sharpe else None)
    c.metric("Max drawdown", figure(m.get("max_drawdown"), ".1%"))
    d.metric("Beta", figure(m.get("beta"), ".2f"))
    losses = [
        {
            "Level": f"{level} %",
            "Historical VaR": m[f"var_historical_{level}"],
            "Historical CVaR": m[f"cvar_historical_{level}"],
            "Parametric VaR": m[f"var_parametric_{level}"],
            "Parametric CVaR": m[f"cvar_parametric_{level}"],
        }
        for level in ("95", "99")
    ]
    shown, percents = percent_points(pd.DataFrame(losses), [name for name in losses[0] if name != "Level"])
    show_table(shown, hide_index=True, column_config=percents)
    beta_days = ""
    if "beta_days" in m:
        beta_days = f" Beta over the {plural(m['beta_days'], 'day')} shared with {m['benchmark']}."
    st.caption(
        plain(
            f"{plural(m['days'], 'one-day return')} over the {plural(m['days'] + 1, 'trading day')} the portfolio's "
            f"tickers share, {m['start']} to {m['end']}, annualised by {m['days_a_year']} days a year.{beta_days}"
            + (f" {blank_sharpe}" if blank_sharpe else "")
        )
    )
    if len(report.correlation) > 1:
        st.plotly_chart(
            correlation_figure(report.correlation, template=template), width="stretch", theme=None, config=CHART_CONFIG
        )
    st.plotly_chart(fan_figure(report.fan, template=template), width="stretch", theme=None, config=CHART_CONFIG)
