"""Analysis services on both backends: walk-forward jobs, backtests and risk, each the actor's own."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from common.errors import BadInput, NotAllowed, NotFound
from core.data.csv_prices import parse_price_csv
from core.data.frames import normalise_provider_frame
from core.data.sample import sample_bytes
from core.forecasting.config import TrainingConfig
from core.services import analysis
from db.engine import session_scope
from db.models import BacktestResult, Evaluation, ModelVersion, TrainingJob
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.prices import upsert_prices
from tests.accounts import make_account
from tests.fixtures import gspc_2018_frame


@pytest.fixture
def database(committing_database: URL) -> URL:
    """A database that commits, on each backend: the services own their transactions."""
    return committing_database


def stored_run(actor: Actor, kind: str = "walkforward", *, with_origin_days: bool = True) -> uuid.UUID:
    """A walk-forward run of one window trained until 2018-05-31, forecasting 2018-06-01 to 06-04."""
    closes = [100.0, 102.0, 101.0, 103.0, 104.0]
    days = ["2018-05-31", "2018-06-01", "2018-06-02", "2018-06-03", "2018-06-04"]
    forecast = [
        {"date": day, "previous_close": before, "actual": after, "predicted": after + 0.5}
        | ({"origin_date": origin} if with_origin_days else {})
        for (origin, day), (before, after) in zip(itertools.pairwise(days), itertools.pairwise(closes), strict=True)
    ]
    window = {"train_until": days[0], "forecast": forecast}
    with session_scope() as session:
        row = Evaluation(user_id=actor.user_id, ticker="^GSPC", kind=kind, metrics={}, windows=[window])
        session.add(row)
        session.flush()
        return row.id


def jobs_of(actor: Actor) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(TrainingJob).where(TrainingJob.user_id == actor.user_id))


def own_prices(actor: Actor, days: int | None = None) -> None:
    """The actor's own ^GSPC: the 2018 fixture's 251 days, or the sample's last `days`."""
    if days is None:
        frame = normalise_provider_frame(gspc_2018_frame()).frame
    else:
        frame = parse_price_csv(sample_bytes(), ticker="^GSPC").frame.tail(days)
    with session_scope() as session:
        upsert_prices(session=session, frame=frame, ticker="^GSPC", owner_id=actor.user_id, source="upload")


def test_a_walk_forward_is_queued_with_its_settings(database, queued_jobs):
    actor = make_account(database)
    own_prices(actor, days=281)  # 251 to train the first window on, then 3 windows of 10 days
    job = analysis.submit_walk_forward(actor, ticker="^GSPC", model_type="ridge", windows=3, step=10)
    assert (job.kind, job.status) == ("walkforward", "queued")
    assert job.config["walkforward"] == {"windows": 3, "step": 10, "retrain_every": 1}
    assert job.config["model_type"] == "ridge"


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"windows": 3, "retrain_every": 5}, "retrain_every: 1 to the number of windows"), ({"step": 2}, "step: 5")],
)
def test_walk_forward_settings_are_checked_before_anything_is_queued(database, settings, message):
    actor = make_account(database)
    with pytest.raises(BadInput, match=message):
        analysis.submit_walk_forward(actor, ticker="^GSPC", **settings)
    assert jobs_of(actor) == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"windows": 3, "step": 10},
            "3 windows of 10 days: it takes 281 days, 251 to train the first window on and 30 to forecast; "
            "^GSPC has 251",
        ),
        (
            {},  # the form's defaults: the last fifth split evenly, at least 5 days a window
            "10 windows of 5 days: it takes 301 days, 251 to train the first window on and 50 to forecast; "
            "^GSPC has 251",
        ),
    ],
)
def test_walk_forward_settings_the_tickers_history_cannot_hold_are_refused_before_anything_is_queued(
    database, queued_jobs, settings, message
):
    # Such a job was queued, used up one of the hour's trainings, and failed in the worker.
    actor = make_account(database)
    own_prices(actor)
    with pytest.raises(BadInput, match=f"^too little history for {re.escape(message)}$"):
        analysis.submit_walk_forward(actor, ticker="^GSPC", model_type="ridge", **settings)
    assert jobs_of(actor) == 0


def test_a_viewer_hears_of_the_role_before_the_history(database):
    viewer = make_account(database, role=Role.VIEWER)
    own_prices(viewer)
    with pytest.raises(NotAllowed, match="viewer role cannot train"):
        analysis.submit_walk_forward(viewer, ticker="^GSPC", windows=50, step=1000)


def test_a_walk_forward_of_a_ticker_without_prices_is_refused_before_it_is_queued(database):
    actor = make_account(database)
    with pytest.raises(NotFound, match="no cached prices of NOSUCH"):
        analysis.submit_walk_forward(actor, ticker="NOSUCH")
    assert jobs_of(actor) == 0


