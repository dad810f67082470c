"""Train: queue LSTM training jobs, watch them live, and manage the model versions they produce."""

from datetime import datetime

import pandas as pd
import streamlit as st

from common.config import get_settings
from core.actions import ActionLimitedError
from core.auth import Permission, PermissionDeniedError, can
from core.forecasting.artifacts import ArtifactError
from core.forecasting.config import FEATURES, ModelSettingsError, parse_config
from core.forecasting.registry import RegistryError, activate, delete, export_filename, import_version
from core.jobs import (
    DEFAULT_PRESET,
    FINISHED,
    PRESETS,
    WAITING_MESSAGE,
    RunnerStatus,
    cancel_job,
    list_jobs,
    queue_training,
    runner_status,
)
from core.preferences import load_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.models import get_model_version, list_model_versions
from db.repositories.prices import list_cached_tickers
from ui.auth import require_login
from ui.tables import show_table
from ui.text import plain

REFRESH_SECONDS = 2
OPEN_JOBS_KEY = "train_open_jobs"  # jobs this browser session last saw queued or running
FEATURE_LABELS = {
    "log_return": "Log return",
    "hv_20": "Volatility (20 days)",
    "rsi_14": "RSI (14 days)",
    "macd_hist": "MACD histogram",
    "volume_change": "Volume change",
    "range": "High-low range",
    "close": "Close",
}


def feature_label(name: str) -> str:
    return FEATURE_LABELS.get(name, FEATURES.get(name, name))


def render_form(actor: Actor, tickers: list[str], preferred: list[str]) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can look at models but not train them.")
        return
    # Outside the form, so that choosing a preset refills the advanced fields at once.
    preset = st.radio(
        "Model settings",
        list(PRESETS),
        index=list(PRESETS).index(DEFAULT_PRESET),
        format_func=str.capitalize,
        captions=[p.description for p in PRESETS.values()],
        horizontal=True,
    )
    base = PRESETS[preset].config()
    with st.form("train"):
        chosen = st.multiselect(
            "Tickers",
            tickers,
            default=preferred or tickers[:1],
            help="One training job per ticker, run one after another",
        )
        features = st.multiselect(
            "Features",
            list(FEATURES),
            default=list(base.features),
            format_func=feature_label,
            help="; ".join(f"{feature_label(name)}: {text}" for name, text in FEATURES.items()),
            key=f"features-{preset}",
        )
        with st.expander("Advanced"):
            left, middle, right = st.columns(3)
            window = left.number_input(
                "Window (days)", 2, 250, base.window, help="Days of history behind a forecast", key=f"window-{preset}"
            )
            target = left.selectbox(
                "Target",
                ["log_return", "close"],
                format_func={"log_return": "Next-day log return", "close": "Next-day close"}.get,
                help="A return (default) predicts a change; a close predicts a level",
            )
            units = left.text_input(
                "LSTM units per layer",
                ", ".join(str(u) for u in base.lstm_units),
                help="e.g. 16, or 32, 16 for two stacked layers",
                key=f"units-{preset}",
            )
            dropout = middle.number_input("Dropout", 0.0, 0.8, base.dropout, step=0.05, key=f"dropout-{preset}")
            dense = middle.number_input(
                "Dense units before the output (0: none)", 0, 512, base.dense_units, key=f"dense-{preset}"
            )
            batch = middle.number_input("Batch size", 1, 4096, base.batch_size, key=f"batch-{preset}")
            epochs = right.number_input("Epochs at most", 1, 500, base.epochs, key=f"epochs-{preset}")
            patience = right.number_input(
                "Patience (epochs)", 1, 100, base.patience, help="Early stopping on validation loss",
                key=f"patience-{preset}",
            )  # fmt: skip
            learning_rate = right.number_input(
                "Learning rate", 1e-5, 1.0, base.learning_rate, format="%.5f", key=f"rate-{preset}"
            )
            validation = left.number_input(
                "Validation fraction", 0.05, 0.45, base.validation_fraction, step=0.05, key=f"validation-{preset}"
            )
            test = middle.number_input(
                "Test fraction (the last days)", 0.05, 0.45, base.test_fraction, step=0.05, key=f"test-{preset}"
            )
            seed = right.number_input("Seed", 0, 2**31 - 1, base.seed, key=f"seed-{preset}")
            level = left.number_input(
                "Interval coverage", 0.55, 0.99, base.interval_level, step=0.01, key=f"level-{preset}"
            )
        submitted = st.form_submit_button("Train", icon=":material/model_training:")
    if not submitted:
        return
    if not chosen:
        st.error("Tickers: choose at least one")
        return
    try:
        config = parse_config(
            window=window,
            target=target,
            features=features,
            lstm_units=[int(part) for part in units.replace(" ", "").split(",") if part],
            dropout=dropout,
            dense_units=dense,
            epochs=epochs,
            patience=patience,
            batch_size=batch,
            learning_rate=learning_rate,
            validation_fraction=validation,
            test_fraction=test,
            seed=seed,
            interval_level=level,
        )
        jobs = queue_training(
            actor=actor, tickers=chosen, config=config, settings=get_settings(), throttle=get_throttle()
        )
    except ValueError as error:
        st.error(f"Settings: {error}" if isinstance(error, ModelSettingsError) else f"LSTM units: {error}")
        return
    except (PermissionDeniedError, ActionLimitedError) as error:
        st.error(str(error))
        return
    st.success(f"Queued {len(jobs)} training job{'s' if len(jobs) > 1 else ''}: follow them below.")


