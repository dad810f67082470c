"""Metrics: do the models beat tomorrow = today? Versions side by side, their history, and walk-forward runs."""

import pandas as pd
import streamlit as st

from core.actions import ActionLimitedError
from core.analysis import AnalysisError, backtest_evaluation, portfolio_risk
from core.auth import Permission, PermissionDeniedError, can
from core.backtest import BacktestConfig
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
from ui.charts import (
    correlation_figure,
    equity_figure,
    fan_figure,
    metric_history_figure,
    residual_figure,
    window_scores_figure,
)
from ui.pickers import preferred_tickers, ticker_picker
from ui.tables import show_table


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
    show_table(table, hide_index=True, column_config={"direction": st.column_config.NumberColumn(format="percent")})
    for v in versions:
        if v.is_active and v.metrics.get("mae") is not None:
            st.markdown(
                f"Active **{v.ticker} v{v.version}**: {v.metrics.get('verdict', '')} "
                f"(MAE {v.metrics['mae']:,.2f} against persistence {v.metrics['naive_mae']:,.2f} "
                f"on the last {v.metrics.get('test_days', '?')} days)"
            )
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
        ticker = ticker_picker(tickers, container=ticker_column)
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
    show_table(overall, hide_index=True, column_config={"direction": st.column_config.NumberColumn(format="percent")})
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


def render_backtest(actor: Actor, template: str) -> None:
    with session_scope() as session:
        evaluations = list_evaluations(session=session, actor=actor)
    if not evaluations:
        st.caption("Backtests trade a walk-forward run's out-of-sample forecasts: run one above first.")
        return
    labels = {f"{e.ticker} · {e.created_at:%Y-%m-%d %H:%M}": e.id for e in evaluations}
    with st.form("backtest"):
        run_column, threshold_column, cost_column, short_column = st.columns(4)
        chosen = run_column.selectbox("Walk-forward run", list(labels))
        threshold = threshold_column.number_input(
            "Threshold (bp)", 0.0, 500.0, 0.0, help="Act only on larger predicted moves"
        )
        cost = cost_column.number_input("Costs (bp per trade)", 0.0, 100.0, 5.0)
        short = short_column.checkbox("Allow short positions")
        submitted = st.form_submit_button("Backtest", icon=":material/trending_up:")
    if not submitted:
        return
    try:
        with session_scope(action="backtest") as session:
            result, _ = backtest_evaluation(
                session=session,
                actor=actor,
                evaluation_id=labels[chosen],
                config=BacktestConfig(threshold_bps=threshold, cost_bps=cost, allow_short=short),
            )
    except (AnalysisError, ValueError) as error:
        st.error(str(error))
        return
    m = result.metrics
    show_table(
        pd.DataFrame([m["strategy"] | {"": "strategy"}, m["buy_and_hold"] | {"": "buy and hold"}]).set_index(""),
        column_config={
            name: st.column_config.NumberColumn(format="percent") for name in ("total_return", "cagr", "max_drawdown")
        },
    )
    st.caption(f"{m['trades']} trades over {m['days']} days, in the market {m['exposure']:.0%} of them.")
    st.plotly_chart(equity_figure(result.equity, template=template), width="stretch")


def render_risk(actor: Actor, template: str) -> None:
    with session_scope() as session:
        tickers = sorted({c.ticker for c in list_cached_tickers(session=session, actor=actor)})
    if not tickers:
        st.caption("No prices to measure yet.")
        return
    with st.form("risk"):
        chosen = st.multiselect("Portfolio", tickers, default=preferred_tickers(tickers))
        weights_text = st.text_input("Weights", help="One per ticker, in order, e.g. 0.6, 0.4; empty: equal weights")
        benchmark = st.selectbox("Beta against", ["none", *tickers])
        submitted = st.form_submit_button("Measure risk", icon=":material/shield:")
    if not submitted:
        return
    try:
        weights = [float(part) for part in weights_text.replace(" ", "").split(",") if part] or [1.0] * len(chosen)
        if len(weights) != len(chosen):
            raise AnalysisError(f"weights: {len(weights)} given for {len(chosen)} tickers")
        with session_scope(action="risk") as session:
            report, _ = portfolio_risk(
                session=session,
                actor=actor,
                weights=dict(zip(chosen, weights, strict=True)),
                benchmark=None if benchmark == "none" else benchmark,
            )
    except (AnalysisError, ValueError) as error:
        st.error(f"Weights: {error}" if "could not convert" in str(error) else str(error))
        return
    m = report.metrics
    a, b, c, d = st.columns(4)
    a.metric("Annualised volatility", f"{m['annualised_volatility']:.1%}")
    b.metric("Sharpe", f"{m['sharpe']:.2f}")
    c.metric("Max drawdown", f"{m['max_drawdown']:.1%}")
    d.metric("Beta", f"{m['beta']:.2f}" if m.get("beta") is not None else "—")
    losses = [
        {
            "level": f"{level} %",
            "historical VaR": m[f"var_historical_{level}"],
            "historical CVaR": m[f"cvar_historical_{level}"],
            "parametric VaR": m[f"var_parametric_{level}"],
            "parametric CVaR": m[f"cvar_parametric_{level}"],
        }
        for level in ("95", "99")
    ]
    percent = st.column_config.NumberColumn(format="percent")
    show_table(
        pd.DataFrame(losses), hide_index=True, column_config=dict.fromkeys(losses[0].keys() - {"level"}, percent)
    )
    st.caption(f"One-day losses from {m['days']} common trading days, {m['start']} to {m['end']}.")
    if len(report.correlation) > 1:
        st.plotly_chart(correlation_figure(report.correlation, template=template), width="stretch")
    st.plotly_chart(fan_figure(report.fan, template=template), width="stretch")


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
    st.header("Backtest")
    render_backtest(actor, template)
    st.header("Risk")
    render_risk(actor, template)


if __name__ == "__main__":
    main()
