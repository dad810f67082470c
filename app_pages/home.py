"""Home: what Candlecast does, and whether the system under it is healthy."""

import streamlit as st

from core.status import system_status
from ui.auth import require_login
from ui.status import render_status_panel


def main() -> None:
    require_login()
    st.title("Candlecast")
    st.markdown(
        "Load daily prices, study technical indicators, train LSTM forecasters, keep a ledger of every "
        "prediction against what really happened, and see whether a model beats *tomorrow = today*."
    )
    st.button("Refresh status", icon=":material/refresh:")
    render_status_panel(system_status())


if __name__ == "__main__":
    main()
