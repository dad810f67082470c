"""The Train page through AppTest: presets, queueing, the live jobs panel, versions with their verdict, import."""

import json
import time
import uuid

import pandas as pd
import pytest
from rq import SimpleWorker
from streamlit.testing.v1 import AppTest

from core.data.service import import_prices
from core.forecasting.config import TrainingConfig
from core.forecasting.registry import save_version
from core.forecasting.training import train_model
from core.redis_client import require_redis
from db.engine import session_scope
from db.models import TrainingJob, User
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account
from tests.app_pages.refresh_timers import fire_timer, timed_runs
from tests.core.forecasting.tiny import fixture_prices, tiny_result
from tests.core.test_jobs import use_env
from tests.fixtures import gspc_2018_bytes
from ui.leaderboard import ensemble_mix
from ui.text import plain
from ui.training_jobs import FINISHED_JOBS_WITH_CHARTS, REFRESH_SECONDS

PAGE = "app_pages/train.py"


@pytest.fixture
def database(spx_database):
    return spx_database


def choose_model_type(at, kind: str):
    next(s for s in at.selectbox if s.label == "Model type").set_value(kind).run()
    return at


def test_auto_is_the_default_type_and_network_settings_show_only_for_networks(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    model_type = next(s for s in at.selectbox if s.label == "Model type")
    assert model_type.value == "auto"
    assert [model_type.format_func(kind) for kind in ("auto", "lstm", "ridge")] == [
        "auto ensemble",
        "LSTM (Keras)",
        "ridge on 20 lagged returns + volatility",
    ]
    assert "Epochs at most" not in [n.label for n in at.number_input]
    assert "Model settings" not in [r.label for r in at.radio]
    choose_model_type(at, "gru")
    assert "Epochs at most" in [n.label for n in at.number_input]


def test_an_auto_job_is_queued_by_default(database, monkeypatch, redis_url):
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    at = logged_in_app(PAGE, make_account(database)).run()
    next(b for b in at.button if b.label == "Train").click().run()
    with session_scope() as session:
        assert session.query(TrainingJob.config).scalar()["model_type"] == "auto"


def test_the_leaderboard_is_queued_as_one_job_and_followed_under_jobs_at_once(
    database, monkeypatch, redis_url, refresh_timers
):
    # The notice said "follow it under Jobs" above a panel drawn before the job existed: no card, no refresh.
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    at = logged_in_app(PAGE, make_account(database)).run()
    assert "No leaderboard yet: a leaderboard job trains every model type on one ticker." in [
        c.value for c in at.caption
    ]
    next(b for b in at.button if b.label == "Rank every model type").click()
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS], "the click's own run follows the job"
    assert [s.value for s in at.success] == ["Queued a leaderboard of SPX: follow it under Jobs."]
    with session_scope() as session:
        assert session.query(TrainingJob.kind, TrainingJob.ticker).one() == ("leaderboard", "SPX")
    assert any(m.value.startswith("SPX · leaderboard of every model type · queued · ") for m in at.markdown)
    assert "No training jobs yet." not in [c.value for c in at.caption]


def test_train_queues_a_job_and_returns_at_once(database):
    actor = make_account(database)
    at = choose_model_type(logged_in_app(PAGE, actor).run(), "lstm")
    assert not at.exception
    next(t for t in at.text_input if t.label == "LSTM units per layer").input("4")
    next(n for n in at.number_input if n.label == "Epochs at most").set_value(1)
    started = time.monotonic()
    next(b for b in at.button if b.label == "Train").click().run()
    assert time.monotonic() - started < 10, "the page does not wait for training"
    assert [s.value for s in at.success] == ["Queued 1 training job; progress shows below."]
    assert any(m.value.startswith("SPX · ") for m in at.markdown)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope() as session:
            status = session.query(TrainingJob.status).scalar()
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert status == "succeeded"


def test_a_job_the_queue_could_not_take_is_reported_failed_not_queued(database, monkeypatch):
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "median")
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    assert not at.success, "nothing was queued"
    assert at.error[0].value.startswith("SPX: could not queue the job: Redis unreachable")


def test_a_job_the_queue_could_not_take_is_not_counted_queued_beside_a_refused_ticker(database, monkeypatch):
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    with session_scope() as session:
        short = b"\n".join(gspc_2018_bytes().splitlines()[:41])
        import_prices(session=session, data=short, ticker="SHORT", date_format=None, skip_bad_rows=False, owner=None)
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "median")
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["SHORT", "SPX"]).run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    assert not at.success, "nothing was queued"
    [error] = [e.value for e in at.error if e.value.startswith("queued ")]  # besides the failed job's card
    assert error.startswith("queued 0 of 2 training jobs; not queued: SHORT (too little history: 40 days; ")
    assert error.endswith("; SPX (could not queue the job: Redis unreachable)"), "no server address on the page"


