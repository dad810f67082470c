"""Metrics: do the models beat tomorrow = today? Versions side by side, their history, and walk-forward runs."""

import uuid

import pandas as pd
import streamlit as st

from common.words import plural
from core.auth import Actor, Permission, can
from core.forecasting.config import MODEL_TYPES, WALK_FORWARD_WINDOWS
from core.forecasting.evaluation import MASE_SPEC, figure, stored_number, stored_verdict
from core.forecasting.history import p_value_figure
from core.forecasting.intervals import UNBOUNDED_COVERAGE
from core.forecasting.zoo import KINDS, configured_kind, job_name, label, version_name
from core.jobs import FINISHED
from core.services import analysis, models
from db.models import Evaluation
from ui.auth import SESSION_ENDED, require_login, signed_in_actor
from ui.charts import (
    correlation_figure,
    equity_figure,
    fan_figure,
    metric_history_figure,
    residual_figure,
    window_scores_figure,
)
from ui.errors import attempt
from ui.format import MASE_FORMAT, count, local_moment, minute, percent, percent_points
from ui.leaderboard import show_leaderboard
from ui.notices import kept
from ui.pickers import preferred_tickers, ticker_picker
from ui.tables import show_table
from ui.text import plain

REFRESH_SECONDS = 2
OPEN_WALK_FORWARDS_KEY = "metrics_open_walk_forwards"  # walk-forward jobs this session last saw queued or running
ENDED_WALK_FORWARDS_KEY = "metrics_ended_walk_forwards"  # what they ended with, for the page run they start

PERFORMANCE_NAMES = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "max_drawdown": "Max drawdown",
}


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
    return pd.DataFrame(rows)


def render_versions(actor: Actor, view: analysis.MetricsView) -> None:
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
    unbounded = [
        version_name(v.ticker, v.version, v.model_type)
        for v in versions
        if isinstance(v.metrics, dict)
        and "interval_scale" in v.metrics
        and stored_number(v.metrics["interval_scale"]) is None
    ]
    if unbounded:
        st.caption(plain(f"Interval coverage is blank for {', '.join(unbounded)}: {UNBOUNDED_COVERAGE}."))
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
    metric = st.radio("History of", ["MASE", "MAE", "Direction accuracy"], horizontal=True)
    history = table.rename(columns={"Ticker": "ticker", "Version": "version", "Trained": "trained"}).assign(
        name=[version_name(v.ticker, v.version, v.model_type) for v in versions]
    )
    st.plotly_chart(metric_history_figure(history, metric, template=template), width="stretch", theme=None)


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


def render_walkforward_form(actor: Actor, tickers: list[str]) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can read evaluations but not run them.")
        return
    if not tickers:
        st.caption("No prices to evaluate on yet.")
        return
    with st.form("walkforward"):
        ticker_column, model_column, windows_column, step_column, retrain_column = st.columns(5)
        ticker = ticker_picker(tickers, container=ticker_column)
        model_type = model_column.selectbox("Model", MODEL_TYPES, format_func=label, help="auto: the ensemble")
        windows = windows_column.number_input(
            "Windows", 1, 50, WALK_FORWARD_WINDOWS, help="Rolling origins over the last part of the history"
        )
        step = step_column.number_input(
            "Days per window", 5, 1000, value=None, placeholder="even split",
            help="Empty: the last 20 % of the history split evenly between the windows",
        )  # fmt: skip
        retrain = retrain_column.number_input("Retrain every n windows", 1, 50, 1)
        submitted = st.form_submit_button("Run walk-forward", icon=":material/timeline:")
    settings = {"model_type": model_type, "windows": windows, "step": step, "retrain_every": retrain}
    if not submitted:
        # The form's settings as they stand (its defaults at first): a run the queue must refuse is said so
        # beside the form before anyone clicks, as the version's own button is offered disabled with its reason.
        refusal = attempt(analysis.walk_forward_refusal, actor, ticker=ticker, **settings)
        if refusal:
            st.caption(plain(f"Not possible with these settings: {refusal}."))
    else:
        report_queued(attempt(analysis.submit_walk_forward, actor, ticker=ticker, **settings))


