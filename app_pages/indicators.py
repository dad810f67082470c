"""Indicators: one ticker's candlesticks with overlays and oscillator panes, and a screener across tickers."""

import streamlit as st

from core.services.indicators import open_indicators
from ui.auth import require_login
from ui.errors import attempt
from ui.indicator_chart import render_chart
from ui.screener_panel import render_screener


def main() -> None:
    actor = require_login()
    st.title("Indicators")
    start_data = attempt(open_indicators, actor)
    if start_data is None:
        return
    if not start_data.tickers:
        st.info("No prices yet: fetch or upload some on the Tickers page, or load the S&P 500 sample there.")
        return
    chart, screener = st.tabs(["Chart", "Screener"])
    with chart:
        render_chart(actor, start_data)
    with screener:
        render_screener(actor)


if __name__ == "__main__":
    main()