def local_time(moment: datetime | None) -> pd.Timestamp | None:
    """A stored UTC moment in the viewer's time zone, without an offset to read past."""
    if moment is None:
        return None
    return pd.Timestamp(moment).tz_convert(st.context.timezone or "UTC").tz_localize(None)


@st.fragment(run_every=REFRESH_SECONDS)
def render_jobs(actor: Actor) -> None:
    runner = runner_status()
    with session_scope(action="list jobs") as session:
        jobs = list_jobs(session=session, actor=actor)
    if runner.problem:
        st.warning(runner.problem, icon=":material/engineering:")
    else:
        st.caption(plain(f"Training jobs: {runner.summary()}."))
    refresh_when_a_job_succeeds(jobs)
    if not jobs:
        st.caption("No training jobs yet.")
        return
    for job in jobs:
        with st.container(border=True):
            head, action = st.columns([5, 1])
            head.markdown(plain(f"{job.ticker} · {job.status} · {local_time(job.created_at):%Y-%m-%d %H:%M}"))
            if job.status == "queued":
                head.caption(plain(queued_note(job.message, runner)))
            elif job.status == "running":
                head.progress(float(job.progress), text=job.message or "")
            elif job.status == "failed":
                head.error(job.error or "failed", icon=":material/error:")
            else:
                head.caption(plain(job.message or ""))
            if job.status not in FINISHED and action.button("Cancel", key=f"cancel-{job.id}"):
                with session_scope(action="cancel job") as session:
                    cancel_job(session=session, actor=actor, job_id=job.id)
                st.rerun(scope="fragment")
            losses = (job.history or {}).get("loss")
            if losses:
                curve = pd.DataFrame({"loss": losses, "val_loss": job.history.get("val_loss")})
                curve.index = range(1, len(curve) + 1)
                st.line_chart(curve, height=180, x_label="epoch")


def queued_note(message: str | None, runner: RunnerStatus) -> str:
    """What a queued job waits for, in words."""
    if runner.problem:
        return "waiting: no worker is listening on the queue, so it starts when one does"
    return message or WAITING_MESSAGE


def refresh_when_a_job_succeeds(jobs) -> None:
    """Rerun the whole page when a job this session watched has just succeeded, so its version appears below."""
    open_now = {str(job.id) for job in jobs if job.status not in FINISHED}
    succeeded = {str(job.id) for job in jobs if job.status == "succeeded"}
    watched = st.session_state.get(OPEN_JOBS_KEY, set())
    st.session_state[OPEN_JOBS_KEY] = open_now
    if watched & succeeded:
        st.rerun(scope="app")


