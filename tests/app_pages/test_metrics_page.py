"""The Metrics page through AppTest: versions side by side, a walk-forward run from job to charts."""

import time

import pandas as pd
import pytest
from sqlalchemy.engine import URL
from streamlit.testing.v1 import AppTest

from common.config import get_settings
from core.data.service import load_sample
from core.forecasting.registry import save_version
from core.forecasting.zoo import label
from core.jobs import queue_training
from core.throttle import get_throttle
from db.engine import session_scope
from db.migrate import upgrade_to_head
from db.models import TrainingJob
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account
from tests.app_pages.refresh_timers import fire_timer, timed_runs
from tests.core.forecasting.tiny import tiny_config, tiny_result
from ui.text import plain
from ui.walk_forward_panel import REFRESH_SECONDS

PAGE = "app_pages/metrics.py"


@pytest.fixture
def database(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "metrics.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        load_sample(session=session, actor=None)
    return url


def test_versions_side_by_side_with_their_baselines(database):
    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="^GSPC", result=tiny_result())
        save_version(session=session, actor=actor, ticker="^GSPC", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Version"]) == [2, 1]
    assert set(table["Model"]) == {label(tiny_result().model_type)}, "named as on the Train page"
    assert table["Persistence MAE"].iloc[0] == pytest.approx(tiny_result().metrics["naive_mae"])
    baselines = tiny_result().metrics["baselines"]
    assert table["Median drift MAE"].iloc[0] == pytest.approx(baselines["median"]["mae"]), "the bar MASE must clear"
    # Fractions, shown as percentages by the column format; no R² of price levels.
    # Percent units at two decimals, as every table shows them (the metric stores MAPE in percent already).
    assert table["MAPE"].iloc[0] == pytest.approx(tiny_result().metrics["mape"])
    assert 0 <= table["Direction accuracy"].iloc[0] <= 100
    assert not {"R²", "r2", "version", "persistence MAE"} & set(table.columns)
    assert table["Trained"].dt.tz is None, "the viewer's clock, as the Train page's versions read"
    assert chart_themes(at) == [""], "drawn in the user's template, not Streamlit's theme over it"


def chart_themes(at) -> list[str]:
    """Each chart's Streamlit theme: "" when the figure's own template (the user's preference) is kept."""
    return [chart.proto.theme for chart in at.get("plotly_chart")]


def _store_version(actor, ticker: str, metrics: dict, parameters: dict | None = None) -> None:
    from db.repositories.models import activate_model_version, add_model_version

    with session_scope() as session:
        version = add_model_version(
            session=session, actor=actor, ticker=ticker, model_type="lstm", parameters=parameters or {},
            metrics=metrics, data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
        )  # fmt: skip
        activate_model_version(session=session, version=version)


def test_admins_do_not_see_other_users_models(database):
    owner = make_account(database)
    _store_version(owner, "OWNED", {"mae": 1.0, "naive_mae": 1.0, "verdict": "ties"})
    admin = make_account(database, role=Role.ADMIN)
    at = logged_in_app(PAGE, admin).run()
    assert not at.exception
    assert "No model versions yet: train one on the Train page." in [c.value for c in at.caption]
    assert not any("OWNED" in str(frame.value) for frame in at.dataframe)


def test_verdicts_come_from_the_diebold_mariano_test_not_from_a_stored_sentence(database):
    actor = make_account(database)
    _store_version(actor, "OLD", {"mae": 9.0, "naive_mae": 10.0, "verdict": "beats persistence by 10.0 % MAE"})
    tested = {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.41, "verdict": "beats persistence"}
    _store_version(actor, "NEW", tested)
    _store_version(actor, "WORSE", {"mae": 11.0, "naive_mae": 10.0, "dm_pvalue": 0.01, "verdict": "beats persistence"})
    same = {"mae": 10.0, "naive_mae": 10.0, "dm_pvalue": None, "verdict": "the same forecast as tomorrow = today"}
    _store_version(actor, "SAME", same)
    at = logged_in_app(PAGE, actor).run()
    verdicts = dict(zip(at.dataframe[0].value["Ticker"], at.dataframe[0].value["Verdict"], strict=True))
    assert verdicts["NEW"] == "no better than tomorrow = today (p = 0.41)"
    assert verdicts["WORSE"] == "worse than tomorrow = today (Diebold-Mariano p = 0.01)"
    assert verdicts["OLD"] == "not tested against persistence: retrain for a Diebold-Mariano verdict"
    assert verdicts["SAME"] == "the same forecast as tomorrow = today"


def test_the_active_version_s_maes_follow_its_verdict_without_a_second_pair_of_brackets(database):
    actor = make_account(database)
    _store_version(actor, "ACME", {"mae": 13.44, "naive_mae": 13.49, "dm_pvalue": 0.5})
    at = logged_in_app(PAGE, actor).run()
    assert (
        "Active ACME v1 · LSTM (Keras): no better than tomorrow = today (p = 0.50); MAE 13.44 against persistence 13.49"
    ) in [t.value for t in at.text]


def test_strings_and_scores_from_a_stored_file_are_shown_as_text(database):
    actor = make_account(database)
    verdict = "beats persistence [claim your prize](http://evil.example) ![x](http://evil.example/t.png)"
    _store_version(actor, "SPX", {"mae": "not-a-number", "naive_mae": 2.0, "verdict": verdict, "imported": True})
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert not any("evil.example" in m.value for m in at.markdown)
    assert any(t.value == f"Active SPX v1 · LSTM (Keras): {verdict}" for t in at.text), "named as the choosers name it"
    assert at.dataframe[0].value["MAE"].isna().all()


def test_a_walk_forward_job_ends_in_charts(database):
    actor = make_account(database)
    (job_id,) = queue_training(
        actor=actor,
        tickers=["^GSPC"],
        config=tiny_config(epochs=1),
        settings=get_settings(),
        throttle=get_throttle(),
        walkforward={"windows": 2, "step": 10, "retrain_every": 1},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope() as session:
            job = session.get(TrainingJob, job_id)
            status, message = job.status, job.message
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.3)
    assert status == "succeeded", message
    assert message.startswith("walk-forward over 20 days: ")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    overall = at.dataframe[-1].value
    assert list(overall["Forecast"]) == [
        "LSTM (Keras)",
        "persistence (tomorrow = today)",
        "drift",
        "median drift",
        "moving average (5 days)",
    ]
    assert overall["MASE"].iloc[1] == pytest.approx(1.0)
    assert [m.label for m in at.metric] == [
        "Diebold-Mariano p vs persistence",
        "Interval coverage",
        "Forecast closer to the previous close",
    ]
    assert chart_themes(at) == ["", ""]


def open_walk_forward(actor, **fields) -> str:
    """A walk-forward job of the actor's, as a worker leaves it between its updates: its id."""
    config = {"model_type": "ridge", "walkforward": {"windows": 1}}
    with session_scope() as session:
        row = TrainingJob(user_id=actor.user_id, ticker="^GSPC", kind="walkforward", config=config, **fields)
        session.add(row)
        session.flush()
        return row.id


def update_job(job_id, **fields) -> None:
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        for name, value in fields.items():
            setattr(job, name, value)


RIDGE = "walk-forward of ridge on 20 lagged returns + volatility"


def test_a_walk_forward_job_shows_its_progress_and_its_run_appears_when_it_ends(database):
    # The run finished in seconds, but the page said "No walk-forward runs yet" until it was reloaded.
    actor = make_account(database)
    job_id = open_walk_forward(actor, status="queued", progress=0.0, message="waiting for a worker")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert [(p.value, p.text) for p in at.progress] == [(0, plain(f"^GSPC · {RIDGE} · queued: waiting for a worker"))]
    assert "No walk-forward runs yet." in [c.value for c in at.caption]
    update_job(job_id, status="running", progress=0.5, message="window 1 of 2")
    at.run()
    assert [(p.value, p.text) for p in at.progress] == [(50, plain(f"^GSPC · {RIDGE} · running: window 1 of 2"))]

    stored_run(actor, model_type="ridge")
    update_job(job_id, status="succeeded", progress=1.0, message="walk-forward over 4 days")
    at.run()
    assert not at.progress, "nothing is open any more"
    assert [s.value for s in at.success] == [plain(f"^GSPC · {RIDGE} is done: its run is listed below.")]
    assert len(next(s for s in at.selectbox if s.label == "Run").options) == 1
    at.run()
    assert not at.success, "said once"


def test_a_watched_walk_forward_that_fails_says_why(database):
    actor = make_account(database)
    job_id = open_walk_forward(actor, status="running", progress=0.2, message="window 1 of 5")
    at = logged_in_app(PAGE, actor).run()
    update_job(job_id, status="failed", error="too few prices for 5 windows")
    at.run()
    assert [e.value for e in at.error] == [plain(f"^GSPC · {RIDGE} failed: too few prices for 5 windows")]
    assert not at.progress


def metrics_page() -> None:
    """The Metrics page as the browser runs it: the whole page, or the walk-forward panel alone when the test
    fires its refresh timer."""
    import streamlit as st

    from app_pages import metrics
    from tests.app_pages.refresh_timers import TIMER_FIRED_KEY
    from ui.walk_forward_panel import render_open_walk_forwards

    if st.session_state.pop(TIMER_FIRED_KEY, False):
        render_open_walk_forwards()
    else:
        metrics.main()


def metrics_app(actor) -> AppTest:
    at = AppTest.from_function(metrics_page, default_timeout=30)
    page = logged_in_app(PAGE, actor)
    for key in ("candlecast_auth", "authentication_status", "username"):
        at.session_state[key] = page.session_state[key]
    return at


def test_with_no_walk_forward_open_the_page_sets_no_refresh_timer(database, refresh_timers):
    # The panel reread every job of the user's every two seconds for as long as the page was open.
    actor = make_account(database)
    at = logged_in_app(PAGE, actor)
    assert timed_runs(at, refresh_timers) == []
    open_walk_forward(actor, status="succeeded", progress=1.0, message="walk-forward over 4 days")
    with session_scope() as session:
        session.add(TrainingJob(user_id=actor.user_id, ticker="^GSPC", status="running", config={}, progress=0.5))
    assert timed_runs(at, refresh_timers) == [], "a training job is followed on the Train page, not here"
    assert not at.progress


def test_an_open_walk_forward_refreshes_on_a_timer_until_its_run_is_listed(database, refresh_timers):
    actor = make_account(database)
    job_id = open_walk_forward(actor, status="running", progress=0.25, message="window 1 of 4")
    at = metrics_app(actor)
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    assert [p.value for p in at.progress] == [25]
    update_job(job_id, progress=0.75, message="window 3 of 4")
    fire_timer(at, refresh_timers)
    assert [(p.value, p.text) for p in at.progress] == [(75, plain(f"^GSPC · {RIDGE} · running: window 3 of 4"))]
    assert refresh_timers == [REFRESH_SECONDS], "it keeps refreshing while the run goes on"

    stored_run(actor, model_type="ridge")
    update_job(job_id, status="succeeded", progress=1.0, message="walk-forward over 4 days")
    fire_timer(at, refresh_timers)
    assert not at.exception
    assert [s.value for s in at.success] == [plain(f"^GSPC · {RIDGE} is done: its run is listed below.")]
    assert len(next(s for s in at.selectbox if s.label == "Run").options) == 1, "the whole page was reread"
    assert timed_runs(at, refresh_timers) == [], "with nothing open the page stops refreshing"


def open_walk_forwards_panel() -> None:
    """The panel's refresh alone, as it reruns every few seconds without the page's login check."""
    from ui.walk_forward_panel import render_open_walk_forwards

    render_open_walk_forwards()


def test_the_walk_forward_panel_stops_for_a_user_deactivated_while_it_refreshes(database):
    from streamlit.testing.v1 import AppTest

    from db.models import User

    actor = make_account(database)
    open_walk_forward(actor, status="running", progress=0.2, message="window 1 of 5")
    at = AppTest.from_function(open_walk_forwards_panel, default_timeout=30)
    page = logged_in_app(PAGE, actor)
    for key in ("candlecast_auth",):
        at.session_state[key] = page.session_state[key]
    at.run()
    assert len(at.progress) == 1
    with session_scope() as session:
        session.get(User, actor.user_id).is_active = False
    at.run()
    assert not at.progress
    assert [w.value for w in at.warning] == ["Your session has ended. Please log in again."]


def test_walk_forward_settings_are_checked(database):
    from core.forecasting.walkforward import WalkForwardSettings

    at = logged_in_app(PAGE, make_account(database)).run()
    assert next(n for n in at.number_input if n.label == "Windows").value == WalkForwardSettings().windows
    days_per_window = next(n for n in at.number_input if n.label == "Days per window")
    assert (days_per_window.value, days_per_window.min) == (None, 5), "empty is an even split, not a 0 to decode"
    next(n for n in at.number_input if n.label == "Windows").set_value(3)
    next(n for n in at.number_input if n.label == "Retrain every n windows").set_value(5)
    next(b for b in at.button if b.label == "Run walk-forward").click().run()
    assert at.error[0].value == plain("retrain_every: 1 to the number of windows (3), got 5")


def test_a_walk_forward_queued_with_the_form_s_defaults_splits_the_test_part_evenly(database, monkeypatch, redis_url):
    import uuid

    from tests.core.test_jobs import use_env

    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    at = logged_in_app(PAGE, make_account(database)).run()
    assert not [c.value for c in at.caption if c.value.startswith("Not possible")], "the sample holds 10 windows"
    next(b for b in at.button if b.label == "Run walk-forward").click().run()
    assert not at.error
    assert at.success[0].value == "Walk-forward queued: its progress shows below, and its results when it is done."
    assert at.progress[0].text.startswith(plain("^GSPC · walk-forward of auto ensemble · queued"))
    with session_scope() as session:
        job = session.query(TrainingJob).one()
        assert (job.kind, job.config["model_type"]) == ("walkforward", "auto")
        assert job.config["walkforward"] == {"windows": 10, "step": None, "retrain_every": 1}


def test_a_walk_forward_the_queue_could_not_take_is_reported_failed(database, monkeypatch):
    from tests.core.test_jobs import use_env

    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    at = logged_in_app(PAGE, make_account(database)).run()
    next(b for b in at.button if b.label == "Run walk-forward").click().run()
    assert not at.success
    assert at.error[0].value.startswith("^GSPC: could not queue the job: Redis unreachable")


def test_viewers_read_only(database):
    at = logged_in_app(PAGE, make_account(database, role=Role.VIEWER)).run()
    assert "Viewers can read evaluations but not run them." in [c.value for c in at.caption]
    assert "Viewers can read risk results but not measure them." in [c.value for c in at.caption]
    assert "Measure risk" not in [b.label for b in at.button], "the service would refuse it"


def stored_run(actor, model_type="auto", settings: dict | None = None, **metrics):
    from db.models import Evaluation

    days = pd.bdate_range("2018-06-01", periods=4).strftime("%Y-%m-%d").tolist()
    forecast = {
        "date": days,
        "previous_close": [100.0, 110.0, 99.0, 99.0],
        "actual": [110.0, 99.0, 99.0, 108.9],
        "predicted": [101.0, 109.0, 98.0, 100.0],
        "lower": [95.0] * 4,
        "upper": [120.0] * 4,
        "persistence": [100.0, 110.0, 99.0, 99.0],
        "drift": [100.1, 110.1, 99.1, 99.1],
        "moving_average": [100.0, 105.0, 103.0, 102.0],
    }
    scores = {
        name: {"mae": 1.0, "mase": 1.0, "direction_accuracy": 0.5}
        for name in ("predicted", "persistence", "drift", "moving_average")
    }
    window = {
        "window": 1,
        "first_day": days[0],
        "last_day": days[-1],
        "train_until": "2018-05-31",
        "scores": scores,
        "coverage": 1.0,
        "forecast": forecast,
    }
    with session_scope() as session:
        overall = {"windows": 1, "days": 4, "mae": 1.0, "mase": 1.0, "dm_pvalue": 0.5, "coverage": 1.0}
        overall |= {"verdict": "ties", "baselines": {}, "lag": {}} | metrics
        config = {"training": {"model_type": model_type} | (settings or {}), "walkforward": {"windows": 1}}
        session.add(Evaluation(user_id=actor.user_id, ticker="^GSPC", config=config, windows=[window], metrics=overall))


def test_a_walk_forward_verdict_comes_from_its_test_not_from_the_stored_sentence(database):
    # Runs stored before the test compared absolute errors carry a sentence judged on squared ones.
    actor = make_account(database)
    stored_run(actor, mae=9.0, naive_mae=10.0, dm_pvalue=0.001, days=40, verdict="worse than tomorrow = today")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert "beats persistence (Diebold-Mariano p = 0.001) over 40 out-of-sample days" in [t.value for t in at.text]


def test_a_run_of_too_few_days_stored_with_a_p_value_is_not_read_as_tested(database):
    # Runs stored before the 30-day rule carry the p of a few days, which is no test.
    actor = make_account(database)
    stored_run(actor, mae=9.0, naive_mae=10.0, dm_pvalue=0.001, verdict="beats persistence (p = 0.001)")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert "not tested: 4 of the 30 days a Diebold-Mariano test needs over 4 out-of-sample days" in texts
    assert not any("beats persistence" in text for text in texts)


def test_a_walk_forward_identical_to_persistence_shows_no_p_value(database):
    # An auto model that fell back to persistence in every window has no Diebold-Mariano statistic.
    actor = make_account(database)
    stored_run(actor, naive_mae=1.0, dm_pvalue=None, verdict="the same forecast as tomorrow = today")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert "the same forecast as tomorrow = today over 4 out-of-sample days" in [t.value for t in at.text]
    assert at.metric[0].value == "—"


def test_backtest_of_a_walk_forward_run(database):
    actor = make_account(database)
    stored_run(actor)
    at = logged_in_app(PAGE, actor).run()
    next(n for n in at.number_input if n.label == "Costs (bp per unit traded)").set_value(0.0)
    next(b for b in at.button if b.label == "Backtest").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table.loc["strategy", "Total return"] == pytest.approx((1.21 - 1) * 100)
    assert table.loc["buy and hold", "Total return"] == pytest.approx((1.089 - 1) * 100)
    assert at.caption[-1].value == plain(
        "3 trades over 4 days, in the market 50 % of them. CAGR, Sharpe and Sortino are left blank: 4 days are under "
        "a quarter of a year, too few for a rate a year."
    )
    assert chart_themes(at)[-1] == ""


def test_walk_forward_runs_are_told_apart_by_the_model_they_evaluated(database):
    actor = make_account(database)
    stored_run(actor, model_type="lstm")
    stored_run(actor, model_type="ridge")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    run_choices = next(s for s in at.selectbox if s.label == "Run").options
    backtest_choices = next(s for s in at.selectbox if s.label == "Walk-forward run").options
    in_columns = [box.label for column in at.columns for box in column.selectbox]
    assert "Walk-forward run" not in in_columns, "a row of its own: runs of one ticker differ only at the end"
    for choices in (run_choices, backtest_choices):
        assert sorted(choice.split(" · ")[1] for choice in choices) == [
            "LSTM (Keras)",
            "ridge on 20 lagged returns + volatility",
        ]
    run = next(s for s in at.selectbox if s.label == "Run")
    shown = run.format_func(run.value).split(" · ")[1]
    assert at.dataframe[-1].value["Forecast"].iloc[0] == shown, "the run's own row names its model"


def test_two_runs_made_in_one_minute_are_both_offered_and_the_newest_is_shown(database):
    # Keyed by a name to the minute, the newer run was not offered, and its name showed the older run's figures.
    from datetime import UTC, datetime

    from db.models import Evaluation

    actor = make_account(database)
    stored_run(actor, model_type="ridge", days=4, step=4)
    stored_run(actor, model_type="ridge", days=400, step=400)
    with session_scope() as session:
        for run in session.query(Evaluation):
            run.created_at = datetime(2026, 1, 5, 15, 6, 10 if run.metrics["days"] == 4 else 40, tzinfo=UTC)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    for chooser_label in ("Run", "Walk-forward run"):
        chooser = next(s for s in at.selectbox if s.label == chooser_label)
        assert chooser.options == [
            "^GSPC · ridge on 20 lagged returns + volatility · 2026-01-05 15:06 · 1 window of 400 days",
            "^GSPC · ridge on 20 lagged returns + volatility · 2026-01-05 15:06 · 1 window of 4 days",
        ]
    assert any(t.value.endswith(" over 400 out-of-sample days") for t in at.text), "the newest run's own figures"
    next(s for s in at.selectbox if s.label == "Run").select_index(1).run()
    assert any(t.value.endswith(" over 4 out-of-sample days") for t in at.text)


def test_the_active_version_is_read_beside_the_latest_walk_forward_of_its_type_and_settings(database):
    actor = make_account(database)
    _store_version(actor, "^GSPC", {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.04})
    at = logged_in_app(PAGE, actor).run()
    assert (
        "No walk-forward of LSTM (Keras) on ^GSPC with this version's settings yet. The version's verdict comes "
        "from one test split; a walk-forward retrains at many origins, the figure to trust."
    ) in [c.value for c in at.caption]
    stored_run(actor, model_type="ridge", mae=0.5, naive_mae=1.0, dm_pvalue=0.001, days=40)
    stored_run(actor, model_type="lstm", mae=1.0, naive_mae=1.0, mase=1.0001, dm_pvalue=0.53, days=40)
    at.run()
    [walk_forward] = [t.value for t in at.text if t.value.startswith("Walk-forward")]
    assert walk_forward.startswith("Walk-forward of LSTM (Keras) on ^GSPC, run ")
    assert walk_forward.endswith(
        ", 1 window: no better than tomorrow = today (p = 0.53) over 40 out-of-sample days, MASE 1.0001"
    ), "the latest run of the active version's type, not the other type's"


WITH_ITS_SETTINGS = "Run a walk-forward with this version's settings"


def test_a_walk_forward_of_other_settings_is_not_shown_as_the_versions(database, monkeypatch, redis_url):
    # A version with 60-day windows was read beside the newest LSTM run, of 20-day windows, as if it tested it.
    import uuid

    from tests.core.test_jobs import use_env

    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    actor = make_account(database)
    settings = {"model_type": "lstm", "window": 60, "epochs": 5}
    _store_version(actor, "^GSPC", {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.04}, parameters=settings)
    stored_run(actor, model_type="lstm", mae=1.0, naive_mae=1.0, mase=0.9, dm_pvalue=0.01)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert not [t.value for t in at.text if t.value.startswith("Walk-forward")], "another setting's figures"
    assert plain(
        "1 walk-forward run of LSTM (Keras) on ^GSPC used other settings than this version (the newest differs "
        "in window and epochs), so none is shown as its test. The version's verdict comes from one test split; "
        "a walk-forward retrains at many origins, the figure to trust."
    ) in [c.value for c in at.caption]

    next(b for b in at.button if b.label == WITH_ITS_SETTINGS).click().run()
    assert not at.exception
    assert at.success[0].value == "Walk-forward queued: its progress shows below, and its results when it is done."
    assert at.progress[0].text.startswith(plain("^GSPC · walk-forward of LSTM (Keras) · queued"))
    with session_scope() as session:
        job = session.query(TrainingJob).one()
        assert (job.kind, job.config["window"], job.config["epochs"]) == ("walkforward", 60, 5)
        assert job.config["walkforward"] == {"windows": 10, "step": None, "retrain_every": 1}

    stored_run(actor, model_type="lstm", settings=settings, mase=1.0001, dm_pvalue=0.53)
    at.run()
    [walk_forward] = [t.value for t in at.text if t.value.startswith("Walk-forward")]
    assert walk_forward.endswith("MASE 1.0001"), "the run of its own settings, though an older one is better"
    assert WITH_ITS_SETTINGS not in [b.label for b in at.button]


def test_viewers_are_told_of_runs_of_other_settings_without_a_button(database):
    viewer = make_account(database, role=Role.VIEWER)
    _store_version(viewer, "^GSPC", {"mae": 9.0, "naive_mae": 10.0}, parameters={"model_type": "lstm", "window": 60})
    stored_run(viewer, model_type="lstm")
    stored_run(viewer, model_type="lstm", settings={"window": 30})
    at = logged_in_app(PAGE, viewer).run()
    assert not at.exception
    assert any(c.value.startswith(plain("2 walk-forward runs of LSTM (Keras) on ^GSPC used other")) for c in at.caption)
    assert WITH_ITS_SETTINGS not in [b.label for b in at.button]


def test_risk_of_a_portfolio(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    next(b for b in at.button if b.label == "Measure risk").click().run()
    assert not at.exception
    assert [m.label for m in at.metric][-4:] == [
        "Annualised volatility",
        "Sharpe (risk-free rate 0)",
        "Max drawdown",
        "Beta",
    ]
    assert at.metric[-3].value != "—", "twenty years of returns have a Sharpe ratio"
    assert at.metric[-1].value == "—", "no benchmark chosen, no beta"
    losses = at.dataframe[-1].value
    assert list(losses["Level"]) == ["95 %", "99 %"]
    assert (losses["Historical CVaR"] >= losses["Historical VaR"]).all()
    assert at.caption[-1].value.startswith(
        "5,030 one-day returns over the 5,031 trading days the portfolio's tickers share, 1999-01-04 to 2018-12-31"
    )
    assert set(chart_themes(at)) == {""}


def test_a_risk_over_less_than_a_quarter_of_a_year_leaves_sharpe_blank_and_says_why(database):
    # 29 returns showed a Sharpe of -0.40 where a backtest over as few days shows none.
    from core.data.frames import normalise_provider_frame
    from db.repositories.prices import upsert_prices
    from tests.fixtures import gspc_2018_frame

    with session_scope() as session:
        short = normalise_provider_frame(gspc_2018_frame()).frame.iloc[:30]
        upsert_prices(session=session, frame=short, ticker="SHORT", owner_id=None, source="yahoo")
    at = logged_in_app(PAGE, make_account(database)).run()
    next(m for m in at.multiselect if m.label == "Portfolio").set_value(["SHORT"])
    next(b for b in at.button if b.label == "Measure risk").click().run()
    assert not at.exception
    sharpe = next(m for m in at.metric if m.label == "Sharpe (risk-free rate 0)")
    assert sharpe.value == "—"
    why = "Sharpe is left blank: 2018-01-02 to 2018-02-13 is under a quarter of a year, too short for a rate a year."
    assert sharpe.proto.help == plain(why), "said on the card"
    assert at.caption[-1].value.endswith(plain(why))


def test_weights_must_match_the_tickers(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    next(t for t in at.text_input if t.label == "Weights").input("0.5, 0.5")
    next(b for b in at.button if b.label == "Measure risk").click().run()
    assert at.error[0].value == "weights: 2 given for 1 tickers"


@pytest.mark.parametrize("weight", ["nan", "inf", "1e309", "-1", "abc"])
def test_weights_that_are_not_finite_numbers_get_a_message_and_nothing_is_stored(database, weight):
    from db.models import RiskMetrics

    at = logged_in_app(PAGE, make_account(database)).run()
    next(t for t in at.text_input if t.label == "Weights").input(weight)
    next(b for b in at.button if b.label == "Measure risk").click().run()
    assert not at.exception
    assert at.error[0].value == f"weights: weight 1 (^GSPC) is {weight!r}; give a finite number, 0 or more"
    with session_scope() as session:
        assert session.query(RiskMetrics).count() == 0


def test_the_latest_leaderboard_is_shown_with_human_names(database):
    from db.models import Evaluation

    actor = make_account(database)
    models = [
        {"kind": "ridge", "validation_mase": 0.99, "test_mase": 0.998, "dm_pvalue": 0.4, "direction_accuracy": 0.51,
         "coverage": 0.94, "train_seconds": 0.5, "verdict": "no better than tomorrow = today (p = 0.40)"},
        {"kind": "persistence", "validation_mase": 1.0, "test_mase": 1.0, "dm_pvalue": None, "direction_accuracy": None,
         "coverage": 0.95, "train_seconds": 0.0, "verdict": "the same forecast as tomorrow = today"},
    ]  # fmt: skip
    with session_scope() as session:
        session.add(Evaluation(user_id=actor.user_id, ticker="^GSPC", kind="leaderboard", metrics={"models": models}))
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    board = next(frame.value for frame in at.dataframe if "Validation MASE" in frame.value.columns)
    assert list(board["Model"]) == ["ridge on 20 lagged returns + volatility", "persistence (tomorrow = today)"]
    assert "No walk-forward runs yet." in [c.value for c in at.caption]


def test_a_walk_forward_the_prices_cannot_hold_is_offered_disabled_with_the_reason(database):
    actor = make_account(database)
    _store_version(actor, "NOPRICES", {"mae": 9.0, "naive_mae": 10.0}, parameters={"model_type": "lstm"})
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    [button] = [b for b in at.button if b.label == WITH_ITS_SETTINGS]
    assert button.disabled, "every click would be refused"
    assert "Not possible here: no prices of NOPRICES to run it on." in [c.value for c in at.caption]


@pytest.mark.parametrize(
    ("p_value", "shown", "said"),
    [
        (0.0496, "0.0496", "beats persistence (Diebold-Mariano p = 0.0496)"),
        (0.04996, "0.04996", "beats persistence (Diebold-Mariano p = 0.04996)"),
        (0.0004, "< 0.001", "beats persistence (Diebold-Mariano p < 0.001)"),
    ],
)
def test_a_walk_forward_p_value_reads_as_its_verdict_prints_it(database, p_value, shown, said):
    # Rounded to three decimals, p = 0.0496 showed 0.050 beside "beats persistence (p = 0.0496)", 0.0004 0.000.
    actor = make_account(database)
    stored_run(actor, mae=0.9, naive_mae=1.0, dm_pvalue=p_value, days=60)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert f"{said} over 60 out-of-sample days" in [t.value for t in at.text]
    assert at.metric[0].value == shown


def test_the_versions_table_prints_each_p_value_as_its_verdict_does(database):
    actor = make_account(database)
    _store_version(actor, "EDGE", {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.04996, "direction_p_value": 0.0004})
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    row = at.dataframe[0].value.iloc[0]
    assert row["Verdict"] == "beats persistence (Diebold-Mariano p = 0.04996)"
    assert (row["DM p-value"], row["Direction p-value"]) == ("0.04996", "< 0.001")


def test_a_walk_forward_too_short_to_test_shows_no_p_value_and_says_why(database):
    actor = make_account(database)
    said = "not tested: 5 of the 30 days a Diebold-Mariano test needs"
    stored_run(actor, mae=0.5, naive_mae=1.0, dm_pvalue=None, days=5, verdict=said)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert f"{said} over 5 out-of-sample days" in [t.value for t in at.text]
    assert at.metric[0].value == "—"


def test_coverage_reads_alike_in_the_run_and_the_versions_table(database):
    actor = make_account(database)
    stored_run(actor, coverage=0.88333)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Interval coverage").value == "88.33 %"


def test_an_unbounded_interval_shows_no_coverage_and_says_why(database):
    # Too few validation days for a 95 % interval: it is infinite, and every day inside it read as 100 % coverage.
    actor = make_account(database)
    unbounded = {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.4, "interval_scale": None, "test_coverage": None}
    _store_version(actor, "WIDE", unbounded)
    stored_run(actor, coverage=None)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert pd.isna(at.dataframe[0].value["Interval coverage"].iloc[0])
    note = plain("the interval is unbounded, and coverage would say nothing")
    notes = [c.value for c in at.caption if note in c.value]
    assert len(notes) == 2, "under the versions table and under the run"
    assert notes[0].startswith(plain("Interval coverage is blank for WIDE v1 · LSTM (Keras): too few validation days"))
    assert next(m for m in at.metric if m.label == "Interval coverage").value == "—"


def test_a_backtest_names_the_rate_it_annualised_by_or_why_it_did_not(database):
    actor = make_account(database)
    stored_run(actor)
    at = logged_in_app(PAGE, actor).run()
    next(b for b in at.button if b.label == "Backtest").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(table.columns) == [
        "Total return",
        "CAGR",
        "Sharpe (risk-free rate 0)",
        "Sortino (target return 0)",
        "Max drawdown",
    ], "Sharpe and Sortino say what they measure returns against"
    assert table.iloc[:, 1:4].isna().all().all(), "four days are too few for a rate a year"
    said = "CAGR, Sharpe and Sortino are left blank: 4 days are under a quarter of a year"
    assert plain(said) in at.caption[-1].value


def test_a_backtest_over_more_than_a_quarter_of_a_year_names_its_rate(database):
    actor = make_account(database)
    stored_run(actor, days=100)
    with session_scope() as session:
        from db.models import Evaluation

        run = session.query(Evaluation).one()
        days = pd.bdate_range("2018-06-01", periods=100).strftime("%Y-%m-%d").tolist()
        closes = [100.0 * 1.001**i * (1.01 if i % 3 else 0.99) for i in range(101)]
        forecast = {"date": days, "previous_close": closes[:-1], "actual": closes[1:], "predicted": closes[1:]}
        forecast |= {"lower": closes[:-1], "upper": closes[1:], "persistence": closes[:-1]}
        forecast |= {"drift": closes[:-1], "moving_average": closes[:-1]}
        run.windows = [run.windows[0] | {"forecast": forecast}]
    at = logged_in_app(PAGE, actor).run()
    next(b for b in at.button if b.label == "Backtest").click().run()
    assert not at.exception
    # 100 returns from the close of 2018-05-31 (the day the run trained until) to that of the last day.
    per_year = 100 / ((pd.Timestamp(days[-1]) - pd.Timestamp("2018-05-31")).days / 365.25)
    said = f"CAGR, Sharpe and Sortino are annualised by {per_year:.1f} returns a year."
    assert at.caption[-1].value.endswith(plain(said))


def test_counts_and_run_times_read_as_on_every_other_page(database):
    # The walk-forward line said "1005 out-of-sample days" beside a backtest's "1,005 days", and runs were named
    # to the second where jobs and versions are named to the minute.
    from datetime import UTC, datetime

    from db.models import Evaluation

    actor = make_account(database)
    _store_version(actor, "^GSPC", {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.04})
    stored_run(actor, model_type="lstm", mae=1.0, naive_mae=1.0, dm_pvalue=0.53, days=1005)
    with session_scope() as session:
        for run in session.query(Evaluation):
            run.created_at = datetime(2026, 12, 7, 17, 38, 44, tzinfo=UTC)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    texts = [t.value for t in at.text]
    assert any(t.startswith("Walk-forward of LSTM") and " over 1,005 out-of-sample days" in t for t in texts)
    assert "no better than tomorrow = today (p = 0.53) over 1,005 out-of-sample days" in texts
    assert next(s for s in at.selectbox if s.label == "Run").options == [
        "^GSPC · LSTM (Keras) · 2026-12-07 17:38 · 1 window"
    ]


def test_runs_named_alike_to_the_minute_are_told_apart_by_their_second(database):
    from datetime import UTC, datetime

    from db.models import Evaluation

    actor = make_account(database)
    stored_run(actor, model_type="ridge")
    stored_run(actor, model_type="ridge", mae=2.0)
    with session_scope() as session:
        for run in session.query(Evaluation):
            run.created_at = datetime(2026, 1, 5, 15, 6, 40 if run.metrics["mae"] == 2.0 else 10, tzinfo=UTC)
    at = logged_in_app(PAGE, actor).run()
    assert next(s for s in at.selectbox if s.label == "Run").options == [
        "^GSPC · ridge on 20 lagged returns + volatility · 2026-01-05 15:06:40 · 1 window",
        "^GSPC · ridge on 20 lagged returns + volatility · 2026-01-05 15:06:10 · 1 window",
    ]


def test_the_history_chart_waits_for_a_second_version(database):
    # One version drew a lone dot on an axis of 0 to 2, which read as an empty chart.
    actor = make_account(database)
    _store_version(actor, "^GSPC", {"mae": 9.0, "naive_mae": 10.0, "mase": 0.9})
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert "History of" not in [r.label for r in at.radio]
    assert len(at.get("plotly_chart")) == 0
    assert "The history of MASE, MAE and direction accuracy is drawn from the second version on." in [
        c.value for c in at.caption
    ]
    _store_version(actor, "^GSPC", {"mae": 8.0, "naive_mae": 10.0, "mase": 0.8})
    at.run()
    assert "History of" in [r.label for r in at.radio]
    assert len(at.get("plotly_chart")) == 1


def test_the_walk_forward_form_says_beside_it_when_its_settings_must_be_refused(database):
    # The version's button said "too little history for 10 windows" while the form beside it offered the same
    # ticker and 10 windows, enabled, for a click that could only fail.
    from core.data.frames import normalise_provider_frame
    from db.repositories.prices import upsert_prices
    from tests.fixtures import gspc_2018_frame

    actor = make_account(database)
    frame = normalise_provider_frame(gspc_2018_frame()).frame
    with session_scope() as session:
        upsert_prices(session=session, frame=frame, ticker="ACME", owner_id=actor.user_id, source="upload")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert next(s for s in at.selectbox if s.label == "Ticker").value == "ACME"
    refused = [c.value for c in at.caption if c.value.startswith(plain("Not possible with these settings:"))]
    assert len(refused) == 1
    assert plain("too little history for 10 windows") in refused[0]
    assert plain(f"ACME has {len(frame):,}") in refused[0]


def test_the_reading_guide_states_the_rules_the_verdicts_follow(database):
    from core.forecasting.history import MIN_TEST_DAYS, SIGNIFICANCE

    at = logged_in_app(PAGE, make_account(database)).run()
    assert [e.label for e in at.expander] == ["How to read these figures"]
    guide = " ".join(m.value for m in at.expander[0].markdown)
    assert f"p is below {SIGNIFICANCE:.2f}" in guide
    assert f"fewer than {MIN_TEST_DAYS} test days" in guide
    assert "*beats persistence*" in guide, "in the words the verdicts print"


def test_the_history_chart_draws_the_tickers_trained_last_and_any_chosen(database):
    # Every version's ticker was a line of its own: 300 tickers cost over a second a run and drew no readable chart.
    from ui.versions_panel import HISTORY_TICKERS

    actor = make_account(database)
    tickers = [f"T{number:02d}" for number in range(HISTORY_TICKERS + 3)]
    for ticker in tickers:  # trained in this order: the last ones are the newest
        _store_version(actor, ticker, {"mae": 1.0, "naive_mae": 1.0, "mase": 1.0, "verdict": "ties"})
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    drawn = [trace["name"] for trace in figure_of(at, "History")["data"]]
    assert sorted(drawn) == tickers[-HISTORY_TICKERS:]
    assert any(f"the {HISTORY_TICKERS} tickers trained last" in caption.value for caption in at.caption)
    next(m for m in at.multiselect if m.label == "History of tickers").set_value(["T00"]).run()
    assert [trace["name"] for trace in figure_of(at, "History")["data"]] == ["T00"]


def figure_of(at, axis_title_start: str) -> dict:
    """The chart whose y axis title starts so (the history's is the metric: MASE)."""
    import json

    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return next(f for f in figures if f["layout"].get("xaxis", {}).get("title", {}).get("text") == "version")