def test_viewers_cannot_run_walk_forwards(database):
    viewer = make_account(database, role=Role.VIEWER)
    with pytest.raises(NotAllowed, match="viewer role cannot train"):
        analysis.submit_walk_forward(viewer, ticker="^GSPC")
    assert jobs_of(viewer) == 0


# Long when the forecast is above the day's close, made at that close: up, down (flat), up.
TRADES = [("2018-05-31", 1.0, 100.0), ("2018-06-01", 0.0, 102.0), ("2018-06-02", 1.0, 101.0)]


def test_a_backtest_is_stored_for_its_owner_only(database):
    owner, stranger = make_account(database), make_account(database)
    run = stored_run(owner)
    result, stored = analysis.backtest(owner, evaluation_id=run, cost_bps=0.0)
    assert result.metrics["days"] == 4
    assert [(trade["date"], trade["position"], trade["price"]) for trade in result.trades] == TRADES
    assert analysis.stored_backtest(owner, stored.id).id == stored.id
    with pytest.raises(NotFound, match="no such backtest"):
        analysis.stored_backtest(stranger, stored.id)
    with pytest.raises(NotFound, match="no such walk-forward run"):
        analysis.backtest(stranger, evaluation_id=run)
    with pytest.raises(BadInput, match="must not be negative"):
        analysis.backtest(owner, evaluation_id=run, cost_bps=-1.0)
    with session_scope() as session:
        assert session.scalar(select(func.count()).where(BacktestResult.user_id == stranger.user_id)) == 0


def test_a_run_stored_without_origin_days_trades_on_the_days_before_its_forecasts(database):
    owner = make_account(database)
    result, _ = analysis.backtest(owner, evaluation_id=stored_run(owner, with_origin_days=False), cost_bps=0.0)
    assert [(trade["date"], trade["position"], trade["price"]) for trade in result.trades] == TRADES


def test_the_metrics_view_holds_the_actors_runs_and_latest_leaderboard(database):
    actor, other = make_account(database), make_account(database)
    run = stored_run(actor)
    board = stored_run(actor, kind="leaderboard")
    stored_run(other)
    view = analysis.metrics_view(actor)
    assert [e.id for e in view.evaluations] == [run]
    assert view.leaderboard is not None
    assert view.leaderboard.id == board
    assert view.chart_template == "plotly_white"
    assert analysis.metrics_view(other).leaderboard is None


def test_the_metrics_view_counts_the_history_of_every_versioned_ticker_without_reading_its_days(database, monkeypatch):
    from db.engine import get_engine
    from tests.queries import recorded_statements

    actor = make_account(database)
    own_prices(actor)
    with session_scope() as session:
        for ticker in ("^GSPC", "NOPRICES", "ALSO-NONE"):
            stored = {"artifact": b"", "artifact_sha256": "0" * 64}
            session.add(ModelVersion(user_id=actor.user_id, ticker=ticker, version=1, model_type="ridge", **stored))
    with recorded_statements(get_engine(), monkeypatch) as statements:
        view = analysis.metrics_view(actor)
    assert view.history_days == {"^GSPC": 251, "NOPRICES": 0, "ALSO-NONE": 0}
    # One series of ^GSPC in sight: its summary knows its days (db/test_prices covers tickers seen in several).
    assert not [statement for statement in statements if "historical_data" in statement]


def test_risk_weights_are_checked_before_any_price_is_read(database):
    actor = make_account(database)
    with pytest.raises(BadInput, match="weights: 2 given for 1 tickers"):
        analysis.risk(actor, tickers=["^GSPC"], weights_text="0.5, 0.5")
    with pytest.raises(BadInput, match="no cached prices of NOSUCH"):
        analysis.risk(actor, weights={"NOSUCH": 1.0})


def test_viewers_cannot_store_backtests_or_risk(database):
    # A demoted analyst keeps their runs and uploads; reading them is allowed, storing new results is not.
    viewer = make_account(database, role=Role.VIEWER)
    run = stored_run(viewer)
    with session_scope() as session:
        frame = normalise_provider_frame(gspc_2018_frame()).frame
        upsert_prices(session=session, frame=frame, ticker="^GSPC", owner_id=viewer.user_id, source="upload")
    # Named as the analysis asked for: a viewer measuring risk was told they "cannot train".
    with pytest.raises(NotAllowed, match=r"^the viewer role cannot run analyses$"):
        analysis.backtest(viewer, evaluation_id=run, cost_bps=0.0)
    with pytest.raises(NotAllowed, match=r"^the viewer role cannot run analyses$"):
        analysis.risk(viewer, tickers=["^GSPC"])
    with pytest.raises(NotAllowed, match=r"^the viewer role cannot run analyses$"):
        analysis.risk(viewer, weights={"^GSPC": 1.0})
    assert len(analysis.backtests(viewer)) == 0
    assert len(analysis.risk_results(viewer)) == 0