def test_bad_settings_are_named(database):
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "lstm")
    next(t for t in at.text_input if t.label == "LSTM units per layer").input("4, 0")
    next(b for b in at.button if b.label == "Train").click().run()
    assert at.error[0].value == "Settings: LSTM units per layer: one to four layers of 1 to 512 units each"


@pytest.mark.parametrize(
    ("validation", "test", "said"),
    [
        (0.45, 0.4, "validation fraction + test fraction must leave at least 20 % of the days for training; "
         "0.45 + 0.4 leaves 15 %"),
        (0.4, 0.4, None),
    ],
    ids=["less-than-a-fifth-left", "a-fifth-left"],
)  # fmt: skip
def test_validation_and_test_fractions_must_leave_a_fifth_to_train_on(database, monkeypatch, validation, test, said):
    # The page refused 0.4 + 0.4 (0.8000000000000002 in floating point), naming fields the form does not show.
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")  # nothing is queued: past the check, the queue says no
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "median")
    next(n for n in at.number_input if n.label == "Validation fraction").set_value(validation)
    next(n for n in at.number_input if n.label == "Test fraction (the last days)").set_value(test)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception
    settings_errors = [e.value for e in at.error if e.value.startswith("Settings: ")]
    assert settings_errors == ([plain(f"Settings: {said}")] if said else [])
    if not said:
        assert at.error[0].value.startswith("SPX: could not queue the job: Redis unreachable"), "past the check"


def test_versions_show_metrics_and_a_verdict(database):
    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert (row["Ticker"], row["Version"], bool(row["Active"])) == ("SPX", 1, True)
    assert row["MASE"] == pytest.approx(tiny_result().metrics["mase"])
    assert row["Verdict"] == tiny_result().verdict


def test_version_verdicts_come_from_the_diebold_mariano_test_as_on_the_metrics_page(database):
    from db.repositories.models import add_model_version

    actor = make_account(database)
    stored = {
        "OLD": {"mae": 9.0, "naive_mae": 10.0, "verdict": "beats persistence by 10.0 % MAE"},
        "TIED": {"mae": 9.0, "naive_mae": 10.0, "dm_pvalue": 0.41, "verdict": "beats persistence"},
        "WORSE": {"mae": 11.0, "naive_mae": 10.0, "dm_pvalue": 0.01, "verdict": "beats persistence"},
        "FILE": {"imported": True, "mae": "junk", "mase": [1], "verdict": "not evaluated here"},
    }
    with session_scope() as session:
        for ticker, metrics in stored.items():
            add_model_version(
                session=session, actor=actor, ticker=ticker, model_type="ridge", parameters={}, metrics=metrics,
                data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
            )  # fmt: skip
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    table = at.dataframe[0].value
    verdicts = dict(zip(table["Ticker"], table["Verdict"], strict=True))
    assert verdicts == {
        "OLD": "not tested against persistence: retrain for a Diebold-Mariano verdict",
        "TIED": "no better than tomorrow = today (p = 0.41)",
        "WORSE": "worse than tomorrow = today (Diebold-Mariano p = 0.01)",
        "FILE": "not evaluated here",
    }
    assert set(table["Prices"]) == {"—"}, "a version with no stored data range shows a dash"
    imported = table[table["Ticker"] == "FILE"].iloc[0]
    assert imported[["MAE", "MASE"]].isna().all(), "a score that is no number shows none"


def test_an_auto_version_says_what_it_is_made_of(database):
    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
        auto = train_model(fixture_prices(), TrainingConfig(model_type="auto"), ticker="SPX")
        save_version(session=session, actor=actor, ticker="SPX", result=auto)
    at = logged_in_app(PAGE, actor).run()
    made_of = dict(zip(at.dataframe[0].value["Version"], at.dataframe[0].value["Made of"], strict=True))
    assert made_of[1] == "", "a single model is made of itself"
    assert made_of[2] == ensemble_mix(auto.metrics["weights"])
    assert made_of[2].endswith(" %")
    chooser = next(s for s in at.selectbox if s.label == "Version")
    assert set(chooser.options) == {"SPX v1 · LSTM (Keras) (active)", "SPX v2 · auto ensemble"}


def test_version_numbers_read_like_a_finance_tool(database):
    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    table = at.dataframe[0].value
    assert not [name for name in table.columns if "_" in name or name.islower()]
    assert "Direction p-value" in table.columns, "named as on the Metrics page, apart from the verdict's p"
    assert table["Trained"].dt.tz is None, "local time, no +00:00 to read past"
    assert table["Prices"].iloc[0] == "2018-01-02 to 2018-12-31"
    formats = {name: config.get("type_config", {}).get("format") for name, config in column_config(at).items()}
    assert formats["MAE"] == formats["Persistence MAE"] == "%.2f"
    # Percent units at two decimals, as every table shows them: never 51% beside 53.03%.
    assert formats["Direction right"] == formats["Interval coverage"] == "%.2f %%"
    assert table["Interval coverage"].iloc[0] == pytest.approx(tiny_result().metrics["test_coverage"] * 100)
    assert formats["Version"] == "%d"
    # Skill lives in the fourth decimal: 0.9988 must not read 0.999, nor differ from the Metrics page.
    assert formats["MASE"] == "%.4f"
    assert formats["Direction p-value"] == "%.4f"