def report_queued(job) -> None:
    """A submitted walk-forward: followed from now on, or why the queue could not take it."""
    if job and job.status == "failed":  # the queue could not take it
        st.error(plain(f"{job.ticker}: {job.error}"))
    elif job:
        # Watched from now on, so a run that ends before the panel's first look still reruns the page.
        st.session_state[OPEN_WALK_FORWARDS_KEY] = st.session_state.get(OPEN_WALK_FORWARDS_KEY, set()) | {str(job.id)}
        st.success("Walk-forward queued: its progress shows below, and its results when it is done.")


def show_ended_walk_forwards() -> None:
    """What the walk-forward jobs that ended since the last page run came to, said once."""
    for name, status, error in kept(ENDED_WALK_FORWARDS_KEY) or []:
        if status == "succeeded":
            st.success(plain(f"{name} is done: its run is listed below."), icon=":material/check_circle:")
        elif status == "failed":
            st.error(plain(f"{name} failed: {error or 'no reason given'}"), icon=":material/error:")
        else:
            st.info(plain(f"{name} was cancelled."))


def walk_forward_name(job) -> str:
    return f"{job.ticker} · {job_name(job.kind, job.config)}"


def render_walk_forward_progress(actor: Actor) -> None:
    """The session's queued and running walk-forward jobs, refreshed on a timer only while there are any.

    The panel reread every job of the user's every two seconds for as long as the page stayed open,
    with nothing that could change; a full page run clears the browser's timers, so none is left.
    """
    walk_forwards = followed_walk_forwards(actor)
    if walk_forwards is not None and any(job.status not in FINISHED for job in walk_forwards):
        render_open_walk_forwards()


@st.fragment(run_every=REFRESH_SECONDS)
def render_open_walk_forwards() -> None:
    """The session's queued and running walk-forward jobs with their progress; the whole page reruns when
    one of them ends, so its run is listed below."""
    # Reruns alone every few seconds: the session may since have ended, or the user been deactivated.
    actor = signed_in_actor()
    if actor is None:
        st.warning(plain(SESSION_ENDED))
        return
    for job in followed_walk_forwards(actor) or []:
        if job.status not in FINISHED:
            note = job.message or job.status
            st.progress(
                float(job.progress or 0.0),
                text=plain(f"{walk_forward_name(job)} · {job.status}: {note}"),
            )


def followed_walk_forwards(actor: Actor) -> list | None:
    """The actor's walk-forward jobs, after rerunning the page if one it last saw open is open no longer:
    the run it made is then listed, what it ended with said, and the refresh timer gone with the last one."""
    jobs = attempt(models.list_jobs, actor)
    if jobs is None:
        return None
    walk_forwards = [job for job in jobs if job.kind == "walkforward"]
    watched = st.session_state.get(OPEN_WALK_FORWARDS_KEY, set())
    open_now = {str(job.id) for job in walk_forwards if job.status not in FINISHED}
    st.session_state[OPEN_WALK_FORWARDS_KEY] = open_now
    if watched - open_now:
        ended = [job for job in walk_forwards if job.status in FINISHED and str(job.id) in watched]
        st.session_state[ENDED_WALK_FORWARDS_KEY] = [(walk_forward_name(job), job.status, job.error) for job in ended]
        st.rerun(scope="app")
    return walk_forwards


def evaluated_model(evaluation: Evaluation) -> str:
    return label(configured_kind(evaluation.config))


def run_name(evaluation: Evaluation, *, seconds: bool = False) -> str:
    """A walk-forward run as both choosers name it: "SPX · LSTM (Keras) · 2026-12-06 15:06 · 5 windows of 30 days".

    To the minute, as jobs and versions are named; the days per window (what two runs were often made to
    compare) and, for runs made in the same minute, the second tell them apart to a reader.
    """
    metrics = evaluation.metrics
    windows = plural(metrics.get("windows") or 0, "window")
    if isinstance(metrics.get("step"), int):  # runs stored before the step was kept have none
        windows += f" of {plural(metrics['step'], 'day')}"
    made = f"{local_moment(evaluation.created_at):%Y-%m-%d %H:%M:%S}" if seconds else minute(evaluation.created_at)
    return f"{evaluation.ticker} · {evaluated_model(evaluation)} · {made} · {windows}"


