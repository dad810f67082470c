"""Train: queue training jobs of any model type, watch them live, rank every type, and manage the versions."""

import re

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor
from core.forecasting.config import MODEL_TYPES, ModelSettingsError, parse_config
from core.forecasting.evaluation import stored_number, stored_verdict
from core.forecasting.features import FEATURES
from core.forecasting.zoo import DEFAULT_KIND, job_name, label, version_name
from core.jobs import DEFAULT_PRESET, FINISHED, PRESETS, WAITING_MESSAGE, RunnerStatus
from core.services import models
from ui.auth import SESSION_ENDED, require_login, signed_in_actor
from ui.charts import loss_figure
from ui.confirm import confirmed
from ui.errors import attempt
from ui.format import MASE_FORMAT, P_VALUE_FORMAT, day, local_moment, minute, percent_points, time_since
from ui.leaderboard import ensemble_mix, show_leaderboard
from ui.notices import done_then_rerun, show_notice
from ui.status import show_runner_problem
from ui.tables import show_table, text_width
from ui.text import plain

NEURAL_TYPES = ("lstm", "gru")
REFRESH_SECONDS = 2
# Each chart costs about 25 ms of every page run: older finished jobs are listed without theirs.
FINISHED_JOBS_WITH_CHARTS = 5
OPEN_JOBS_KEY = "train_open_jobs"  # jobs the page last drew as queued or running
# The form's name for each setting, which its errors use too: "lstm_units: ..." named a field no one sees.
FIELD_LABELS = {
    "validation_fraction": "Validation fraction",
    "test_fraction": "Test fraction (the last days)",
    "interval_level": "Interval coverage",
    "seed": "Seed",
    "features": "Features",
    "window": "Window (days)",
    "dropout": "Dropout",
    "dense_units": "Dense units before the output (0: none)",
    "batch_size": "Batch size",
    "epochs": "Epochs at most",
    "patience": "Patience (epochs)",
    "learning_rate": "Learning rate",
}


def render_form(actor: Actor, view: models.TrainView) -> None:
    if not view.can_train:
        st.caption("Viewers can look at models but not train them.")
        return
    # Outside the form, so that the fields follow the model type and a preset refills them at once.
    model_type = st.selectbox(
        "Model type",
        MODEL_TYPES,
        index=MODEL_TYPES.index(DEFAULT_KIND),
        format_func=label,
        help="auto: an ensemble of the simple models, weighted on validation days and shrunk toward "
        "tomorrow = today when they show no skill there",
    )
    neural = model_type in NEURAL_TYPES
    preset = (
        st.radio(
            "Model settings",
            list(PRESETS),
            index=list(PRESETS).index(DEFAULT_PRESET),
            format_func=str.capitalize,
            captions=[p.description for p in PRESETS.values()],
            horizontal=True,
        )
        if neural
        else DEFAULT_PRESET
    )
    base = PRESETS[preset].config()
    chosen = st.multiselect(
        "Tickers",
        view.tickers,
        default=view.preferred or view.tickers[:1],
        help="One training job per ticker, run one after another",
    )
    warn_about_data(actor, chosen)
    with st.form("train"):
        values: dict = {"model_type": model_type}
        with st.expander("Advanced"):
            left, middle, right = st.columns(3)
            values["validation_fraction"] = left.number_input(
                FIELD_LABELS["validation_fraction"],
                0.05,
                0.45,
                base.validation_fraction,
                step=0.05,
                key=f"validation-{preset}",
            )
            values["test_fraction"] = middle.number_input(
                FIELD_LABELS["test_fraction"], 0.05, 0.45, base.test_fraction, step=0.05, key=f"test-{preset}"
            )
            values["interval_level"] = right.number_input(
                FIELD_LABELS["interval_level"], 0.55, 0.99, base.interval_level, step=0.01, key=f"level-{preset}"
            )
            values["seed"] = left.number_input(FIELD_LABELS["seed"], 0, 2**31 - 1, base.seed, key=f"seed-{preset}")
            if neural:
                values |= neural_fields(base, preset, model_type)
        submitted = st.form_submit_button("Train", icon=":material/model_training:")
    if not submitted:
        return
    if not chosen:
        st.error("Tickers: choose at least one")
        return
    try:
        config = parse_config(**values)
    except ModelSettingsError as error:
        st.error(plain(f"Settings: {as_labelled(str(error), model_type)}"))
        return
    submitted = attempt(models.submit_training, actor, chosen, config)
    if submitted:
        taken = sum(job.status != "failed" for job in submitted)
        report_submitted(submitted, f"Queued {plural(taken, 'training job')}; progress shows below.")


def report_submitted(submitted: list, queued: str) -> None:
    """Success for the jobs the queue took, the reason for each it could not take (it has failed them already)."""
    if any(job.status != "failed" for job in submitted):
        st.success(plain(queued))
    for job in submitted:
        if job.status == "failed":
            st.error(plain(f"{job.ticker}: {job.error}"))


