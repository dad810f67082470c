"""The price cache on the Tickers page: what is stored, a preview of one ticker, its data quality and
splits to review, and removal."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.data.calendar import is_stale
from core.data.sample import SAMPLE_TICKER
from core.preferences import Preferences
from core.services import market
from ui import freshness
from ui.charts import candlestick_figure
from ui.components.price_chart import price_chart
from ui.confirm import confirmed
from ui.errors import attempt
from ui.notices import done_then_rerun
from ui.pickers import ticker_picker
from ui.tables import csv_download, show_table
from ui.text import plain


def render_cache(actor: Actor, preferences: Preferences) -> None:
    cached = attempt(market.list_tickers, actor)
    if cached is None:
        return
    if not cached:
        st.info("The cache is empty: fetch tickers, upload a price file, or load the S&P 500 sample.")
    else:
        moment = freshness.now()  # read through its module: one clock a test can set
        show_table(
            pd.DataFrame(
                {
                    "Ticker": [c.ticker for c in cached],
                    "Prices": ["yours" if c.owned else "shared" for c in cached],
                    "Source": [c.source for c in cached],
                    "First day": [f"{c.first_date:%Y-%m-%d}" for c in cached],
                    "Last day": [f"{c.last_date:%Y-%m-%d}" for c in cached],
                    "Days": [f"{c.rows:,}" for c in cached],
                    "Freshness": ["stale" if is_stale(c.last_date, moment, c.ticker) else "fresh" for c in cached],
                }
            ),
            hide_index=True,
        )
    sample_missing = SAMPLE_TICKER not in {c.ticker for c in cached if not c.owned}
    if (
        can(actor, Permission.FETCH)
        and sample_missing
        and st.button("Load the S&P 500 sample (^GSPC, 1999-2018)", icon=":material/download:")
    ):
        written = attempt(market.load_sample, actor)
        if written is not None:
            done_then_rerun(f"Loaded {written:,} days of ^GSPC.")
    if cached:
        render_preview(actor, preferences, sorted({c.ticker for c in cached}), cached)


def render_preview(actor: Actor, preferences: Preferences, tickers: list[str], cached: list) -> None:
    ticker = ticker_picker(tickers, preferences.default_tickers, label="Preview")
    prices = attempt(market.read_prices, actor, ticker)
    if prices is None:
        return
    price_chart(
        candlestick_figure(prices, title=ticker, template=preferences.plotly_template, window=preferences.default_range)
    )
    days = {c.owned: c.rows for c in cached if c.ticker == ticker}  # True: the actor's upload, False: shared
    scopes = set(days)
    render_quality(actor, ticker)
    render_splits(actor, ticker, scopes)
    download, delete_own, delete_shared = st.columns(3)
    csv_download(f"Download {ticker} as CSV", prices, f"{ticker}.csv", container=download)
    if True in scopes and can(actor, Permission.UPLOAD):
        question = f"Delete your {days[True]:,} days of {ticker}, with their split decisions? Nothing else keeps them."
        if confirmed(f"Delete my uploaded {ticker}", question, key=f"delete_own_{ticker}", container=delete_own):
            remove(actor, ticker, shared=False)
    if False in scopes and actor.is_admin:
        question = (
            f"Delete the shared {days[False]:,} days of {ticker}, with their split decisions? "
            "Every account's charts and models read them."
        )
        if confirmed(f"Delete shared {ticker}", question, key=f"delete_shared_{ticker}", container=delete_shared):
            remove(actor, ticker, shared=True)


def render_quality(actor: Actor, ticker: str) -> None:
    report = attempt(market.quality_report, actor, ticker, today=freshness.now())
    if report is None:
        return
    problems = report.problems()
    found = plural(len(problems), "finding") if problems else "no problems found"
    with st.expander(f"Data quality: {found}"):
        st.text(f"{report.rows:,} days from {report.first_day} to {report.last_day} ({report.exchange} calendar)")
        for problem in problems:
            st.text(f"• {problem}")


SPLIT_CHOICES = {"later": "Decide later", "confirm": "Confirm", "reject": "Not a split"}


def render_splits(actor: Actor, ticker: str, scopes: set[bool]) -> None:
    """Detected splits in prices the actor may adjust, to confirm or reject before anything is rewritten."""
    if True in scopes and can(actor, Permission.UPLOAD):
        shared = False
    elif False in scopes and actor.is_admin:
        shared = True
    else:
        return
    candidates = attempt(market.split_candidates, actor, ticker, shared=shared)
    if not candidates:
        return
    whose = "the shared" if shared else "your"
    with st.form(f"splits_{ticker}"):
        st.caption(
            plain(
                f"Possible splits in {whose} prices of {ticker}, where the adjusted close moves by a split's factor "
                "in a day (the ratio is the day before's over the day's): confirming one divides the adjusted "
                "closes before it by its factor (the raw prices stay as they are); a rejected one is not asked again."
            )
        )
        decisions = {
            candidate.date: st.radio(
                plain(f"{candidate.date:%Y-%m-%d}: {candidate.label} (ratio {candidate.observed_ratio:.3f})"),
                list(SPLIT_CHOICES),
                format_func=SPLIT_CHOICES.get,
                horizontal=True,
                key=f"split_{ticker}_{candidate.date}",
            )
            for candidate in candidates
        }
        submitted = st.form_submit_button("Apply these decisions", icon=":material/call_split:")
    if not submitted:
        return
    confirm = [day for day, choice in decisions.items() if choice == "confirm"]
    reject = [day for day, choice in decisions.items() if choice == "reject"]
    if not confirm and not reject:
        st.info("Nothing decided yet.")
        return
    decided = attempt(market.review_splits, actor, ticker, shared=shared, confirm=confirm, reject=reject)
    if decided is not None:
        done_then_rerun(
            f"{plural(len(decided.confirmed), 'split')} confirmed "
            f"({decided.adjusted_rows:,} adjusted closes rewritten), {len(decided.rejected)} rejected."
        )


def remove(actor: Actor, ticker: str, *, shared: bool) -> None:
    deleted = attempt(market.delete_prices, actor, ticker, shared=shared)
    if deleted is not None:
        done_then_rerun(f"Deleted {plural(deleted, 'day')} of {ticker}.")  # as the question before it counted them