def version_of(model_type: str = "lstm", **settings) -> ModelVersion:
    parameters = TrainingConfig(model_type=model_type, **settings).model_dump(mode="json")
    return ModelVersion(ticker="^GSPC", version=1, model_type=model_type, parameters=parameters)


def run_of(model_type: str = "lstm", ticker: str = "^GSPC", **settings) -> Evaluation:
    training = TrainingConfig(model_type=model_type, **settings).model_dump(mode="json")
    return Evaluation(ticker=ticker, config={"training": training, "walkforward": {"windows": 10}}, metrics={})


def view_of(*runs: Evaluation) -> analysis.MetricsView:
    """A Metrics page's read with these runs, newest first."""
    return analysis.MetricsView(chart_template="", versions=[], evaluations=runs, leaderboard=None, tickers=[])


def test_a_version_is_paired_with_the_newest_walk_forward_of_its_own_settings():
    # A version with a 60-day window was shown beside the newest LSTM run, one of 20-day windows.
    version = version_of(window=60)
    own = run_of(window=60)
    view = view_of(run_of(window=20), run_of("gru", window=60), run_of(ticker="SPY", window=60), own, run_of(window=60))
    paired = view.walk_forward_of(version)
    assert paired.run is own
    assert paired.config == TrainingConfig(model_type="lstm", window=60)


def test_runs_of_other_settings_are_counted_and_what_differs_named_but_not_paired():
    version = version_of(window=60, learning_rate=1e-3)
    paired = view_of(run_of(window=20, epochs=5), run_of()).walk_forward_of(version)
    assert paired.run is None
    assert paired.other_settings == 2
    assert paired.differs_in == ("window", "epochs", "learning rate"), "the newest run's, in the config's order"
    assert paired.config == TrainingConfig(model_type="lstm", window=60, learning_rate=1e-3), "to run one of its own"
    nothing = view_of().walk_forward_of(version)
    assert (nothing.run, nothing.other_settings, nothing.differs_in) == (None, 0, ())


@pytest.mark.parametrize(
    ("model_type", "version", "run", "paired"),
    [
        # The test fraction sizes a training's held-out days and a walk-forward's default window: no fit reads it.
        ("lstm", {"test_fraction": 0.3}, {}, True),
        ("lstm", {}, {"seed": 7}, False),
        # Only the networks are built from the config; every fit is given the split, the interval's level and the seed.
        ("ridge", {"window": 60, "lstm_units": (64, 32), "epochs": 50}, {}, True),
        ("auto", {}, {"dropout": 0.5}, True),
        ("ridge", {}, {"validation_fraction": 0.2}, False),
        ("arima", {}, {"interval_level": 0.8}, False),
        ("auto", {"seed": 1}, {}, False),
    ],
)
def test_the_settings_compared_are_those_a_fit_of_the_type_reads(model_type, version, run, paired):
    view = view_of(run_of(model_type, **run))
    assert (view.walk_forward_of(version_of(model_type, **version)).run is not None) is paired


def test_settings_stored_before_a_field_existed_read_as_its_default():
    version = ModelVersion(ticker="^GSPC", version=1, model_type="lstm", parameters={})
    run = Evaluation(ticker="^GSPC", config={"training": {"model_type": "lstm"}}, metrics={})
    assert view_of(run).walk_forward_of(version).run is run
    assert view_of(run).walk_forward_of(version_of(window=60)).run is None


def test_a_version_whose_settings_this_app_cannot_read_is_paired_with_nothing():
    # A bundle from another deployment may carry settings this one does not know.
    version = ModelVersion(ticker="^GSPC", version=1, model_type="lstm", parameters={"lookback": 60})
    paired = view_of(run_of()).walk_forward_of(version)
    assert (paired.run, paired.config, paired.other_settings) == (None, None, 1)


def test_a_walk_forward_the_submit_would_refuse_is_said_to_be_refused_before_any_click():
    version = version_of("ridge")
    a_year = analysis.MetricsView(
        chart_template="", versions=[], evaluations=[], leaderboard=None, tickers=[], history_days={"^GSPC": 251}
    )
    refusal = a_year.walk_forward_of(version).refusal
    assert refusal is not None
    assert refusal.startswith("too little history for 10 windows of ")
    assert refusal.endswith("; ^GSPC has 251")
    twenty_years = analysis.MetricsView(
        chart_template="", versions=[], evaluations=[], leaderboard=None, tickers=[], history_days={"^GSPC": 5031}
    )
    assert twenty_years.walk_forward_of(version).refusal is None
    none = analysis.MetricsView(
        chart_template="", versions=[], evaluations=[], leaderboard=None, tickers=[], history_days={"^GSPC": 0}
    )
    assert none.walk_forward_of(version).refusal == "no prices of ^GSPC to run it on"
    assert view_of().walk_forward_of(version).refusal is None, "days not known: the submit says"