def units_label(model_type: str) -> str:
    return f"{model_type.upper()} units per layer"


def as_labelled(problems: str, model_type: str) -> str:
    """Settings problems with each setting named as the form labels it."""
    labels = FIELD_LABELS | {"lstm_units": units_label(model_type)}

    def label_of(named: re.Match) -> str:
        return f"{named[1]}{labels.get(named[2], named[2])}: "

    # Each problem is "field: what is wrong" (an item of a list adds ".0"), problems joined by "; ".
    return re.sub(r"(^|; )([a-z_]+)(?:\.\d+)*: ", label_of, problems)


def neural_fields(base, preset: str, model_type: str) -> dict:
    """The settings only a network has, inside the Advanced expander."""
    left, middle, right = st.columns(3)
    features = st.multiselect(
        FIELD_LABELS["features"],
        list(FEATURES),
        default=list(base.features),
        format_func=lambda name: FEATURES[name].label,
        help="; ".join(f"{feature.label}: {feature.description}" for feature in FEATURES.values()),
        key=f"features-{preset}",
    )
    units = left.text_input(
        units_label(model_type),
        ", ".join(str(u) for u in base.lstm_units),
        help="e.g. 16, or 32, 16 for two stacked layers",
        key=f"units-{preset}",
    )
    try:
        layers = [int(part) for part in units.replace(" ", "").split(",") if part]
    except ValueError:
        layers = []  # parse_config names the problem
    return {
        "features": features,
        "lstm_units": layers,
        "window": left.number_input(
            FIELD_LABELS["window"],
            2,
            250,
            base.window,
            help="Days of history behind a forecast",
            key=f"window-{preset}",
        ),
        "dropout": middle.number_input(
            FIELD_LABELS["dropout"], 0.0, 0.8, base.dropout, step=0.05, key=f"dropout-{preset}"
        ),
        "dense_units": middle.number_input(
            FIELD_LABELS["dense_units"], 0, 512, base.dense_units, key=f"dense-{preset}"
        ),
        "batch_size": middle.number_input(FIELD_LABELS["batch_size"], 1, 4096, base.batch_size, key=f"batch-{preset}"),
        "epochs": right.number_input(FIELD_LABELS["epochs"], 1, 500, base.epochs, key=f"epochs-{preset}"),
        "patience": right.number_input(
            FIELD_LABELS["patience"],
            1,
            100,
            base.patience,
            help="Early stopping on validation loss",
            key=f"patience-{preset}",
        ),
        "learning_rate": right.number_input(
            FIELD_LABELS["learning_rate"], 1e-5, 1.0, base.learning_rate, format="%.5f", key=f"rate-{preset}"
        ),
    }


def warn_about_data(actor: Actor, tickers: list[str]) -> None:
    """Problems in the chosen tickers' prices, before a model learns from them."""
    if not tickers:
        return
    for ticker, problems in (attempt(models.data_problems, actor, tickers) or {}).items():
        st.warning(plain(f"{ticker}: {'; '.join(problems)}"), icon=":material/warning:")


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
    for position, job in enumerate(finished):
        render_job(actor, job, template=template, with_chart=position < FINISHED_JOBS_WITH_CHARTS)


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
    for job in jobs:
        if job.status not in FINISHED:
            render_job(actor, job, runner, template=template)


def show_runner(runner: RunnerStatus) -> None:
    if runner.problem:
        show_runner_problem(runner.problem)
    else:
        st.caption(plain(f"Training jobs: {runner.summary()}."))


def render_job(
    actor: Actor, job, runner: RunnerStatus | None = None, *, template: str = "plotly_white", with_chart: bool = True
) -> None:
    with st.container(border=True):
        head, action = st.columns([5, 1])
        head.markdown(
            plain(f"{job.ticker} · {job_name(job.kind, job.config)} · {job.status} · {minute(job.created_at)}")
        )
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
            st.plotly_chart(figure, width="stretch", theme=None, key=f"loss-{job.id}")


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


