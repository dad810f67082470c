"""Uploading a price file on the Tickers page: the file, a column mapping for a layout not recognised,
and the report of what was written or why nothing was."""

import pandas as pd
import streamlit as st

from core.auth import Actor, Permission, can
from core.services import market
from ui.errors import attempt
from ui.format import label as column_label
from ui.notices import keep_then_rerun, kept
from ui.tables import show_table
from ui.text import plain

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
