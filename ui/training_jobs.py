"""The user's training jobs: the open ones followed live, the finished ones with their verdicts and loss
curves."""

import streamlit as st

from core.auth import Actor
from core.forecasting.zoo import job_name
from core.jobs import FINISHED, WAITING_MESSAGE, RunnerStatus
from core.services import models
from ui.auth import SESSION_ENDED, signed_in_actor
from ui.charts import CHART_CONFIG, loss_figure
from ui.errors import attempt
from ui.format import minutes, time_since
from ui.status import show_runner_problem
from ui.text import plain

REFRESH_SECONDS = 2
# Each chart costs about 25 ms of every page run: older finished jobs are listed without theirs.
FINISHED_JOBS_WITH_CHARTS = 5
OPEN_JOBS_KEY = "train_open_jobs"  # jobs the page last drew as queued or running


def render_jobs(actor: Actor, template: str = "plotly_white") -> None:
    """Queued and running jobs refresh themselves; finished ones are drawn once per page run.

    Redrawing every finished job's loss chart each refresh kept the server busy enough to slow
    the user's other tabs. With no job open nothing refreshes: the panel reread the jobs every two
    seconds for as long as the page stayed open, with nothing that could change.
    """
    jobs = attempt(models.list_jobs, actor)
    if jobs is None:
        return
    open_ids = {str(job.id) for job in jobs if job.status not in FINISHED}
    # What this page run drew as open: the panel reruns the page once any of them is no longer open.
    st.session_state[OPEN_JOBS_KEY] = open_ids
    if open_ids:
        render_open_jobs(template)
    else:
        # A full page run clears the browser's refresh timers; none is set again until a job is open.
        show_runner(models.runner_status())
    if not jobs:
        st.caption("No training jobs yet.")
    finished = [job for job in jobs if job.status in FINISHED]  # newest first
    made = minutes(job.created_at for job in finished)
    for position, job in enumerate(finished):
        render_job(actor, job, made[position], template=template, with_chart=position < FINISHED_JOBS_WITH_CHARTS)


@st.fragment(run_every=REFRESH_SECONDS)
def render_open_jobs(template: str = "plotly_white") -> None:
    # Reruns alone every few seconds: the actor of the last page run may since have been deactivated,
    # demoted or logged out, and must not keep a live Cancel button.
    actor = signed_in_actor()
    if actor is None:
        st.warning(plain(SESSION_ENDED))
        return
    runner = models.runner_status()
    jobs = attempt(models.list_jobs, actor)
    if jobs is None:
        return
    show_runner(runner)
    refresh_when_a_watched_job_ends(jobs)
    open_jobs = [job for job in jobs if job.status not in FINISHED]
    for job, made in zip(open_jobs, minutes(job.created_at for job in open_jobs), strict=True):
        render_job(actor, job, made, runner, template=template)


def show_runner(runner: RunnerStatus) -> None:
    if runner.problem:
        show_runner_problem(runner.problem)
    else:
        st.caption(plain(f"Training jobs: {runner.summary()}."))


def render_job(
    actor: Actor,
    job,
    made: str,
    runner: RunnerStatus | None = None,
    *,
    template: str = "plotly_white",
    with_chart: bool = True,
) -> None:
    """One job's card; made is its creation as minutes() reads it, converted with the other cards' at once."""
    with st.container(border=True):
        head, action = st.columns([5, 1])
        head.markdown(plain(f"{job.ticker} · {job_name(job.kind, job.config)} · {job.status} · {made}"))
        if job.status == "queued":
            # The wait so far: the note alone, unchanged for minutes, gave no sign that the page was still alive.
            head.caption(plain(f"{queued_note(job.message, runner)} · queued for {time_since(job.created_at)}"))
        elif job.status == "running":
            head.progress(float(job.progress), text=plain(job.message or ""))
        elif job.status == "failed":
            head.error(plain(job.error or "failed"), icon=":material/error:")
        else:
            head.caption(plain(job.message or ""))
        cancel = job.status not in FINISHED and action.button("Cancel", key=f"cancel-{job.id}")
        if cancel and attempt(models.cancel_job, actor, job.id):
            st.rerun(scope="app")  # the job moves to the finished ones below
        if with_chart and (job.history or {}).get("loss"):
            figure = loss_figure(job.history, template=template)
            st.plotly_chart(figure, width="stretch", theme=None, key=f"loss-{job.id}", config=CHART_CONFIG)


def queued_note(message: str | None, runner: RunnerStatus | None) -> str:
    """What a queued job waits for, in words."""
    if runner is not None and runner.problem:
        return "waiting: no worker is listening on the queue, so it starts when one does"
    return message or WAITING_MESSAGE


def refresh_when_a_watched_job_ends(jobs) -> None:
    """Rerun the whole page when a job the page last drew as open is open no longer, so it moves among the
    finished jobs, a new version appears below, and the refresh timer stops with the last open job."""
    open_now = {str(job.id) for job in jobs if job.status not in FINISHED}
    watched = st.session_state.get(OPEN_JOBS_KEY, set())
    st.session_state[OPEN_JOBS_KEY] = open_now
    if watched - open_now:
        st.rerun(scope="app")
