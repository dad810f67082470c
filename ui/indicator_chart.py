"""One ticker's chart on the Indicators page: the choices (kept in the URL), the parameters, the candlesticks
with overlays and oscillator panes, and the latest values."""

from datetime import date

import streamlit as st

from core.indicator_view import OVERLAYS, PANES, PRICE_BASES, IndicatorParams, checked_params
from core.preferences import DATE_RANGES
from core.services.indicators import IndicatorsStart, chart_data
from ui.charts import indicator_figure
from ui.components.price_chart import price_chart
from ui.errors import attempt
from ui.format import as_rows, day
from ui.freshness import warn_if_stale
from ui.pickers import (
    keep_in_url,
    not_on_offer,
    ticker_not_on_offer,
    ticker_picker,
    url_multiselect,
    url_notice,
    url_segment,
)
from ui.tables import csv_download, show_table
from ui.text import plain


def choose_params() -> IndicatorParams:
    """The parameters, with a warning under the expander (seen while it is closed) for each not used as typed."""
    with st.expander("Parameters"):
        left, middle, right = st.columns(3)
        params, problems = checked_params(
            left.text_input("EMA spans", "12, 26, 50, 200", help="Whole numbers of at least 2, separated by commas"),
            rsi_period=left.number_input("RSI period", 2, 200, 14),
            hv_window=left.number_input("HV window", 2, 500, 20),
            bb_window=middle.number_input("Bollinger window", 2, 500, 20),
            bb_k=middle.number_input("Bollinger k", 0.1, 10.0, 2.0, step=0.1),
            atr_period=middle.number_input("ATR period", 2, 200, 14),
            macd_fast=right.number_input("MACD fast", 2, 200, 12),
            macd_slow=right.number_input("MACD slow", 2, 400, 26),
            macd_signal=right.number_input("MACD signal", 2, 200, 9),
        )
    for problem in problems:
        st.warning(plain(problem), icon=":material/tune:")
    return params


def choose_dates(first: date, last: date, container) -> tuple[date | None, date | None, list[str]]:
    """The date-range picker: any day the data has, kept in the URL as ?from=...&to=...

    Also the link's dates it could not use (unreadable, or outside the history), for the page's notice; a link
    with one usable end opens the range from the first bar or to the last.
    """
    asked = {end: st.query_params.get(end) for end in ("from", "to")}
    days = {end: parse_day(text) for end, text in asked.items()}
    usable = {end: day for end, day in days.items() if day is not None and first <= day <= last}
    rejected = [f"{end} {text}" for end, text in asked.items() if text and end not in usable]
    preset = (usable.get("from", first), usable.get("to", last)) if usable else ()
    chosen = container.date_input(
        "Date range", value=preset, min_value=first, max_value=last, help="Empty: the whole history",
        key=f"dates_{first}_{last}",
    )  # fmt: skip
    start, end = (chosen[0], chosen[-1]) if chosen else (None, None)
    keep_in_url("from", start.isoformat() if start else None)
    keep_in_url("to", end.isoformat() if end else None)
    return start, end, rejected


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def render_chart(actor, start_data: IndicatorsStart) -> None:
    preferences = start_data.preferences
    ticker_column, range_column, window_column = st.columns([1, 2, 2])
    tickers = [span.ticker for span in start_data.tickers]
    # Read before the widgets put what they show into the URL: a link's unknown choice is said, never dropped unsaid.
    missing = {
        "ticker": ticker_not_on_offer(tickers),
        "range": not_on_offer("range", DATE_RANGES),
        "overlays": not_on_offer("overlays", OVERLAYS, many=True),
        "panes": not_on_offer("panes", PANES, many=True),
        "prices": not_on_offer("prices", PRICE_BASES),
    }
    ticker = ticker_picker(tickers, preferences.default_tickers, container=ticker_column)
    span = start_data.span(ticker)
    start, end, missing["dates"] = choose_dates(span.first_date, span.last_date, range_column)
    window = url_segment(
        "Show", DATE_RANGES, param="range", default=preferences.default_range, container=window_column,
        disabled=start is not None, help="With a date range chosen, the chart opens on all of it",
    )  # fmt: skip
    overlay_column, pane_column, basis_column = st.columns([3, 3, 2])
    overlays = url_multiselect("On the price", OVERLAYS, param="overlays", default=OVERLAYS, container=overlay_column)
    panes = url_multiselect("Panes", PANES, param="panes", default=["RSI", "MACD"], container=pane_column)
    basis = url_segment(
        "Prices", PRICE_BASES, param="prices", default=PRICE_BASES[0], container=basis_column,
        help="Split-adjusted: every price on the adjusted close's scale (splits, and dividends where the "
        "source's adjusted close carries them), the indicators computed on it, as the screener reads them",
    )  # fmt: skip
    notice = url_notice(
        missing,
        {
            "ticker": ticker,
            "range": window,
            "overlays": ", ".join(overlays),
            "panes": ", ".join(panes),
            "prices": basis,
            "dates": f"{start} to {end}" if start else f"none, the {window} range",
        },
    )
    if notice:
        st.warning(plain(notice), icon=":material/link_off:")
    params = choose_params()
    chart = attempt(
        chart_data, actor, ticker, start=start, end=end, params=params, adjusted=basis == PRICE_BASES[1]
    )  # fmt: skip
    if chart is None:
        return
    if chart.empty:
        st.info(f"No prices of {plain(ticker)} between {plain(start)} and {plain(end)}.")
        return
    view = chart.view
    price_chart(
        indicator_figure(
            view,
            overlays=overlays,
            panes=panes,
            ema_spans=params.ema_spans,
            title=ticker if basis == PRICE_BASES[0] else f"{ticker} (split-adjusted)",
            template=preferences.plotly_template,
            window=window if start is None else "All",
        ),
        # The page's "Show" (kept in the URL) is the one range control: the chart opens on it.
        range_buttons=False,
    )
    last_day = view["date"].iloc[-1]
    st.header(f"Latest values · {day(last_day)}")
    if end is None:
        warn_if_stale(ticker, last_day, "This table")
    # Every row in view: at the default height the table stopped at EMA 50 and scrolled the rest away.
    show_table(as_rows(chart.latest), hide_index=True, height="content")
    csv_download(f"Download {ticker} with indicators (CSV)", view, f"{ticker}-indicators.csv")
