"""The app's pages, in the order the sidebar shows them."""

from __future__ import annotations

import streamlit as st

from core.config import PROJECT_ROOT

PAGES_DIR = PROJECT_ROOT / "pages"


def app_pages() -> dict[str, list[st.Page]]:
    """Sections of the sidebar and the pages in each."""
    return {
        "": [st.Page(PAGES_DIR / "home.py", title="Home", icon=":material/home:", default=True)],
        "Data": [
            st.Page(PAGES_DIR / "tickers.py", title="Tickers", icon=":material/list_alt:"),
            st.Page(PAGES_DIR / "indicators.py", title="Indicators", icon=":material/candlestick_chart:"),
        ],
        "Models": [
            st.Page(PAGES_DIR / "train.py", title="Train", icon=":material/model_training:"),
            st.Page(PAGES_DIR / "predictions.py", title="Predictions", icon=":material/query_stats:"),
            st.Page(PAGES_DIR / "metrics.py", title="Metrics", icon=":material/monitoring:"),
        ],
        "You": [st.Page(PAGES_DIR / "account.py", title="Account", icon=":material/person:")],
    }