def test_the_verdict_is_shown_whole_before_the_detail_columns(database):
    from db.repositories.models import add_model_version

    actor = make_account(database)
    longest = "not tested against persistence: retrain for a Diebold-Mariano verdict"
    with session_scope() as session:
        add_model_version(
            session=session, actor=actor, ticker="OLD", model_type="ridge", parameters={},
            metrics={"mae": 9.0, "naive_mae": 10.0}, data_start=None, data_end=None, data_hash=None, artifact=b"x",
            artifact_sha256="0" * 64,
        )  # fmt: skip
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    columns = list(at.dataframe[0].value.columns)
    # Fourteen columns ran Interval coverage, Verdict and Made of off the right edge of the page.
    assert columns[:5] == ["Ticker", "Version", "Model", "Active", "Verdict"]
    assert columns.index("Interval coverage") < columns.index("Trained")
    assert columns.index("Made of") < columns.index("Trained")
    assert longest in set(at.dataframe[0].value["Verdict"])
    config = column_config(at)
    assert config["Verdict"]["width"] >= 6.5 * len(longest) + 12, "wide enough for the longest verdict"
    assert config["Ticker"].get("pinned"), "a row keeps its name when scrolled"
    assert config["Version"].get("pinned")


def test_a_network_s_loss_curve_is_drawn_tall_with_its_values_fitted(database):
    actor = make_account(database)
    history = {"loss": [1.004, 0.998, 0.995], "val_loss": [0.283, 0.281, 0.280]}
    with session_scope() as session:
        session.add(
            TrainingJob(
                user_id=actor.user_id, ticker="SPX", status="succeeded", config={"model_type": "lstm"}, history=history
            )
        )
    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30).run()
    assert not at.exception
    assert not at.get("vega_lite_chart"), "Streamlit's line chart squeezed the curve into about 40 px"
    (chart,) = at.get("plotly_chart")
    layout = json.loads(chart.proto.spec)["layout"]
    assert layout["height"] - layout["margin"]["t"] - layout["margin"]["b"] >= 160
    low, high = layout["yaxis"]["range"]
    assert 0.2 < low < 0.280, "fitted to the values, not stretched from zero"
    assert 1.004 < high < 1.1


def test_only_the_newest_finished_jobs_draw_their_loss_charts(database):
    # Thirty finished networks drew thirty charts on every run of the page: over a second.
    from datetime import timedelta

    from db.types import utc_now

    actor = make_account(database)
    history = {"loss": [1.004, 0.998, 0.995], "val_loss": [0.283, 0.281, 0.280]}
    with session_scope() as session:
        for age in range(8):
            session.add(
                TrainingJob(
                    user_id=actor.user_id, ticker=f"T{age}", status="succeeded", config={"model_type": "lstm"},
                    history=history, created_at=utc_now() - timedelta(minutes=age),
                )
            )  # fmt: skip
    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30).run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == FINISHED_JOBS_WITH_CHARTS < 8
    assert all(f"T{age} ·" in " ".join(m.value for m in at.markdown) for age in range(8)), "every job is listed"


def test_the_loss_chart_follows_the_users_chart_theme(database):
    from core.preferences import save_preferences

    actor = make_account(database)
    history = {"loss": [1.004, 0.998, 0.995], "val_loss": [0.283, 0.281, 0.280]}
    with session_scope() as session:
        save_preferences(
            session=session, actor=actor, tickers_text="", chart_theme="dark", default_range="1Y", notifications={}
        )
        session.add(
            TrainingJob(
                user_id=actor.user_id, ticker="SPX", status="succeeded", config={"model_type": "lstm"}, history=history
            )
        )
    at = logged_in_app("app_pages/train.py", actor).run()
    assert not at.exception
    (chart,) = at.get("plotly_chart")
    assert json.loads(chart.proto.spec)["layout"]["template"]["layout"]["paper_bgcolor"] != "white"


def column_config(at) -> dict:
    return json.loads(at.dataframe[0].proto.columns)


