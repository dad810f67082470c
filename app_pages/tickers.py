"""Tickers: keep ticker lists, fetch prices from Yahoo, upload price files, and manage the price cache."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.data.calendar import is_stale
from core.data.sample import SAMPLE_TICKER
from core.data.yahoo import OFFLINE_MESSAGE, yahoo_reachable
from core.preferences import Preferences
from core.services import accounts, market
from ui.auth import require_login
from ui.charts import candlestick_figure
from ui.components.price_chart import price_chart
from ui.confirm import confirmed
from ui.errors import attempt
from ui.format import label as column_label
from ui.freshness import now
from ui.notices import done_then_rerun, keep_then_rerun, kept, show_notice
from ui.pickers import ticker_picker
from ui.tables import csv_download, show_table
from ui.text import plain


@st.cache_data(ttl=300, show_spinner=False)
def yahoo_is_reachable() -> bool:
    return yahoo_reachable()


def render_cache(actor: Actor, preferences: Preferences) -> None:
    cached = attempt(market.list_tickers, actor)
    if cached is None:
        return
    if not cached:
        st.info("The cache is empty: fetch tickers, upload a price file, or load the S&P 500 sample.")
    else:
        moment = now()
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
    report = attempt(market.quality_report, actor, ticker, today=now())
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


FETCH_COLUMNS = {
    "ticker": "Ticker",
    "status": "Status",
    "rows": "Days stored",
    "dropped_rows": "Days dropped (empty or incomplete)",
    "message": "Message",
}


def render_fetch(actor: Actor, preferences: Preferences, *, offline_shown: bool) -> None:
    if not can(actor, Permission.FETCH):
        st.caption("Viewers can look at prices but not fetch them.")
        return
    with st.form("fetch"):
        text = st.text_area("Tickers", ", ".join(preferences.default_tickers), help="e.g. MSFT, BRK-B, ^GSPC")
        start_column, end_column = st.columns(2)
        start = start_column.date_input("From", date.today() - timedelta(days=5 * 365))
        end = end_column.date_input("To", date.today())
        refresh = st.checkbox("Only days after the last cached one (refresh)")
        submitted = st.form_submit_button("Fetch", icon=":material/cloud_download:")
    if not submitted:
        fetched = kept(FETCHED_KEY)
        if fetched is not None:
            show_fetch(fetched, offline_shown=offline_shown)
        return
    bar = st.progress(0.0, text="Fetching…")
    run = attempt(
        market.fetch_prices,
        actor,
        tickers=text,
        start=start,
        end=end,
        refresh=refresh,
        on_progress=lambda done, total, o: bar.progress(done / total, text=f"{o.ticker}: {o.status}"),
    )
    bar.empty()  # the table below says how each ticker went
    if run is None:
        return
    if run.table()["rows"].sum():  # prices were written: the Cache tab and the preview are to show them
        keep_then_rerun(FETCHED_KEY, run)
    show_fetch(run, offline_shown=offline_shown)


def show_fetch(run, *, offline_shown: bool) -> None:
    if run.offline and not offline_shown:
        st.warning(plain(OFFLINE_MESSAGE), icon=":material/cloud_off:")
    table = run.table()
    table["rows"] = table["rows"].map("{:,}".format)
    table["dropped_rows"] = table["dropped_rows"].map(lambda count: f"{count:,}" if count else "")
    show_table(table.rename(columns=FETCH_COLUMNS), hide_index=True)


FETCHED_KEY = "tickers.fetched"
UPLOADED_KEY = "tickers.uploaded"
MAPPING_KEY = "tickers.upload_mapping"
MAPPING_FIELDS = {
    "date": "Date",
    "open": "Open",
    "high": "High",
    "low": "Low",
    "close": "Close",
    "adjusted_close": "Adjusted close",
    "volume": "Volume",
    "ticker": "Ticker",
}


def render_upload(actor: Actor) -> None:
    if not can(actor, Permission.UPLOAD):
        st.caption("Viewers can look at prices but not upload them.")
        return
    with st.form("upload_prices"):
        file = st.file_uploader(
            "Price file (CSV or Excel)",
            type=["csv", "txt", "xlsx", "xlsm"],
            help="Yahoo, yfinance, Stooq, Investing.com, Nasdaq.com, Alpha Vantage, FRED, pandas, long or wide "
            "files; lines of title or notes above the header are skipped",
        )
        ticker_column, format_column, sheet_column = st.columns(3)
        ticker = ticker_column.text_input("Ticker", help="Empty: from a Ticker column, or the file name")
        date_format = format_column.text_input("Date format", placeholder="recognised", help="e.g. %d.%m.%Y")
        sheet = sheet_column.text_input("Sheet (Excel)", placeholder="the first", help="The workbook sheet to read")
        skip = st.checkbox("Skip bad rows (store the valid ones and report the rest)")
        submitted = st.form_submit_button("Import", icon=":material/upload:")
    options = {
        "ticker": ticker.strip() or None,
        "date_format": date_format.strip() or None,
        # As typed: Excel keeps spaces around a sheet's name, and the reader tries the name trimmed after it.
        "sheet": sheet if sheet.strip() else None,
        "skip_bad_rows": skip,
    }
    uploaded = kept(UPLOADED_KEY)
    if uploaded is not None:
        show_upload(uploaded)
    if submitted:
        st.session_state.pop(MAPPING_KEY, None)
        if file is None:
            st.error("Choose a file first")
            return
        result = upload(actor, file, options)
        if result is not None and result.needs_mapping:
            st.session_state[MAPPING_KEY] = {"columns": list(result.columns), "preview": result.preview}
    pending = st.session_state.get(MAPPING_KEY)
    if pending and file is not None:
        mapping = render_mapping(pending["columns"], pending["preview"])
        if mapping:
            upload(actor, file, options | {"mapping": mapping})


def render_mapping(columns: list[str], preview: pd.DataFrame) -> dict[str, str] | None:
    """The file's first rows and a choice of column per field; the mapping once the user imports with it."""
    st.caption("The first rows of the file, as read:")
    show_table(preview, hide_index=False)
    with st.form("upload_mapping"):
        st.caption("Which column holds what? Date and close are needed; the rest is optional.")
        choices = {}
        grid = st.columns(4)
        for position, (name, label) in enumerate(MAPPING_FIELDS.items()):
            choices[name] = grid[position % 4].selectbox(label, ["", *columns], key=f"map_{name}")
        submitted = st.form_submit_button("Import with these columns")
    if not submitted:
        return None
    return {name: column for name, column in choices.items() if column}