def run_chooser(label: str, evaluations: list[Evaluation]) -> uuid.UUID:
    """The chosen run's id; named by run_name, but told apart by id, as two runs may still share a name."""
    names = {e.id: run_name(e) for e in evaluations}
    shared = {name for name in names.values() if list(names.values()).count(name) > 1}
    names = {e.id: run_name(e, seconds=True) if names[e.id] in shared else names[e.id] for e in evaluations}
    return st.selectbox(label, list(names), format_func=names.__getitem__)


def render_evaluations(actor: Actor, evaluations: list[Evaluation], template: str) -> None:
    if not evaluations:
        st.caption("No walk-forward runs yet.")
        return
    # The list comes without the runs' per-day forecasts; the chosen run is read whole.
    evaluation = attempt(analysis.evaluation, actor, run_chooser("Run", evaluations))
    if evaluation is None:
        return
    model = evaluated_model(evaluation)
    m = evaluation.metrics
    baselines = m.get("baselines", {})
    st.text(f"{stored_verdict(m)} over {count(m.get('days'))} out-of-sample days")
    overall = pd.DataFrame(
        [
            {
                "Forecast": model,
                "MAE": m.get("mae"),
                "MASE": m.get("mase"),
                "Direction accuracy": m.get("direction_accuracy"),
            },
            *(
                {
                    "Forecast": label(name) if name in KINDS else name.replace("_", " "),
                    "MAE": s.get("mae"),
                    "MASE": s.get("mase"),
                    "Direction accuracy": s.get("direction_accuracy"),
                }
                for name, s in baselines.items()
            ),
        ]
    )
    shown, percents = percent_points(overall, ("Direction accuracy",))
    show_table(
        shown,
        hide_index=True,
        column_config=percents
        | {
            "MAE": st.column_config.NumberColumn(format="%,.2f"),
            "MASE": st.column_config.NumberColumn(format=MASE_FORMAT),
        },
    )
    lag = m.get("lag", {})
    a, b, c = st.columns(3)
    a.metric("Diebold-Mariano p vs persistence", p_value_figure(m.get("dm_pvalue")))
    b.metric("Interval coverage", percent(stored_number(m.get("coverage"))) or "—")
    c.metric("Forecast closer to the previous close", "yes" if lag.get("follows_previous_close") else "no")
    if stored_number(m.get("coverage")) is None:
        st.caption(plain(f"No interval coverage: {UNBOUNDED_COVERAGE}."))
    if lag.get("follows_previous_close"):
        st.caption(
            f"The forecasts sit {lag['mae_to_previous_close']:.2f} from the previous close on average and "
            f"{lag['mae_to_actual']:.2f} from the close they forecast: they mostly repeat the last price."
        )
    windows = evaluation.windows
    st.plotly_chart(window_scores_figure(windows, model=model, template=template), width="stretch", theme=None)
    forecast = pd.concat([pd.DataFrame(w["forecast"]) for w in windows], ignore_index=True)
    st.plotly_chart(residual_figure(forecast, model=model, template=template), width="stretch", theme=None)


def render_backtest(actor: Actor, evaluations: list[Evaluation], template: str) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can read backtests but not run them.")
        return
    if not evaluations:
        st.caption("Backtests trade a walk-forward run's out-of-sample forecasts: run one above first.")
        return
    with st.form("backtest"):
        # A row of its own: a run's name is long, and runs of one ticker differ only at its end.
        chosen = run_chooser("Walk-forward run", evaluations)
        threshold_column, cost_column, short_column = st.columns(3)
        threshold = threshold_column.number_input(
            "Threshold (bp)", 0.0, 500.0, 0.0, help="Act only on larger predicted moves"
        )
        cost = cost_column.number_input("Costs (bp per trade)", 0.0, 100.0, 5.0)
        short = short_column.checkbox("Allow short positions")
        submitted = st.form_submit_button("Backtest", icon=":material/trending_up:")
    done = submitted and attempt(
        analysis.backtest,
        actor,
        evaluation_id=chosen,
        threshold_bps=threshold,
        cost_bps=cost,
        allow_short=short,
    )
    if not done:
        return
    result, _ = done
    m = result.metrics
    performance = (
        pd.DataFrame([m["strategy"] | {"": "strategy"}, m["buy_and_hold"] | {"": "buy and hold"}])
        .set_index("")
        .rename(columns=PERFORMANCE_NAMES)
    )
    shown, percents = percent_points(performance, ("Total return", "CAGR", "Max drawdown"))
    show_table(
        shown,
        column_config=percents | {name: st.column_config.NumberColumn(format="%.2f") for name in ("Sharpe", "Sortino")},
    )
    st.caption(
        plain(
            f"{plural(m['trades'], 'trade')} over {plural(m['days'], 'day')}, "
            f"in the market {m['exposure'] * 100:.0f} % of them. {annualised_by(m)}"
        )
    )
    st.plotly_chart(equity_figure(result.equity, template=template), width="stretch", theme=None)