def test_presets_in_plain_words_fill_the_advanced_fields(database, monkeypatch, redis_url):
    # A queue nobody listens on: the job stays queued, so nothing trains behind the test's back.
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "lstm")
    presets = next(r for r in at.radio if r.label == "Model settings")
    assert (presets.options, presets.value) == (["Fast", "Balanced", "Thorough"], "balanced")
    # "Balanced" is the defaults, whatever they are tuned to.
    assert next(n for n in at.number_input if n.label == "Epochs at most").value == TrainingConfig().epochs
    presets.set_value("fast").run()
    assert next(n for n in at.number_input if n.label == "Epochs at most").value == 8
    assert next(t for t in at.text_input if t.label == "LSTM units per layer").value == "8"
    next(b for b in at.button if b.label == "Train").click().run()
    with session_scope() as session:
        config = session.query(TrainingJob.config).scalar()
    assert (config["epochs"], config["lstm_units"], config["patience"]) == (8, [8], 2)


def test_the_features_field_shows_every_chosen_feature_by_name(database):
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "lstm")
    features = next(m for m in at.multiselect if m.label == "Features")
    assert features.value == ["log_return", "hv_20", "rsi_14", "macd_hist", "volume_change"]
    chosen = [features.format_func(value) for value in features.value]
    assert chosen == ["Log return", "Volatility (20 days)", "RSI (14 days)", "MACD histogram", "Volume change"]


def test_a_job_without_a_worker_says_queued_and_why(database, monkeypatch, redis_url):
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=queue_name)
    at = logged_in_app(PAGE, make_account(database)).run()
    next(b for b in at.button if b.label == "Train").click().run()
    assert any(m.value.startswith("SPX · training of auto ensemble · queued · ") for m in at.markdown)
    assert not [m for m in at.markdown if "running" in m.value]
    said = "waiting: no worker is listening on the queue, so it starts when one does · queued for "
    assert any(c.value.startswith(said) for c in at.caption)
    assert [w.value for w in at.warning] == [
        f"no worker is listening on the queue {queue_name!r}: queued jobs wait until one starts "
        "(`make worker`, or `python -m core.worker`)"
    ]
    worker = SimpleWorker([queue_name], connection=require_redis())
    worker.register_birth()
    try:
        at.run()
    finally:
        worker.register_death()
    assert not at.warning
    assert f"Training jobs: 1 worker listening on {queue_name!r} (0 busy, 1 idle)." in [c.value for c in at.caption]
    assert any(c.value.startswith("waiting for a worker · queued for ") for c in at.caption)


def jobs_panel(actor) -> None:
    """The Train page's jobs panel and versions as the browser runs them: the whole script, counting its runs,
    or the open-jobs fragment alone when the test fires its refresh timer."""
    import streamlit as st

    from tests.app_pages.refresh_timers import TIMER_FIRED_KEY
    from ui.model_library import render_model_library
    from ui.training_jobs import render_jobs, render_open_jobs

    if st.session_state.pop(TIMER_FIRED_KEY, False):
        render_open_jobs()
        return
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
    render_jobs(actor)
    render_model_library(actor)


def store_job(actor, **fields) -> str:
    with session_scope() as session:
        row = TrainingJob(user_id=actor.user_id, ticker="SPX", config={}, **fields)
        session.add(row)
        session.flush()
        return row.id


def update_job(job_id, **fields) -> None:
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        for name, value in fields.items():
            setattr(job, name, value)


def watching_a_running_job(database):
    """An account with a running job, and its jobs panel open: (actor, job id, the app after its first run)."""
    actor = make_account(database)
    job_id = store_job(actor, status="running", progress=0.5)
    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30)
    at.session_state["candlecast_auth"] = logged_in_state(actor)
    return actor, job_id, at.run()


def logged_in_state(actor) -> dict:
    now = time.time()
    return {
        "user_id": str(actor.user_id), "issued_at": now, "last_seen": now,
        "cookie_pending": False, "cookie_issued_at": now,
    }  # fmt: skip


def open_jobs_panel(actor) -> None:
    """The jobs panel's refresh alone, as it reruns every few seconds with the actor of the last page run."""
    from ui.training_jobs import render_open_jobs

    render_open_jobs()


def test_the_jobs_panel_stops_for_a_user_deactivated_while_it_refreshes(database):
    # The panel reruns on its own, without the page's login check: a deactivated user kept a live Cancel.
    actor, _, _ = watching_a_running_job(database)
    at = AppTest.from_function(open_jobs_panel, args=(actor,), default_timeout=30)
    at.session_state["candlecast_auth"] = logged_in_state(actor)
    at.run()
    assert "Cancel" in [b.label for b in at.button]
    with session_scope() as session:
        session.get(User, actor.user_id).is_active = False
    at.run()
    assert "Cancel" not in [b.label for b in at.button]
    assert [w.value for w in at.warning] == ["Your session has ended. Please log in again."]


