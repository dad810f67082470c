"""The training form: a model type, its settings (a preset or each field), tickers to train on, and
what the queue said to each."""

import re

import streamlit as st

from common.words import plural
from core.auth import Actor
from core.forecasting.config import MODEL_TYPES, ModelSettingsError, parse_config
from core.forecasting.features import FEATURES
from core.forecasting.zoo import DEFAULT_KIND, label
from core.jobs import DEFAULT_PRESET, PRESETS
from core.services import models
from ui.errors import attempt
from ui.text import plain

NEURAL_TYPES = ("lstm", "gru")
DATA_PROBLEMS_KEY = "train_data_problems"  # the chosen tickers' data problems as last judged
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
    """Problems in the chosen tickers' prices, before a model learns from them.

    Those of the last run are kept in this browser session and handed back: the service judges the prices
    again only when the tickers, their prices or their splits changed (models.data_problems).
    """
    if not tickers:
        return
    checked = attempt(models.data_problems, actor, tickers, st.session_state.get(DATA_PROBLEMS_KEY))
    if checked is None:
        return
    st.session_state[DATA_PROBLEMS_KEY] = checked
    for ticker, problems in checked.problems.items():
        st.warning(plain(f"{ticker}: {'; '.join(problems)}"), icon=":material/warning:")
