"""Train: queue LSTM training jobs, watch them live, and manage the model versions they produce."""

import pandas as pd
import streamlit as st

from core.actions import ActionLimitedError
from core.auth import Permission, PermissionDeniedError, can
from core.config import get_settings
from core.forecasting.artifacts import ArtifactError
from core.forecasting.config import FEATURES, ConfigError, TrainingConfig, parse_config
from core.forecasting.registry import RegistryError, activate, delete, export_filename, import_version
from core.jobs import FINISHED, cancel_job, list_jobs, queue_training
from core.preferences import load_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.models import get_model_version, list_model_versions
from db.repositories.prices import list_cached_tickers
from ui.auth import require_login
from ui.tables import show_table

DEFAULTS = TrainingConfig()
REFRESH_SECONDS = 2


def render_form(actor: Actor, tickers: list[str], preferred: list[str]) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can look at models but not train them.")
        return
    with st.form("train"):
        chosen = st.multiselect(
            "Tickers",
            tickers,
            default=preferred or tickers[:1],
            help="One training job per ticker, run one after another",
        )
        left, middle, right = st.columns(3)
        window = left.number_input(
            "Window (days)", 2, 250, DEFAULTS.window, help="Days of history behind each forecast"
        )
        target = left.selectbox(
            "Target", ["log_return", "close"], help="Next-day log return (default) predicts a change; close a level"
        )
        units = left.text_input("LSTM units per layer", "16", help="e.g. 16, or 32, 16 for two stacked layers")
        features = middle.multiselect(
            "Features", list(FEATURES), default=list(DEFAULTS.features), format_func=lambda f: f"{f}: {FEATURES[f]}"
        )
        dropout = middle.number_input("Dropout", 0.0, 0.8, DEFAULTS.dropout, step=0.05)
        dense = middle.number_input("Dense units before the output (0: none)", 0, 512, DEFAULTS.dense_units)
        epochs = right.number_input("Epochs at most", 1, 500, DEFAULTS.epochs)
        patience = right.number_input(
            "Patience (epochs)", 1, 100, DEFAULTS.patience, help="Early stopping on validation loss"
        )
        batch = right.number_input("Batch size", 1, 4096, DEFAULTS.batch_size)
        with st.expander("More"):
            a, b, c = st.columns(3)
            learning_rate = a.number_input("Learning rate", 1e-5, 1.0, DEFAULTS.learning_rate, format="%.5f")
            validation = b.number_input("Validation fraction", 0.05, 0.45, DEFAULTS.validation_fraction, step=0.05)
            test = c.number_input("Test fraction (the last days)", 0.05, 0.45, DEFAULTS.test_fraction, step=0.05)
            seed = a.number_input("Seed", 0, 2**31 - 1, DEFAULTS.seed)
            level = b.number_input("Interval coverage", 0.55, 0.99, DEFAULTS.interval_level, step=0.01)
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
        st.error(f"Settings: {error}" if isinstance(error, ConfigError) else f"LSTM units: {error}")
        return
    except (PermissionDeniedError, ActionLimitedError) as error:
        st.error(str(error))
        return
    st.success(f"Queued {len(jobs)} training job{'s' if len(jobs) > 1 else ''}: follow them below.")


@st.fragment(run_every=REFRESH_SECONDS)
def render_jobs(actor: Actor) -> None:
    with session_scope(action="list jobs") as session:
        jobs = list_jobs(session=session, actor=actor)
    if not jobs:
        st.caption("No training jobs yet.")
        return
    for job in jobs:
        with st.container(border=True):
            head, action = st.columns([5, 1])
            head.markdown(f"**{job.ticker}** · {job.status} · {job.created_at:%Y-%m-%d %H:%M} UTC")
            if job.status not in FINISHED:
                head.progress(float(job.progress), text=job.message or "")
                if action.button("Cancel", key=f"cancel-{job.id}"):
                    with session_scope(action="cancel job") as session:
                        cancel_job(session=session, actor=actor, job_id=job.id)
                    st.rerun(scope="fragment")
            elif job.status == "failed":
                head.error(job.error or "failed", icon=":material/error:")
            else:
                head.caption(job.message or "")
            losses = (job.history or {}).get("loss")
            if losses:
                curve = pd.DataFrame({"loss": losses, "val_loss": job.history.get("val_loss")})
                curve.index = range(1, len(curve) + 1)
                st.line_chart(curve, height=180, x_label="epoch")


def render_versions(actor: Actor) -> None:
    with session_scope() as session:
        versions = list_model_versions(session=session, actor=actor)
    if not versions:
        st.caption("No model versions yet: train one above, or import an exported one.")
    else:
        table = pd.DataFrame(
            [
                {
                    "ticker": v.ticker,
                    "version": v.version,
                    "active": v.is_active,
                    "trained": v.created_at,
                    "data": f"{v.data_start} to {v.data_end}",
                    "MAE": v.metrics.get("mae"),
                    "naive MAE": v.metrics.get("naive_mae"),
                    "MASE": v.metrics.get("mase"),
                    "direction": v.metrics.get("direction_accuracy"),
                    "p-value": v.metrics.get("direction_p_value"),
                    "coverage": v.metrics.get("test_coverage"),
                    "verdict": v.metrics.get("verdict", ""),
                }
                for v in versions
            ]
        )
        show_table(table, hide_index=True, column_config={"direction": st.column_config.NumberColumn(format="percent")})
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