def test_with_no_job_open_the_page_sets_no_refresh_timer(database, refresh_timers):
    # The panel reread the jobs every two seconds for as long as the page was open, with nothing to show.
    actor = make_account(database)
    at = logged_in_app(PAGE, actor)
    assert timed_runs(at, refresh_timers) == []
    assert "No training jobs yet." in [c.value for c in at.caption]
    store_job(actor, status="succeeded", message="v1: done")
    assert timed_runs(at, refresh_timers) == []
    assert any(m.value.startswith("SPX · ") and " · succeeded · " in m.value for m in at.markdown)
    assert any(c.value.startswith("Training jobs: ") for c in at.caption), "the runner's state, drawn once"


def test_an_open_job_refreshes_on_a_timer_with_its_live_progress(database, refresh_timers):
    actor = make_account(database)
    job_id = store_job(actor, status="queued", message="waiting for a worker")
    at = logged_in_app(PAGE, actor)
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    assert any(c.value.startswith("waiting for a worker · queued for ") for c in at.caption)
    update_job(job_id, status="running", progress=0.4, message="epoch 2 of 5")
    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30)
    at.session_state["candlecast_auth"] = logged_in_state(actor)
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    update_job(job_id, progress=0.8, message="epoch 4 of 5")
    fire_timer(at, refresh_timers)
    assert [(p.value, p.text) for p in at.progress] == [(80, "epoch 4 of 5")]
    assert at.session_state["runs"] == 1, "the panel refreshed alone, not the whole page"
    assert refresh_timers == [REFRESH_SECONDS], "and keeps refreshing while the job runs"


def test_the_versions_table_refreshes_when_a_watched_job_succeeds(database, refresh_timers):
    actor, job_id, at = watching_a_running_job(database)
    assert "No model versions yet: train one above, or import an exported one." in [c.value for c in at.caption]
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    fire_timer(at, refresh_timers)
    assert at.session_state["runs"] == 2, "nothing finished: the panel refreshed alone"
    with session_scope() as session:
        version = save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
        job = session.get(TrainingJob, job_id)
        job.status, job.model_version_id, job.message = "succeeded", version.id, "v1: done"
    fire_timer(at, refresh_timers)
    assert at.session_state["runs"] == 3, "the panel saw its job succeed and reran the whole page"
    assert at.dataframe[0].value["Version"].tolist() == [1]
    assert any(" · succeeded · " in m.value for m in at.markdown), "listed among the finished jobs"
    assert timed_runs(at, refresh_timers) == [], "with nothing open the page stops refreshing"


def test_a_watched_job_that_fails_moves_among_the_finished_with_its_reason(database, refresh_timers):
    _, job_id, at = watching_a_running_job(database)
    assert "Cancel" in [b.label for b in at.button]
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    update_job(job_id, status="failed", error="no cached prices of SPX")
    fire_timer(at, refresh_timers)
    assert at.session_state["runs"] == 3, "the panel saw its job end and reran the whole page"
    assert [e.value for e in at.error] == ["no cached prices of SPX"]
    assert "Cancel" not in [b.label for b in at.button], "a finished job has nothing to cancel"
    assert timed_runs(at, refresh_timers) == []


def test_a_job_that_ends_between_the_page_s_look_and_the_panel_s_is_listed(database, refresh_timers):
    # The page listed the job as open, the panel's own read found it done: it belongs among the finished.
    from core.services import models

    actor = make_account(database)
    job_id = store_job(actor, status="running", progress=0.9)
    real_list_jobs = models.list_jobs
    reads = []

    def ends_after_the_first_read(reader):
        reads.append(reader)
        if len(reads) == 2:
            update_job(job_id, status="succeeded", message="v1: done")
        return real_list_jobs(reader)

    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30)
    at.session_state["candlecast_auth"] = logged_in_state(actor)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(models, "list_jobs", ends_after_the_first_read)
        at.run()
    assert at.session_state["runs"] == 2, "the panel reran the page"
    assert any(" · succeeded · " in m.value for m in at.markdown)
    assert timed_runs(at, refresh_timers) == []


def test_a_running_job_behind_the_newest_finished_ones_keeps_its_card_cancel_and_refresh(database, refresh_timers):
    # Only the 50 newest jobs were read: an older one still running was neither drawn nor refreshed.
    from datetime import timedelta

    from core.results import DEFAULT_LIMIT
    from db.types import utc_now

    actor = make_account(database)
    now = utc_now()
    store_job(
        actor, status="running", progress=0.3, message="epoch 3 of 10", created_at=now - timedelta(minutes=30),
        started_at=now, heartbeat_at=now,
    )  # fmt: skip
    with session_scope() as session:
        for n in range(DEFAULT_LIMIT):
            session.add(
                TrainingJob(
                    user_id=actor.user_id, ticker="SPX", status="succeeded", config={"model_type": "median"},
                    message=f"v{n + 1}: done", created_at=now - timedelta(minutes=20) + timedelta(seconds=n),
                )
            )  # fmt: skip
    at = logged_in_app(PAGE, actor)
    assert timed_runs(at, refresh_timers) == [REFRESH_SECONDS]
    assert not at.exception
    assert [(p.value, p.text) for p in at.progress] == [(30, "epoch 3 of 10")]
    assert [b.label for b in at.button].count("Cancel") == 1
    assert sum(" · succeeded · " in m.value for m in at.markdown) == DEFAULT_LIMIT


