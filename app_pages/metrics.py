"""Metrics: do the models beat tomorrow = today? Versions side by side, their history, and walk-forward runs."""

import pandas as pd
import streamlit as st

from core.actions import ActionLimitedError
from core.auth import Permission, PermissionDeniedError, can
from core.config import get_settings
from core.forecasting.config import TrainingConfig
from core.forecasting.walkforward import WalkForwardSettings
from core.jobs import queue_training
from core.preferences import load_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.repositories.actor import Actor
from db.repositories.evaluations import list_evaluations
from db.repositories.models import list_model_versions
from db.repositories.prices import list_cached_tickers
from ui.auth import require_login
from ui.charts import metric_history_figure, residual_figure, window_scores_figure


def render_versions(actor: Actor, template: str) -> None:
    with session_scope() as session:
        versions = list_model_versions(session=session, actor=actor)
    if not versions:
        st.caption("No model versions yet: train one on the Train page.")
        return
    table = pd.DataFrame(
        [
            {
                "ticker": v.ticker,
                "version": v.version,
                "trained": v.created_at,
                "active": v.is_active,
                "MAE": v.metrics.get("mae"),
                "persistence MAE": v.metrics.get("naive_mae"),
                "drift MAE": (v.metrics.get("baselines") or {}).get("drift", {}).get("mae"),
                "MASE": v.metrics.get("mase"),
                "RMSE": v.metrics.get("rmse"),
                "R²": v.metrics.get("r2"),
                "MAPE %": v.metrics.get("mape"),
                "direction": v.metrics.get("direction_accuracy"),
                "p-value": v.metrics.get("direction_p_value"),
                "coverage": v.metrics.get("test_coverage"),
                "verdict": v.metrics.get("verdict", ""),
            }
            for v in versions
        ]
    )
    st.dataframe(table, hide_index=True, column_config={"direction": st.column_config.NumberColumn(format="percent")})
    metric = st.radio("History of", ["MASE", "MAE", "direction"], horizontal=True)
    st.plotly_chart(metric_history_figure(table, metric, template=template), width="stretch")


def render_walkforward_form(actor: Actor) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can read evaluations but not run them.")
        return
    with session_scope() as session:
        tickers = sorted({c.ticker for c in list_cached_tickers(session=session, actor=actor)})
    if not tickers:
        st.caption("No prices to evaluate on yet.")
        return
    with st.form("walkforward"):
        ticker_column, windows_column, step_column, retrain_column = st.columns(4)
        ticker = ticker_column.selectbox("Ticker", tickers)
        windows = windows_column.number_input(
            "Windows", 1, 50, 5, help="Rolling origins over the last part of the history"
        )
        step = step_column.number_input(
            "Days per window", 0, 1000, 0, help="0: the last 20 % of the history split evenly"
        )
        retrain = retrain_column.number_input("Retrain every n windows", 1, 50, 1)
        submitted = st.form_submit_button("Run walk-forward", icon=":material/timeline:")
    if not submitted:
        return
    try:
        settings = WalkForwardSettings(windows=windows, step=step or None, retrain_every=retrain)
        queue_training(
            actor=actor,
            tickers=[ticker],
            config=TrainingConfig(),
            settings=get_settings(),
            throttle=get_throttle(),
            walkforward={"windows": settings.windows, "step": settings.step, "retrain_every": settings.retrain_every},
        )
    except (ValueError, PermissionDeniedError, ActionLimitedError) as error:
        st.error(str(error))
        return
    st.success("Walk-forward queued: its progress shows on the Train page, its results here when it is done.")


def render_evaluations(actor: Actor, template: str) -> None:
    with session_scope() as session:
        evaluations = list_evaluations(session=session, actor=actor)
    if not evaluations:
        st.caption("No walk-forward runs yet.")
        return
    labels = {
        f"{e.ticker} · {e.created_at:%Y-%m-%d %H:%M} · {e.metrics.get('windows')} windows": e for e in evaluations
    }
    evaluation = labels[st.selectbox("Run", list(labels))]
    m = evaluation.metrics
    baselines = m.get("baselines", {})
    st.markdown(f"**{m.get('verdict', '')}** over {m.get('days')} out-of-sample days")
    overall = pd.DataFrame(
        [
            {"forecast": "model", "MAE": m.get("mae"), "MASE": m.get("mase"), "direction": m.get("direction_accuracy")},
            *(
                {
                    "forecast": name.replace("_", " "),
                    "MAE": s.get("mae"),
                    "MASE": s.get("mase"),
                    "direction": s.get("direction_accuracy"),
                }
                for name, s in baselines.items()
            ),
        ]
    )
    st.dataframe(overall, hide_index=True, column_config={"direction": st.column_config.NumberColumn(format="percent")})
    lag = m.get("lag", {})
    a, b, c = st.columns(3)
    a.metric("Diebold-Mariano p vs persistence", f"{m.get('dm_pvalue', float('nan')):.3f}")
    b.metric("Interval coverage", f"{m.get('coverage', float('nan')):.1%}")
    c.metric("Forecast closer to the previous close", "yes" if lag.get("follows_previous_close") else "no")
    if lag.get("follows_previous_close"):
        st.caption(
            f"The forecasts sit {lag['mae_to_previous_close']:.2f} from the previous close on average and "
            f"{lag['mae_to_actual']:.2f} from the close they forecast: they mostly repeat the last price."
        )
    windows = evaluation.windows
    st.plotly_chart(window_scores_figure(windows, template=template), width="stretch")
    forecast = pd.concat([pd.DataFrame(w["forecast"]) for w in windows], ignore_index=True)
    st.plotly_chart(residual_figure(forecast, template=template), width="stretch")


def main() -> None:
    actor = require_login()
    st.title("Metrics")
    with session_scope() as session:
        template = load_preferences(session=session, actor=actor).plotly_template
    st.header("Model versions")
    render_versions(actor, template)
    st.header("Walk-forward evaluation")
    render_walkforward_form(actor)
    render_evaluations(actor, template)


if __name__ == "__main__":
    main()
