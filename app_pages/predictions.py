"""Predictions: forecasts with intervals, kept in a ledger and matched with actual prices."""

import streamlit as st

from ui.auth import require_login


def main() -> None:
    require_login()
    st.title("Predictions")
    st.info(
        "Coming here: forecasts of the next trading days with 95 % intervals, kept in a ledger and "
        "matched with the actual prices as they arrive.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
