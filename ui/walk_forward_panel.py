"""Walk-forward runs: the form that queues one, the live progress of the open ones, and a run read whole
(its scores beside the baselines, per window and per day)."""

import uuid

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.forecasting.config import MODEL_TYPES, WALK_FORWARD_WINDOWS
from core.forecasting.evaluation import stored_number, stored_verdict
from core.forecasting.history import p_value_figure
from core.forecasting.intervals import UNBOUNDED_COVERAGE
from core.forecasting.zoo import KINDS, configured_kind, job_name, label
from core.jobs import FINISHED
from core.services import analysis, models
from db.models import Evaluation
from ui.auth import SESSION_ENDED, signed_in_actor
from ui.charts import (
    CHART_CONFIG,
    residual_figure,
    window_scores_figure,
)
from ui.errors import attempt
from ui.format import MASE_FORMAT, count, local_moment, minute, percent, percent_points
from ui.notices import kept
from ui.pickers import ticker_picker
from ui.tables import show_table
from ui.text import plain

REFRESH_SECONDS = 2
OPEN_WALK_FORWARDS_KEY = "metrics_open_walk_forwards"  # walk-forward jobs this session last saw queued or running
ENDED_WALK_FORWARDS_KEY = "metrics_ended_walk_forwards"  # what they ended with, for the page run they start


def render_walkforward_form(actor: Actor, tickers: list[str]) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can read evaluations but not run them.")
        return
    if not tickers:
        st.caption("No prices to evaluate on yet.")
        return
    with st.form("walkforward"):
        ticker_column, model_column, windows_column, step_column, retrain_column = st.columns(5)
        ticker = ticker_picker(tickers, container=ticker_column)
        model_type = model_column.selectbox("Model", MODEL_TYPES, format_func=label, help="auto: the ensemble")
        windows = windows_column.number_input(
            "Windows", 1, 50, WALK_FORWARD_WINDOWS, help="Rolling origins over the last part of the history"
        )
        step = step_column.number_input(
            "Days per window", 5, 1000, value=None, placeholder="even split",
            help="Empty: the last 20 % of the history split evenly between the windows",
        )  # fmt: skip
        retrain = retrain_column.number_input("Retrain every n windows", 1, 50, 1)
        submitted = st.form_submit_button("Run walk-forward", icon=":material/timeline:")
    settings = {"model_type": model_type, "windows": windows, "step": step, "retrain_every": retrain}
    if not submitted:
        # The form's settings as they stand (its defaults at first): a run the queue must refuse is said so
        # beside the form before anyone clicks, as the version's own button is offered disabled with its reason.
        refusal = attempt(analysis.walk_forward_refusal, actor, ticker=ticker, **settings)
        if refusal:
            st.caption(plain(f"Not possible with these settings: {refusal}."))
    else:
        report_queued(attempt(analysis.submit_walk_forward, actor, ticker=ticker, **settings))


def report_queued(job) -> None:
    """A submitted walk-forward: followed from now on, or why the queue could not take it."""
    if job and job.status == "failed":  # the queue could not take it
        st.error(plain(f"{job.ticker}: {job.error}"))
    elif job:
        # Watched from now on, so a run that ends before the panel's first look still reruns the page.
        st.session_state[OPEN_WALK_FORWARDS_KEY] = st.session_state.get(OPEN_WALK_FORWARDS_KEY, set()) | {str(job.id)}
        st.success("Walk-forward queued: its progress shows below, and its results when it is done.")


def show_ended_walk_forwards() -> None:
    """What the walk-forward jobs that ended since the last page run came to, said once."""
    for name, status, error in kept(ENDED_WALK_FORWARDS_KEY) or []:
        if status == "succeeded":
            st.success(plain(f"{name} is done: its run is listed below."), icon=":material/check_circle:")
        elif status == "failed":
            st.error(plain(f"{name} failed: {error or 'no reason given'}"), icon=":material/error:")
        else:
            st.info(plain(f"{name} was cancelled."))


def walk_forward_name(job) -> str:
    return f"{job.ticker} · {job_name(job.kind, job.config)}"


def render_walk_forward_progress(actor: Actor) -> None:
    """The session's queued and running walk-forward jobs, refreshed on a timer only while there are any.

    The panel reread every job of the user's every two seconds for as long as the page stayed open,
    with nothing that could change; a full page run clears the browser's timers, so none is left.
    """
    walk_forwards = followed_walk_forwards(actor)
    if walk_forwards is not None and any(job.status not in FINISHED for job in walk_forwards):
        render_open_walk_forwards()


@st.fragment(run_every=REFRESH_SECONDS)
def render_open_walk_forwards() -> None:
    """The session's queued and running walk-forward jobs with their progress; the whole page reruns when
    one of them ends, so its run is listed below."""
    # Reruns alone every few seconds: the session may since have ended, or the user been deactivated.
    actor = signed_in_actor()
    if actor is None:
        st.warning(plain(SESSION_ENDED))
        return
    for job in followed_walk_forwards(actor) or []:
        if job.status not in FINISHED:
            note = job.message or job.status
            st.progress(
                float(job.progress or 0.0),
                text=plain(f"{walk_forward_name(job)} · {job.status}: {note}"),
            )


