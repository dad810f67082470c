"""Model versions side by side: each beside persistence and its baselines, the history of their scores,
and the walk-forward that tests each version's own settings."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.forecasting.evaluation import MASE_SPEC, figure, stored_number, stored_verdict
from core.forecasting.history import p_value_figure
from core.forecasting.zoo import label, version_name
from core.services import analysis
from ui.charts import (
    CHART_CONFIG,
    metric_history_figure,
)
from ui.coverage import show_blank_coverage
from ui.errors import attempt
from ui.format import MASE_FORMAT, count, local_naive, minute, percent_points
from ui.tables import show_table
from ui.text import plain
from ui.walk_forward_panel import report_queued

# A line per ticker: past a few, the legend and the lines are unreadable, and each costs the page's every run.
HISTORY_TICKERS = 8


def baseline_mae(baselines: dict, name: str) -> float | None:
    scores = baselines.get(name)
    return stored_number(scores.get("mae")) if isinstance(scores, dict) else None


def version_rows(versions) -> pd.DataFrame:
    """One row per version with human column names; ratios stay fractions for percent formatting."""
    rows = []
    for v in versions:
        m = v.metrics if isinstance(v.metrics, dict) else {}
        baselines = m.get("baselines") if isinstance(m.get("baselines"), dict) else {}
        mape = stored_number(m.get("mape"))
        rows.append(
            {
                "Ticker": v.ticker,
                "Version": int(v.version),
                "Trained": v.created_at,
                "Active": v.is_active,
                "Model": label(v.model_type),
                "MAE": stored_number(m.get("mae")),
                "Persistence MAE": stored_number(m.get("naive_mae")),
                "Drift MAE": baseline_mae(baselines, "drift"),
                "Median drift MAE": baseline_mae(baselines, "median"),  # versions trained before it have none
                "MASE": stored_number(m.get("mase")),
                "RMSE": stored_number(m.get("rmse")),
                "MAPE": mape / 100 if mape is not None else None,
                "Direction accuracy": stored_number(m.get("direction_accuracy")),
                # As the verdict prints them, never rounded onto or across 5 % (0.04996 is not 0.0500).
                "Direction p-value": p_value_figure(m.get("direction_p_value")),
                "DM p-value": p_value_figure(m.get("dm_pvalue")),
                "Interval coverage": stored_number(m.get("test_coverage")),
                "Verdict": stored_verdict(m),
            }
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        # One conversion for the column: a library of hundreds of versions paid about a millisecond a row.
        table["Trained"] = local_naive(table["Trained"])
    return table


def render_version_scores(actor: Actor, view: analysis.MetricsView) -> None:
    versions, template = view.versions, view.chart_template
    if not versions:
        st.caption("No model versions yet: train one on the Train page.")
        return
    table = version_rows(versions)
    price = st.column_config.NumberColumn(format="%,.2f")
    shown, percents = percent_points(table, ("MAPE", "Direction accuracy", "Interval coverage"))
    show_table(
        shown,
        hide_index=True,
        column_config=percents
        | {
            "Version": st.column_config.NumberColumn(format="%d"),
            "Trained": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "MAE": price,
            "Persistence MAE": price,
            "Drift MAE": price,
            "Median drift MAE": price,
            "RMSE": price,
            "MASE": st.column_config.NumberColumn(
                format=MASE_FORMAT, help="MAE over persistence's MAE: below 1 is better"
            ),
            "DM p-value": st.column_config.TextColumn(help="Diebold-Mariano test against persistence on the test days"),
        },
    )
    show_blank_coverage(
        [
            version_name(v.ticker, v.version, v.model_type)
            for v in versions
            if isinstance(v.metrics, dict)
            and "interval_scale" in v.metrics
            and stored_number(v.metrics["interval_scale"]) is None
        ]
    )
    for version, row in zip(versions, table.to_dict("records"), strict=True):
        if not version.is_active:
            continue
        # Text, never markdown: the ticker and verdict may come from a file a user gave.
        line = f"Active {version_name(version.ticker, version.version, version.model_type)}: {row['Verdict']}"
        if pd.notna(row["MAE"]) and pd.notna(row["Persistence MAE"]):
            # The verdict may end in its own "(p = 0.50)": the MAEs follow after a semicolon, not in more brackets.
            line += f"; MAE {row['MAE']:,.2f} against persistence {row['Persistence MAE']:,.2f}"
        st.text(line)
        render_walk_forward_of(actor, version, view.walk_forward_of(version))
    if len(versions) < 2:
        # One version is one dot on an axis of its own making: read as an empty chart, it says nothing.
        st.caption("The history of MASE, MAE and direction accuracy is drawn from the second version on.")
        return
    metric_column, ticker_column = st.columns([1, 2])
    metric = metric_column.radio("History of", ["MASE", "MAE", "Direction accuracy"], horizontal=True)
    trained_last = list(dict.fromkeys(v.ticker for v in sorted(versions, key=lambda v: v.created_at, reverse=True)))
    chosen = ticker_column.multiselect(
        "History of tickers", sorted(trained_last), placeholder="the tickers trained last"
    )
    drawn = chosen or trained_last[:HISTORY_TICKERS]
    history = table.rename(columns={"Ticker": "ticker", "Version": "version", "Trained": "trained"}).assign(
        name=[version_name(v.ticker, v.version, v.model_type) for v in versions]
    )
    history = history[history["ticker"].isin(drawn)]
    st.plotly_chart(
        metric_history_figure(history, metric, template=template), width="stretch", theme=None, config=CHART_CONFIG
    )
    if not chosen and len(trained_last) > HISTORY_TICKERS:
        st.caption(f"The chart shows the {HISTORY_TICKERS:d} tickers trained last; choose tickers above to see others.")


def render_walk_forward_of(actor: Actor, version, known: analysis.VersionWalkForward) -> None:
    """The latest walk-forward of the version's own settings beside its one-split verdict, or a way to run one."""
    model, run = label(version.model_type), known.run
    if run is not None:
        latest = run.metrics
        st.text(
            f"Walk-forward of {model} on {version.ticker}, run {minute(run.created_at)}, "
            f"{plural(latest.get('windows') or 0, 'window')}: {stored_verdict(latest)} over "
            f"{count(latest.get('days'))} out-of-sample days, MASE {figure(latest.get('mase'), MASE_SPEC)}"
        )
        return
    if known.config is None:
        st.caption(
            plain(f"This version's settings are not ones this app can read, so no walk-forward of {model} tests it.")
        )
        return
    if known.other_settings:
        *most, last = known.differs_in
        differs = f"{', '.join(most)} and {last}" if most else last
        said = (
            f"{plural(known.other_settings, 'walk-forward run')} of {model} on {version.ticker} used other settings "
            f"than this version (the newest differs in {differs}), so none is shown as its test."
        )
    else:
        said = f"No walk-forward of {model} on {version.ticker} with this version's settings yet."
    st.caption(
        plain(
            f"{said} The version's verdict comes from one test split; a walk-forward retrains at many origins, "
            "the figure to trust."
        )
    )
    if not can(actor, Permission.TRAIN):
        return
    # Offered disabled, with the reason, when the submit's own rule would refuse it: a click that must fail is no offer.
    clicked = st.button(
        "Run a walk-forward with this version's settings",
        key=f"walk-forward-{version.id}",
        icon=":material/timeline:",
        disabled=known.refusal is not None,
    )
    if known.refusal is not None:
        st.caption(plain(f"Not possible here: {known.refusal}."))
    elif clicked:
        report_queued(attempt(analysis.submit_walk_forward, actor, ticker=version.ticker, config=known.config))
