"""Train: LSTM forecasters trained as background jobs with live progress."""

import streamlit as st

from ui.auth import require_login


def main() -> None:
    require_login()
    st.title("Train")
    st.info(
        "Coming here: train LSTM forecasters as background jobs, watch their progress live, and "
        "keep every version with its metrics beside the naive baselines.",
        icon=":material/construction:",
    )


if __name__ == "__main__":
    main()