def render_versions(actor: Actor) -> None:
    with session_scope() as session:
        versions = list_model_versions(session=session, actor=actor)
    if not versions:
        st.caption("No model versions yet: train one above, or import an exported one.")
    else:
        table = pd.DataFrame(
            [
                {
                    "Ticker": v.ticker,
                    "Version": v.version,
                    "Active": v.is_active,
                    "Trained": local_time(v.created_at),
                    "Prices": f"{v.data_start:%Y-%m-%d} to {v.data_end:%Y-%m-%d}",
                    "MAE": v.metrics.get("mae"),
                    "Persistence MAE": v.metrics.get("naive_mae"),
                    "MASE": v.metrics.get("mase"),
                    "Direction right": v.metrics.get("direction_accuracy"),
                    "p-value": v.metrics.get("direction_p_value"),
                    "Interval coverage": v.metrics.get("test_coverage"),
                    "Verdict": v.metrics.get("verdict", ""),
                }
                for v in versions
            ]
        )
        show_table(
            table,
            hide_index=True,
            column_config={
                "Version": st.column_config.NumberColumn(format="%d"),
                "Trained": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "MAE": st.column_config.NumberColumn(format="%.2f", help="Mean absolute error of the close, test days"),
                "Persistence MAE": st.column_config.NumberColumn(
                    format="%.2f", help="The same error of tomorrow = today"
                ),
                "MASE": st.column_config.NumberColumn(format="%.3f", help="MAE / persistence MAE: below 1 is better"),
                "Direction right": st.column_config.NumberColumn(format="percent"),
                "p-value": st.column_config.NumberColumn(
                    format="%.2f", help="Chance of this many right directions by coin flips"
                ),
                "Interval coverage": st.column_config.NumberColumn(format="percent"),
            },
        )
        labels = {f"{v.ticker} v{v.version}{' (active)' if v.is_active else ''}": v.id for v in versions}
        chosen = st.selectbox("Version", list(labels), index=None, placeholder="Choose a version to act on")
        if chosen is not None:
            render_version_actions(actor, labels[chosen])
    if can(actor, Permission.TRAIN):
        render_import(actor)


def render_version_actions(actor: Actor, version_id) -> None:
    make_active, remove, download = st.columns(3)
    try:
        if make_active.button("Make active", disabled=not can(actor, Permission.TRAIN)):
            with session_scope(action="activate model") as session:
                activate(session=session, actor=actor, version_id=version_id)
            st.rerun()
        if remove.button("Delete", disabled=not can(actor, Permission.TRAIN)):
            with session_scope(action="delete model") as session:
                delete(session=session, actor=actor, version_id=version_id)
            st.rerun()
    except (RegistryError, PermissionDeniedError) as error:
        st.error(str(error))
    with session_scope() as session:
        version = get_model_version(session=session, actor=actor, version_id=version_id)
        artifact, filename = version.artifact, export_filename(version)
    download.download_button("Export (.zip)", artifact, file_name=filename, mime="application/zip")


def render_import(actor: Actor) -> None:
    with st.form("import_model", clear_on_submit=True):
        upload = st.file_uploader("Import an exported model (.zip)", type=["zip"])
        ticker = st.text_input("Ticker", help="Leave empty to keep the ticker the file names")
        submitted = st.form_submit_button("Import")
    if submitted and upload is not None:
        try:
            with session_scope(action="import model") as session:
                version = import_version(session=session, actor=actor, data=upload.getvalue(), ticker=ticker or None)
                label = f"{version.ticker} v{version.version}"
        except (ArtifactError, RegistryError) as error:
            st.error(f"Refused: {error}")
        else:
            st.success(f"Imported as {label}.")


def main() -> None:
    actor = require_login()
    st.title("Train")
    with session_scope() as session:
        tickers = sorted({c.ticker for c in list_cached_tickers(session=session, actor=actor)})
        preferred = [t for t in load_preferences(session=session, actor=actor).default_tickers if t in tickers]
    if tickers:
        render_form(actor, tickers, preferred)
    else:
        st.info("No prices to train on yet: fetch or upload some on the Tickers page, or load the S&P 500 sample.")
    st.subheader("Jobs")
    render_jobs(actor)
    st.subheader("Model versions")
    render_versions(actor)


if __name__ == "__main__":
    main()
