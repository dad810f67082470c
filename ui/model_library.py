"""The user's model versions: their scores, the active one per ticker, export, import and removal."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor
from core.forecasting.evaluation import stored_number, stored_verdict
from core.forecasting.zoo import label, version_name
from core.services import models
from ui.confirm import confirmed
from ui.errors import attempt
from ui.format import MASE_FORMAT, P_VALUE_FORMAT, day, local_naive, percent_points
from ui.leaderboard import ensemble_mix
from ui.notices import done_then_rerun
from ui.tables import show_table, text_width


def render_model_library(actor: Actor, can_train: bool = True) -> None:
    """The user's versions in one table; the chosen one's actions (activate, export, delete); an import form."""
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
                    "Trained": v.created_at,
                    "Prices": f"{day(v.data_start)} to {day(v.data_end)}" if v.data_start and v.data_end else "—",
                    "Trained on": f"{v.trained_on} prices" if v.trained_on else None,
                }
                for v in versions
            ]
        )
        # The column at once: each row through local_moment cost about a millisecond, 200 versions a fifth of a second.
        table["Trained"] = local_naive(table["Trained"])
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
