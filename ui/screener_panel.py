"""The screener: conditions on RSI, the 200-day EMA, MACD crosses and volatility, and the tickers that meet
them all."""

import streamlit as st

from common.words import plural
from core.screener import Criteria
from core.services.indicators import run_screener
from ui.errors import attempt
from ui.format import show_readable
from ui.freshness import stale_since


def render_screener(actor) -> None:
    with st.form("screener"):
        left, right = st.columns(2)
        rsi_below = left.number_input("RSI below", 0.0, 100.0, value=None, placeholder="any")
        rsi_above = left.number_input("RSI above", 0.0, 100.0, value=None, placeholder="any")
        trend = left.radio("Close vs EMA 200", ["any", "above", "below"], horizontal=True)
        cross_days = right.number_input("MACD crossed above signal within (days)", 1, 60, value=None, placeholder="any")
        hv_high = right.checkbox(
            "HV above its one-year median",
            help="The median of HV 20 over the ticker's last market year; a ticker with less than half a year "
            "of it has none yet and never matches",
        )
        submitted = st.form_submit_button("Screen", icon=":material/filter_alt:")
    if not submitted:
        return
    criteria = Criteria(
        rsi_below=rsi_below,
        rsi_above=rsi_above,
        close_above_ema200=trend == "above",
        close_below_ema200=trend == "below",
        macd_crossed_up_within=cross_days,
        hv_above_year_median=hv_high,
    )
    matches = attempt(run_screener, actor, criteria)
    if matches is None:
        return
    conditions = criteria.describe()
    if conditions:
        count = "1 ticker matches" if len(matches) == 1 else f"{len(matches)} tickers match"
        st.caption(f"{count} {' and '.join(conditions)}.")
    else:
        st.caption(f"No condition set: every ticker with prices is listed ({plural(len(matches), 'ticker')}).")
    if matches.empty:
        return  # the caption says so: a grid of headers over nothing reads as a table still loading
    matches = matches.assign(stale=[stale_since(row.ticker, row.date) for row in matches.itertuples()])
    show_readable(
        matches,
        keep={"date": "Last bar"},
        column_config={"Last 60 closes": st.column_config.LineChartColumn("Last 60 closes")},
    )