def test_each_job_says_what_it_does_and_to_which_model(database):
    actor = make_account(database)
    with session_scope() as session:
        for kind, model_type in (("train", "ridge"), ("walkforward", "lstm"), ("leaderboard", "auto")):
            config = {"model_type": model_type} | ({"walkforward": {"windows": 2}} if kind == "walkforward" else {})
            session.add(TrainingJob(user_id=actor.user_id, ticker="SPX", kind=kind, status="succeeded", config=config))
    at = AppTest.from_function(jobs_panel, args=(actor,), default_timeout=30).run()
    titles = sorted(m.value.split(" · ")[1] for m in at.markdown if m.value.startswith("SPX · "))
    assert titles == [
        "leaderboard of every model type",
        "training of ridge on 20 lagged returns + volatility",
        "walk-forward of LSTM (Keras)",
    ]


def test_making_a_version_active_and_deleting_one_are_confirmed(database):
    actor = make_account(database)
    with session_scope() as session:
        for _ in range(2):
            save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v2 · LSTM (Keras)").run()
    next(b for b in at.button if b.label == "Make active").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["SPX v2 · LSTM (Keras) is now the active model of SPX."]
    assert at.dataframe[0].value.set_index("Version")["Active"].to_dict() == {2: True, 1: False}
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v1 · LSTM (Keras)").run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert at.dataframe[0].value["Version"].tolist() == [2, 1], "a deletion is asked about first"
    assert [w.value for w in at.warning] == [
        "Delete SPX v1 · LSTM (Keras)? The ledger keeps its predictions, marked deleted."
    ]
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert not at.warning
    assert at.dataframe[0].value["Version"].tolist() == [2, 1]
    next(b for b in at.button if b.label == "Delete").click().run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v2 · LSTM (Keras) (active)").run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v1 · LSTM (Keras)").run()
    assert not at.warning, "a question left unanswered is not asked again by itself"
    next(b for b in at.button if b.label == "Delete").click().run()
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    assert [s.value for s in at.success] == ["Deleted SPX v1 · LSTM (Keras); it had made no prediction."]
    assert at.dataframe[0].value["Version"].tolist() == [2]


def test_a_deleted_version_s_predictions_are_named_as_the_ledger_then_names_them(database):
    # The page said they were kept "as SPX · deleted model"; the ledger's model filter offered no such name.
    from core.services import forecasts

    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
        kept = save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    forecasts.predict(actor, "SPX", 2, kept.id)
    at = logged_in_app(PAGE, actor).run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v2 · LSTM (Keras)").run()
    next(b for b in at.button if b.label == "Delete").click().run()
    next(b for b in at.button if b.label == "Yes, delete").click().run()
    [said] = [s.value for s in at.success]
    ledger = logged_in_app("app_pages/predictions.py", actor).run()
    assert not ledger.exception
    [offered] = next(m for m in ledger.multiselect if m.label == "Models").options
    assert said == f"Deleted SPX v2 · LSTM (Keras); the ledger keeps its 2 predictions as {offered}."
    assert offered.endswith(", deleted")


def test_an_imported_version_is_listed_in_the_run_that_says_so(database):
    # "Imported as IMP v1." stood beside a versions table and chooser drawn before the import, without it.
    from core.services import models

    actor = make_account(database)
    with session_scope() as session:
        exported = save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    bundle = models.export_bundle(actor, exported.id)
    at = logged_in_app(PAGE, actor).run()
    at.file_uploader[0].set_value((bundle.filename, bundle.data, "application/zip"))
    next(t for t in at.text_input if t.label == "Ticker").input("IMP")
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Imported as IMP v1, a model trained on ^GSPC prices."]
    assert at.dataframe[0].value["Ticker"].tolist().count("IMP") == 1
    assert "IMP v1 · LSTM (Keras) (active)" in next(s for s in at.selectbox if s.label == "Version").options
    at.run()
    assert not at.success, "said once"
    assert at.dataframe[0].value["Ticker"].tolist().count("IMP") == 1, "imported once"