def annualised_by(metrics: dict) -> str:
    """The rate a year a backtest's CAGR, Sharpe and Sortino scale by, or why they are blank."""
    rate = stored_number(metrics.get("days_a_year"))
    if rate is not None:
        return f"CAGR, Sharpe and Sortino are annualised by {rate:g} returns a year."
    days = metrics["days"]
    return (
        f"CAGR, Sharpe and Sortino are left blank: {plural(days, 'day')} {'is' if days == 1 else 'are'} under a "
        "quarter of a year, too few for a rate a year."
    )


def render_risk(actor: Actor, tickers: list[str], template: str) -> None:
    if not can(actor, Permission.TRAIN):
        st.caption("Viewers can read risk results but not measure them.")
        return
    if not tickers:
        st.caption("No prices to measure yet.")
        return
    with st.form("risk"):
        chosen = st.multiselect("Portfolio", tickers, default=preferred_tickers(tickers))
        weights_text = st.text_input("Weights", help="One per ticker, in order, e.g. 0.6, 0.4; empty: equal weights")
        benchmark = st.selectbox("Beta against", ["none", *tickers])
        submitted = st.form_submit_button("Measure risk", icon=":material/shield:")
    done = submitted and attempt(
        analysis.risk,
        actor,
        tickers=chosen,
        weights_text=weights_text,
        benchmark=None if benchmark == "none" else benchmark,
    )
    if not done:
        return
    report, _ = done
    m = report.metrics
    a, b, c, d = st.columns(4)
    a.metric("Annualised volatility", figure(m.get("annualised_volatility"), ".1%"))
    b.metric("Sharpe", figure(m.get("sharpe"), ".2f"))  # none for a portfolio that never moved
    c.metric("Max drawdown", figure(m.get("max_drawdown"), ".1%"))
    d.metric("Beta", figure(m.get("beta"), ".2f"))
    losses = [
        {
            "Level": f"{level} %",
            "Historical VaR": m[f"var_historical_{level}"],
            "Historical CVaR": m[f"cvar_historical_{level}"],
            "Parametric VaR": m[f"var_parametric_{level}"],
            "Parametric CVaR": m[f"cvar_parametric_{level}"],
        }
        for level in ("95", "99")
    ]
    shown, percents = percent_points(pd.DataFrame(losses), [name for name in losses[0] if name != "Level"])
    show_table(shown, hide_index=True, column_config=percents)
    beta_days = ""
    if "beta_days" in m:
        beta_days = f" Beta over the {plural(m['beta_days'], 'day')} shared with {m['benchmark']}."
    st.caption(
        plain(
            f"{plural(m['days'], 'one-day return')} over the {plural(m['days'] + 1, 'trading day')} the portfolio's "
            f"tickers share, {m['start']} to {m['end']}, annualised by {m['days_a_year']} days a year.{beta_days}"
        )
    )
    if len(report.correlation) > 1:
        st.plotly_chart(correlation_figure(report.correlation, template=template), width="stretch", theme=None)
    st.plotly_chart(fan_figure(report.fan, template=template), width="stretch", theme=None)


def main() -> None:
    actor = require_login()
    st.title("Metrics")
    view = attempt(analysis.metrics_view, actor)
    if view is None:
        return
    template = view.chart_template
    st.header("Model versions")
    render_versions(actor, view)
    st.header("Leaderboard")
    show_leaderboard(view.leaderboard)
    st.header("Walk-forward evaluation")
    render_walkforward_form(actor, view.tickers)
    show_ended_walk_forwards()
    render_walk_forward_progress(actor)
    render_evaluations(actor, view.evaluations, template)
    st.header("Backtest")
    render_backtest(actor, view.evaluations, template)
    st.header("Risk")
    render_risk(actor, view.tickers, template)


if __name__ == "__main__":
    main()