def followed_walk_forwards(actor: Actor) -> list | None:
    """The actor's walk-forward jobs, after rerunning the page if one it last saw open is open no longer:
    the run it made is then listed, what it ended with said, and the refresh timer gone with the last one."""
    jobs = attempt(models.list_jobs, actor)
    if jobs is None:
        return None
    walk_forwards = [job for job in jobs if job.kind == "walkforward"]
    watched = st.session_state.get(OPEN_WALK_FORWARDS_KEY, set())
    open_now = {str(job.id) for job in walk_forwards if job.status not in FINISHED}
    st.session_state[OPEN_WALK_FORWARDS_KEY] = open_now
    if watched - open_now:
        ended = [job for job in walk_forwards if job.status in FINISHED and str(job.id) in watched]
        st.session_state[ENDED_WALK_FORWARDS_KEY] = [(walk_forward_name(job), job.status, job.error) for job in ended]
        st.rerun(scope="app")
    return walk_forwards


def evaluated_model(evaluation: Evaluation) -> str:
    return label(configured_kind(evaluation.config))


def run_name(evaluation: Evaluation, *, seconds: bool = False) -> str:
    """A walk-forward run as both choosers name it: "SPX · LSTM (Keras) · 2026-12-06 15:06 · 5 windows of 30 days".

    To the minute, as jobs and versions are named; the days per window (what two runs were often made to
    compare) and, for runs made in the same minute, the second tell them apart to a reader.
    """
    metrics = evaluation.metrics
    windows = plural(metrics.get("windows") or 0, "window")
    if isinstance(metrics.get("step"), int):  # runs stored before the step was kept have none
        windows += f" of {plural(metrics['step'], 'day')}"
    made = f"{local_moment(evaluation.created_at):%Y-%m-%d %H:%M:%S}" if seconds else minute(evaluation.created_at)
    return f"{evaluation.ticker} · {evaluated_model(evaluation)} · {made} · {windows}"


def run_chooser(label: str, evaluations: list[Evaluation]) -> uuid.UUID:
    """The chosen run's id; named by run_name, but told apart by id, as two runs may still share a name."""
    names = {e.id: run_name(e) for e in evaluations}
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    names = {e.id: run_name(e, seconds=True) if names[e.id] in shared else names[e.id] for e in evaluations}
    return st.selectbox(label, list(names), format_func=names.__getitem__)


def render_evaluations(actor: Actor, evaluations: list[Evaluation], template: str) -> None:
    if not evaluations:
        st.caption("No walk-forward runs yet.")
        return
    # The list comes without the runs' per-day forecasts; the chosen run is read whole.
    evaluation = attempt(analysis.evaluation, actor, run_chooser("Run", evaluations))
    if evaluation is None:
        return
    model = evaluated_model(evaluation)
    m = evaluation.metrics
    baselines = m.get("baselines", {})
    st.text(f"{stored_verdict(m)} over {count(m.get('days'))} out-of-sample days")
    overall = pd.DataFrame(
        [
            {
                "Forecast": model,
                "MAE": m.get("mae"),
                "MASE": m.get("mase"),
                "Direction accuracy": m.get("direction_accuracy"),
            },
            *(
                {
                    "Forecast": label(name) if name in KINDS else name.replace("_", " "),
                    "MAE": s.get("mae"),
                    "MASE": s.get("mase"),
                    "Direction accuracy": s.get("direction_accuracy"),
                }
                for name, s in baselines.items()
            ),
        ]
    )
    shown, percents = percent_points(overall, ("Direction accuracy",))
    show_table(
        shown,
        hide_index=True,
        column_config=percents
        | {
            "MAE": st.column_config.NumberColumn(format="%,.2f"),
            "MASE": st.column_config.NumberColumn(format=MASE_FORMAT),
        },
    )
    lag = m.get("lag", {})
    a, b, c = st.columns(3)
    a.metric("Diebold-Mariano p vs persistence", p_value_figure(m.get("dm_pvalue")))
    b.metric("Interval coverage", percent(stored_number(m.get("coverage"))) or "—")
    c.metric("Forecast closer to the previous close", "yes" if lag.get("follows_previous_close") else "no")
    if stored_number(m.get("coverage")) is None:
        st.caption(plain(f"No interval coverage: {UNBOUNDED_COVERAGE}."))
    if lag.get("follows_previous_close"):
        st.caption(
            f"The forecasts sit {lag['mae_to_previous_close']:.2f} from the previous close on average and "
            f"{lag['mae_to_actual']:.2f} from the close they forecast: they mostly repeat the last price."
        )
    windows = evaluation.windows
    st.plotly_chart(
        window_scores_figure(windows, model=model, template=template), width="stretch", theme=None, config=CHART_CONFIG
    )
    forecast = pd.concat([pd.DataFrame(w["forecast"]) for w in windows], ignore_index=True)
    st.plotly_chart(
        residual_figure(forecast, model=model, template=template), width="stretch", theme=None, config=CHART_CONFIG
    )