def upload(actor: Actor, file, options: dict):
    """One upload through the service, its message and report drawn; None when it was not allowed.

    Rows written rerun the page first, so the Cache tab and the preview show them; the report is
    drawn on that run.
    """
    result = attempt(market.upload_prices, actor, data_bytes=file.getvalue(), filename=file.name, **options)
    if result is None:
        return None
    if result.accepted:
        st.session_state.pop(MAPPING_KEY, None)  # the file is in: no mapping is pending any more
        keep_then_rerun(UPLOADED_KEY, result)
    show_upload(result)
    return result


def show_upload(result) -> None:
    show = st.success if result.status == "accepted" else st.warning if result.accepted else st.error
    show(plain(result.message()))
    if result.layout:
        st.caption(plain(f"Layout recognised: {result.layout}"))
    for note in result.notes:
        st.caption(plain(note))
    if result.report and not result.report.ok:
        show_table(
            pd.DataFrame([{"Rule": rule, "Rows": f"{count:,}"} for rule, count in result.report.counts.items()]),
            hide_index=True,
        )
        st.caption("First offending rows")
        show_table(
            pd.DataFrame(
                [
                    {"Line": o.line, "Problems": ", ".join(o.rules)}
                    | {column_label(name): value for name, value in o.values.items()}
                    for o in result.report.examples
                ]
            ),
            hide_index=True,
        )


def render_ticker_lists(actor: Actor, preferences: Preferences) -> None:
    st.caption("Your default tickers fill the fetch form and the other pages' ticker choices.")
    with st.form("ticker_list"):
        typed = st.text_area("Tickers", ", ".join(preferences.default_tickers))
        file = st.file_uploader("…or a list file (CSV or TXT)", type=["csv", "txt"])
        column = st.text_input("Column in the CSV", placeholder="Ticker or Symbol")
        submitted = st.form_submit_button("Save as my default tickers")
    if not submitted:
        return
    tickers = attempt(
        market.save_ticker_list,
        actor,
        text=typed,
        data_bytes=file.getvalue() if file is not None else None,
        filename=file.name if file is not None else "",
        column=column.strip() or None,
    )
    if tickers is None:
        st.caption("Nothing saved: fix the list and save again.")
    else:
        st.success(f"Saved {plural(len(tickers), 'ticker')}: {plain(', '.join(tickers))}")


def main() -> None:
    actor = require_login()
    st.title("Tickers")
    show_notice()
    offline = not yahoo_is_reachable()
    if offline:
        st.info(plain(OFFLINE_MESSAGE), icon=":material/cloud_off:")
    preferences = attempt(accounts.read_preferences, actor)
    if preferences is None:
        return
    cache, fetch, upload, lists = st.tabs(["Cache", "Fetch", "Upload prices", "Ticker lists"])
    with cache:
        render_cache(actor, preferences)
    with fetch:
        render_fetch(actor, preferences, offline_shown=offline)
    with upload:
        render_upload(actor)
    with lists:
        render_ticker_lists(actor, preferences)


if __name__ == "__main__":
    main()
