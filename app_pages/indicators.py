"""Indicators: one ticker's candlesticks with overlays and oscillator panes, and a screener across tickers."""

import streamlit as st

from core.data.export import to_safe_csv
from core.indicator_view import OVERLAYS, PANES, IndicatorParams, indicator_view
from core.preferences import Preferences, load_preferences
from core.screener import Criteria, screen
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.prices import list_cached_tickers
from ui.auth import require_login
from ui.charts import indicator_figure
from ui.tables import show_table


def choose_params() -> IndicatorParams:
    with st.expander("Parameters"):
        left, middle, right = st.columns(3)
        spans = left.text_input("EMA spans", "12, 26, 50, 200", help="Separated by commas")
        params = IndicatorParams(
            rsi_period=left.number_input("RSI period", 2, 200, 14),
            ema_spans=tuple(int(part) for part in spans.replace(" ", "").split(",") if part.isdigit()),
            hv_window=left.number_input("HV window", 2, 500, 20),
            bb_window=middle.number_input("Bollinger window", 2, 500, 20),
            bb_k=middle.number_input("Bollinger k", 0.1, 10.0, 2.0, step=0.1),
            atr_period=middle.number_input("ATR period", 2, 200, 14),
            macd_fast=right.number_input("MACD fast", 2, 200, 12),
            macd_slow=right.number_input("MACD slow", 2, 400, 26),
            macd_signal=right.number_input("MACD signal", 2, 200, 9),
        )
    return params


def render_chart(actor: Actor, preferences: Preferences, tickers: list[str]) -> None:
    preferred = next((t for t in preferences.default_tickers if t in tickers), tickers[0])
    ticker_column, range_column = st.columns([1, 2])
    ticker = ticker_column.selectbox("Ticker", tickers, index=tickers.index(preferred))
    chosen = range_column.date_input("Date range", value=(), help="Empty: the whole history")
    start, end = (chosen[0], chosen[-1]) if chosen else (None, None)
    overlay_column, pane_column = st.columns(2)
    overlays = overlay_column.multiselect("On the price", OVERLAYS, default=list(OVERLAYS))
    panes = pane_column.multiselect("Panes", PANES, default=["RSI", "MACD"])
    params = choose_params()
    try:
        with session_scope() as session:
            view = indicator_view(session=session, actor=actor, ticker=ticker, start=start, end=end, params=params)
    except ValueError as error:
        st.error(f"Parameters: {error}")
        return
    if view.empty:
        st.info(f"No prices of {ticker} between {start} and {end}.")
        return
    st.plotly_chart(
        indicator_figure(
            view,
            overlays=overlays,
            panes=panes,
            ema_spans=params.ema_spans,
            title=ticker,
            template=preferences.plotly_template,
            window=preferences.default_range if start is None else "All",
        ),
        width="stretch",
    )
    latest = view.iloc[-1]
    st.subheader(f"Latest values · {latest['date']:%Y-%m-%d}")
    show_table(latest.drop(["date", "source"]).rename("value").to_frame().T, hide_index=True)
    st.download_button(
        f"Download {ticker} with indicators (CSV)", to_safe_csv(view), file_name=f"{ticker}-indicators.csv"
    )


def render_screener(actor: Actor) -> None:
    with st.form("screener"):
        left, right = st.columns(2)
        rsi_below = left.number_input("RSI below", 0.0, 100.0, value=None, placeholder="any")
        rsi_above = left.number_input("RSI above", 0.0, 100.0, value=None, placeholder="any")
        trend = left.radio("Close vs EMA 200", ["any", "above", "below"], horizontal=True)
        cross_days = right.number_input("MACD crossed above signal within (days)", 1, 60, value=None, placeholder="any")
        hv_high = right.checkbox("HV above its one-year median")
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
    with session_scope() as session:
        matches = screen(session=session, actor=actor, criteria=criteria)
    described = " and ".join(criteria.describe()) or "no conditions"
    st.caption(f"{len(matches)} tickers match {described}.")
    show_table(
        matches,
        hide_index=True,
        column_config={
            "date": st.column_config.DateColumn("latest day"),
            "recent": st.column_config.LineChartColumn("last 60 closes"),
        },
    )


def main() -> None:
    actor = require_login()
    st.title("Indicators")
    with session_scope() as session:
        preferences = load_preferences(session=session, actor=actor)
        tickers = sorted({cached.ticker for cached in list_cached_tickers(session=session, actor=actor)})
    if not tickers:
        st.info("No prices yet: fetch or upload some on the Tickers page, or load the S&P 500 sample there.")
        return
    chart, screener = st.tabs(["Chart", "Screener"])
    with chart:
        render_chart(actor, preferences, tickers)
    with screener:
        render_screener(actor)


if __name__ == "__main__":
    main()
