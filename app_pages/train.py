"""Train: queue training jobs of any model type, watch them live, rank every type, and manage the versions."""

import streamlit as st

from core.auth import Actor
from core.services import models
from ui.auth import require_login
from ui.errors import attempt
from ui.leaderboard import show_leaderboard
from ui.model_library import render_model_library
from ui.notices import show_notice
from ui.training_form import render_form, report_submitted
from ui.training_jobs import render_jobs


def render_leaderboard(actor: Actor, view: models.TrainView) -> None:
    """Every model type trained on one ticker in one job, ranked by validation MASE (never by test)."""
    if view.can_train and view.tickers:
        with st.form("leaderboard"):
            ticker = st.selectbox("Ticker", view.tickers, index=view.tickers.index((view.preferred or view.tickers)[0]))
            submitted = st.form_submit_button("Rank every model type", icon=":material/leaderboard:")
        job = submitted and attempt(models.submit_leaderboard, actor, ticker)
        if job:
            report_submitted([job], f"Queued a leaderboard of {ticker}: follow it under Jobs.")
    show_leaderboard(view.leaderboard)


def main() -> None:
    actor = require_login()
    st.title("Train")
    show_notice()
    view = attempt(models.train_view, actor)
    if view is None:
        return
    if view.tickers:
        render_form(actor, view)
    else:
        st.info("No prices to train on yet: fetch or upload some on the Tickers page, or load the S&P 500 sample.")
    st.header("Jobs")
    jobs = st.container()
    st.header("Leaderboard")
    render_leaderboard(actor, view)
    # Drawn after the leaderboard form has been handled, as after the training form: a job either form queued
    # in this run is on the panel, and followed, in the same run.
    with jobs:
        render_jobs(actor, view.chart_template)
    st.header("Model versions")
    render_model_library(actor, view.can_train)


if __name__ == "__main__":
    main()
