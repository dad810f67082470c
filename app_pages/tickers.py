"""Tickers: type or upload ticker lists, fetch prices, upload price CSVs, manage the cache."""

import streamlit as st

from ui.auth import require_login


def main() -> None:
    require_login()
    st.title("Tickers")
    st.info(
        "Coming here: add tickers by typing or uploading a list, fetch daily prices from Yahoo "
        "Finance, upload price CSVs, load the bundled S&P 500 sample, and manage the price cache.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
