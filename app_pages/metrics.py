"""Metrics: model quality against naive baselines, walk-forward evaluation, backtests and risk."""

import streamlit as st

from ui.auth import require_login


def main() -> None:
    require_login()
    st.title("Metrics")
    st.info(
        "Coming here: model quality against the persistence and drift baselines, walk-forward "
        "evaluation, strategy backtests and risk figures.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