def render_versions(actor: Actor, can_train: bool = True) -> None:
    versions = attempt(models.list_versions, actor)
    if versions is None:
        return
    if not versions:
        st.caption("No model versions yet: train one above, or import an exported one.")
    else:
        table = pd.DataFrame(
            [
                {
                    "Ticker": v.ticker,
                    "Version": v.version,
                    "Model": label(v.model_type),
                    "Active": v.is_active,
                    # What a reader looks for first, before the numbers behind it: at the end of fourteen
                    # columns it ran off the page's right edge.
                    "Verdict": stored_verdict(v.metrics),
                    "MASE": stored_number(v.metrics.get("mase")),
                    "Direction right": stored_number(v.metrics.get("direction_accuracy")),
                    "Direction p-value": stored_number(v.metrics.get("direction_p_value")),
                    "Interval coverage": stored_number(v.metrics.get("test_coverage")),
                    "Made of": ensemble_mix(v.metrics.get("weights")),
                    "MAE": stored_number(v.metrics.get("mae")),
                    "Persistence MAE": stored_number(v.metrics.get("naive_mae")),
                    "Trained": local_moment(v.created_at),
                    "Prices": f"{day(v.data_start)} to {day(v.data_end)}" if v.data_start and v.data_end else "—",
                    "Trained on": f"{v.trained_on} prices" if v.trained_on else None,
                }
                for v in versions
            ]
        )
        shown, percents = percent_points(table, ("Direction right", "Interval coverage"))
        show_table(
            shown,
            hide_index=True,
            column_config=percents
            | {
                "Ticker": st.column_config.TextColumn(pinned=True),
                "Version": st.column_config.NumberColumn(format="%d", pinned=True),
                "Verdict": st.column_config.TextColumn(width=text_width(shown["Verdict"], "Verdict")),
                "Trained": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "Trained on": st.column_config.TextColumn(
                    help="The ticker whose prices the model was fitted on, where it is not the version's own"
                ),
                "MAE": st.column_config.NumberColumn(format="%.2f", help="Mean absolute error of the close, test days"),
                "Persistence MAE": st.column_config.NumberColumn(
                    format="%.2f", help="The same error of tomorrow = today"
                ),
                "MASE": st.column_config.NumberColumn(
                    format=MASE_FORMAT, help="MAE / persistence MAE: below 1 is better"
                ),
                "Direction p-value": st.column_config.NumberColumn(
                    format=P_VALUE_FORMAT, help="Chance of this many right directions by coin flips"
                ),
                "Made of": st.column_config.TextColumn(
                    help="auto: its members' weights, fitted on validation; all persistence without skill there",
                    width=text_width(shown["Made of"], "Made of"),
                ),
            },
        )
        labels = {
            f"{version_name(v.ticker, v.version, v.model_type)}{' (active)' if v.is_active else ''}": v
            for v in versions
        }
        chosen = st.selectbox("Version", list(labels), index=None, placeholder="Choose a version to act on")
        if chosen is not None:
            render_version_actions(actor, labels[chosen], can_train)
    if can_train:
        render_import(actor)


def render_version_actions(actor: Actor, version, can_train: bool) -> None:
    make_active, remove, download = st.columns(3)
    name = version_name(version.ticker, version.version, version.model_type)
    already = f"Already the active model of {version.ticker}" if version.is_active else None
    clicked = make_active.button("Make active", disabled=not can_train or version.is_active, help=already)
    if clicked and attempt(models.activate, actor, version.id):
        done_then_rerun(f"{name} is now the active model of {version.ticker}.")
    question = f"Delete {name}? The ledger keeps its predictions, marked deleted."
    if confirmed("Delete", question, key=f"delete_{version.id}", container=remove, disabled=not can_train):
        deleted = attempt(models.delete, actor, version.id)
        if deleted is not None:
            ledger = f"the ledger keeps its {plural(deleted.kept, 'prediction')} as {deleted.ledger_name}"
            done_then_rerun(f"Deleted {name}; " + (ledger if deleted.kept else "it had made no prediction") + ".")
    # Written when the button is pressed: up front, every run with a version chosen read the artifact, checked
    # its SHA-256, signed it and sent the browser up to 29 MB. A refusal then fails the download, not the page.
    download.download_button(
        "Export (.zip)",
        lambda: models.export_bundle(actor, version.id).data,
        file_name=models.export_filename(version),
        mime="application/zip",
        on_click="ignore",
    )


def render_import(actor: Actor) -> None:
    with st.form("import_model", clear_on_submit=True):
        upload = st.file_uploader("Import an exported model (.zip)", type=["zip"])
        ticker = st.text_input("Ticker", help="Leave empty to keep the ticker the file names")
        submitted = st.form_submit_button("Import")
    if not submitted:
        return
    if upload is None:
        st.error("Choose a model file (.zip) first")
        return
    version = attempt(models.import_bundle, actor, upload.getvalue(), ticker or None)
    if version:
        # The versions table and chooser above were drawn without it.
        learned = f", a model trained on {version.trained_on} prices" if version.trained_on else ""
        done_then_rerun(f"Imported as {version.ticker} v{version.version}{learned}.")


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
    st.subheader("Jobs")
    jobs = st.container()
    st.subheader("Leaderboard")
    render_leaderboard(actor, view)
    # Drawn after the leaderboard form has been handled, as after the training form: a job either form queued
    # in this run is on the panel, and followed, in the same run.
    with jobs:
        render_jobs(actor, view.chart_template)
    st.subheader("Model versions")
    render_versions(actor, view.can_train)


if __name__ == "__main__":
    main()