def test_import_refuses_a_foreign_file(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    at.file_uploader[0].set_value(("model.zip", b"PK not really", "application/zip"))
    next(b for b in at.button if b.label == "Import").click().run()
    assert at.error[0].value == "not a model file: expected a .zip exported by Candlecast"


def test_import_without_a_file_says_to_choose_one(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert [e.value for e in at.error] == ["Choose a model file (.zip) first"]


def test_viewers_cannot_train(database):
    at = logged_in_app(PAGE, make_account(database, role=Role.VIEWER)).run()
    assert "Viewers can look at models but not train them." in [c.value for c in at.caption]
    assert "Train" not in [b.label for b in at.button]


def test_data_problems_of_a_chosen_ticker_are_named_before_training(database):
    lines = gspc_2018_bytes().decode().splitlines()
    lines[5] = ",".join([*lines[5].split(",")[:-1], "0"])  # one day with zero volume
    with session_scope() as session:
        import_prices(
            session=session, data="\n".join(lines).encode(), ticker="ZERO", date_format=None, skip_bad_rows=False,
            owner=None,
        )  # fmt: skip
    at = logged_in_app(PAGE, make_account(database)).run()
    assert not [w for w in at.warning if w.value.startswith("SPX")]
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["ZERO"]).run()
    (warning,) = [w.value for w in at.warning if w.value.startswith("ZERO")]
    assert "1 day with zero volume: 2018-01-08" in warning


def test_a_rerun_with_nothing_changed_does_not_read_the_chosen_tickers_prices_again(database, monkeypatch):
    # Every click reran the page and read each chosen ticker's whole history to judge it again, though no price
    # had changed: a third of a second for 50 tickers of 5 years.
    from db.engine import get_engine
    from tests.queries import recorded_statements

    at = logged_in_app(PAGE, make_account(database)).run()
    with recorded_statements(get_engine(), monkeypatch) as statements:
        at.run()
    assert not at.exception
    assert [s for s in statements if "historical_data" in s] == []


def test_a_price_write_between_runs_shows_the_ticker_s_new_problem_on_the_next_run(database):
    from db.repositories.prices import upsert_prices

    at = logged_in_app(PAGE, make_account(database)).run()
    assert not [w for w in at.warning if w.value.startswith("SPX")]
    bars = fixture_prices().drop(columns=["ticker"], errors="ignore")
    bad = bars.iloc[[4]].assign(volume=0)
    with session_scope() as session:
        upsert_prices(session=session, frame=bad, ticker="SPX", owner_id=None, source="yahoo")
    at.run()
    (warning,) = [w.value for w in at.warning if w.value.startswith("SPX")]
    assert f"1 day with zero volume: {bad['date'].iloc[0]:%Y-%m-%d}" in warning


def test_a_rejected_split_leaves_the_warning_on_the_next_run(database):
    # A rejection stores a 1:1 split and changes no price, so no series version: the warning follows it all the same.
    from core.data.frames import normalise_provider_frame
    from db.repositories.prices import replace_actions, upsert_prices
    from tests.fixtures import gspc_2018_frame

    halved = normalise_provider_frame(gspc_2018_frame()).frame
    before = halved.index[:150]
    for column in ("open", "high", "low", "close", "adjusted_close"):
        halved.loc[before, column] = halved.loc[before, column] * 2  # as if a 2:1 split had not been adjusted
    with session_scope() as session:
        upsert_prices(session=session, frame=halved, ticker="SPLITR", owner_id=None, source="yahoo")
    day = pd.Timestamp(halved["date"].iloc[150]).date()
    at = logged_in_app(PAGE, make_account(database)).run()
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["SPLITR"]).run()
    (warning,) = [w.value for w in at.warning if w.value.startswith("SPLITR")]
    assert f"1 possible split to confirm: {day}" in warning
    with session_scope() as session:
        rejection = pd.DataFrame({"date": [day], "kind": ["split"], "value": [1.0]})
        replace_actions(session=session, ticker="SPLITR", owner_id=None, actions=rejection, source="rejected")
    at.run()
    assert not [w for w in at.warning if "possible split" in w.value]


def test_versions_and_jobs_read_in_the_viewer_s_zone_converted_once_per_table(database, monkeypatch):
    # Each row's moment went through local_moment alone: 200 versions and 50 jobs cost up to 170 ms of every run.
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import ui.format
    from db.repositories.models import add_model_version

    zones_asked = []

    def new_york():
        zones_asked.append(1)
        return ZoneInfo("America/New_York")

    monkeypatch.setattr(ui.format, "browser_zone", new_york)
    actor = make_account(database)
    made = datetime(2019, 1, 2, 22, 5, tzinfo=UTC)

    def add_rows(count: int) -> None:
        with session_scope() as session:
            for _ in range(count):
                version = add_model_version(
                    session=session, actor=actor, ticker="SPX", model_type="ridge", parameters={}, metrics={},
                    data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
                )  # fmt: skip
                version.created_at = made
                ridge = {"model_type": "ridge"}
                session.add(
                    TrainingJob(user_id=actor.user_id, ticker="SPX", status="succeeded", config=ridge, created_at=made)
                )

    add_rows(1)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    assert at.dataframe[0].value["Trained"].tolist() == [pd.Timestamp("2019-01-02 17:05")]
    assert [m.value for m in at.markdown if m.value.startswith("SPX · ")] == [
        "SPX · training of ridge on 20 lagged returns + volatility · succeeded · 2019-01-02 17:05"
    ]
    with_one = len(zones_asked)
    add_rows(5)
    zones_asked.clear()
    at.run()
    assert at.dataframe[0].value["Trained"].tolist() == [pd.Timestamp("2019-01-02 17:05")] * 6
    assert sum(m.value.endswith(" · succeeded · 2019-01-02 17:05") for m in at.markdown) == 6
    assert len(zones_asked) == with_one, "one conversion per table, however many rows"


