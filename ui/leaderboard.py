"""Model types in tables: the leaderboard as the Train and Metrics pages both show it, and what an
auto version is made of."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.forecasting.config import MODEL_TYPES
from core.forecasting.evaluation import stored_number
from core.forecasting.history import p_value_figure
from core.forecasting.zoo import label
from db.models import Evaluation
from ui.coverage import show_blank_coverage
from ui.format import MASE_FORMAT, minute, percent_points
from ui.tables import show_table, text_width
from ui.text import plain

# The verdict beside the model it judges: after seven number columns it ran off the table's right edge.
COLUMNS = {
    "kind": "Model",
    "verdict": "Verdict",
    "validation_mase": "Validation MASE",
    "test_mase": "Test MASE",
    "dm_pvalue": "Diebold-Mariano p",
    "direction_accuracy": "Direction right",
    "coverage": "Interval coverage",
    "train_seconds": "Train seconds",
}


def ensemble_mix(weights: object) -> str:
    """'median drift 88 %, persistence (tomorrow = today) 12 %' from stored weights; '' for a single model.

    The weights come from a bundle that may have been imported: only known model types with finite
    weights are named, so a file cannot put its own words into the table.
    """
    if not isinstance(weights, dict):
        return ""
    shares = [(stored_number(share), kind) for kind, share in weights.items() if kind in MODEL_TYPES]
    shares = [(share, kind) for share, kind in shares if share is not None and share >= 0.005]
    return ", ".join(f"{label(kind)} {share * 100:.0f} %" for share, kind in sorted(shares, reverse=True))


def show_leaderboard(board: Evaluation | None) -> None:
    """Every model type trained on one ticker in one job, ranked by validation MASE (never by test)."""
    if board is None:
        st.caption("No leaderboard yet: a leaderboard job trains every model type on one ticker.")
        return
    rows = pd.DataFrame(board.metrics.get("models", []), columns=list(COLUMNS))
    unbounded = [label(row.get("kind")) for row in board.metrics.get("models", []) if _unbounded(row)]
    rows["kind"] = [label(kind) for kind in rows["kind"]]
    # As the verdict beside it prints it: never rounded onto or across 5 % (0.04996 is not 0.0500).
    rows["dm_pvalue"] = [p_value_figure(p_value) for p_value in rows["dm_pvalue"]]
    made = minute(board.created_at)
    st.caption(
        f"{plain(board.ticker)}, {plain(made)}, sorted by validation MASE: the test columns are shown, never chosen "
        "by. auto's validation MASE is measured on the days its weights were fitted on, which flatters it: judge "
        "it on its test columns."
    )
    shown, percents = percent_points(rows.rename(columns=COLUMNS), ("Direction right", "Interval coverage"))
    show_table(
        shown,
        hide_index=True,
        column_config=percents
        | {
            "Validation MASE": st.column_config.NumberColumn(format=MASE_FORMAT),
            "Test MASE": st.column_config.NumberColumn(format=MASE_FORMAT),
            "Diebold-Mariano p": st.column_config.TextColumn(),
            "Train seconds": st.column_config.NumberColumn(format="%.1f"),
            "Verdict": st.column_config.TextColumn(width=text_width(shown["Verdict"], "Verdict")),
        },
    )
    show_blank_coverage(unbounded)


def _unbounded(row: object) -> bool:
    """A row stored with no coverage: its interval was infinite (rows stored before coverage was kept have none)."""
    return isinstance(row, dict) and "coverage" in row and stored_number(row["coverage"]) is None