def test_a_model_imported_under_another_ticker_says_which_prices_it_was_trained_on(database):
    # "Imported as SMALL v1", active at once, with SPX's data dates and nothing saying it learned SPX.
    from core.services import models

    actor = make_account(database)
    with session_scope() as session:
        exported = save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    bundle = models.export_bundle(actor, exported.id)  # the file names ^GSPC, the prices tiny_result learned
    at = logged_in_app(PAGE, actor).run()
    at.file_uploader[0].set_value((bundle.filename, bundle.data, "application/zip"))
    next(t for t in at.text_input if t.label == "Ticker").input("SMALL")
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Imported as SMALL v1, a model trained on ^GSPC prices."]
    table = at.dataframe[0].value.set_index("Ticker")
    assert table.loc["SMALL", "Trained on"] == "^GSPC prices"
    assert table.loc["SPX", "Trained on"] == "^GSPC prices", "saved under SPX, trained on ^GSPC"


def median_version(actor, ticker: str = "SPX"):
    with session_scope() as session:
        result = train_model(fixture_prices(), TrainingConfig(model_type="median"), ticker=ticker)
        return save_version(session=session, actor=actor, ticker=ticker, result=result)


def test_the_export_file_is_written_on_the_click_not_on_every_run(database, monkeypatch):
    # Every run with a version chosen read its artifact, checked its SHA-256 and sent the file to the browser.
    from streamlit.runtime.media_file_manager import MediaFileManager

    from core.forecasting import registry
    from core.services import models

    actor = make_account(database)
    version = median_version(actor)
    exports = []
    real_export_file = registry.export_file
    monkeypatch.setattr(registry, "export_file", lambda v: exports.append(v.id) or real_export_file(v))
    deferred = []
    real_add_deferred = MediaFileManager.add_deferred

    def note_deferred(self, callable_, *args, **kwargs):
        deferred.append((callable_, kwargs.get("file_name")))
        return real_add_deferred(self, callable_, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", note_deferred)
    at = logged_in_app(PAGE, actor).run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v1 · median drift (active)").run()
    for _ in range(3):
        at.run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == ["Export (.zip)"]
    assert exports == [], "nothing is exported until the button is pressed"
    write, file_name = deferred[-1]
    expected = models.export_bundle(actor, version.id)
    assert (file_name, write()) == (expected.filename, expected.data), "the click gets the file Export wrote"


def test_the_active_version_cannot_be_made_active_again(database):
    # "Make active" on the active version said "SPX v1 · ... is now the active model of SPX": nothing had changed.
    actor = make_account(database)
    median_version(actor)
    median_version(actor)
    at = logged_in_app(PAGE, actor).run()
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v1 · median drift (active)").run()
    button = next(b for b in at.button if b.label == "Make active")
    assert button.disabled
    assert button.help == "Already the active model of SPX"
    next(s for s in at.selectbox if s.label == "Version").set_value("SPX v2 · median drift").run()
    assert not next(b for b in at.button if b.label == "Make active").disabled


def test_the_units_field_and_its_errors_are_named_as_the_form_names_them(database):
    # The GRU's field said "LSTM units per layer", and a bad value was reported as "lstm\_units: ...".
    at = choose_model_type(logged_in_app(PAGE, make_account(database)).run(), "gru")
    assert "LSTM units per layer" not in [t.label for t in at.text_input]
    next(t for t in at.text_input if t.label == "GRU units per layer").input("4, 0")
    next(b for b in at.button if b.label == "Train").click().run()
    [said] = [e.value for e in at.error]
    assert said.startswith("Settings: GRU units per layer: "), said
    assert "\\_" not in said, "no field name of the config"


def test_a_queued_job_says_how_long_it_has_waited(database):
    # "queued · starting a training process" alone, for minutes, gave no sign the page was still alive.
    import re
    from datetime import timedelta

    from db.types import utc_now

    actor = make_account(database)
    with session_scope() as session:
        session.add(
            TrainingJob(
                user_id=actor.user_id, ticker="SPX", status="queued", config={}, message="starting a training process",
                created_at=utc_now() - timedelta(seconds=100),
            )
        )  # fmt: skip
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    notes = [c.value for c in at.caption if c.value.startswith("starting a training process")]
    assert len(notes) == 1
    assert re.fullmatch(r"starting a training process · queued for 1 min 4\d s", notes[0]), notes
