"""Jobs of every kind run by the trainer on a real database: a ridge version, a leaderboard."""

import re

import pytest
from sqlalchemy.engine import URL

from core.data.service import import_prices, load_sample
from core.forecasting.trainer import TrainingRun
from core.forecasting.zoo import label
from db.engine import get_sessionmaker, session_scope
from db.migrate import upgrade_to_head
from db.models import Evaluation, ModelVersion, TrainingJob
from db.repositories.evaluations import list_evaluations
from tests.accounts import make_account
from tests.core.forecasting.tiny import tiny_config
from tests.fixtures import gspc_2018_bytes, never_moving_bytes

TICKER = "RUNSPX"


@pytest.fixture
def app_database(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "trainer.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker=TICKER, date_format=None, skip_bad_rows=False, owner=None
        )
    return url


def run(actor, kind: str, ticker: str = TICKER, **config) -> TrainingJob:
    with session_scope() as session:
        row = TrainingJob(user_id=actor.user_id, ticker=ticker, kind=kind, config=tiny_config(**config).model_dump())
        session.add(row)
        session.flush()
        job_id = row.id
    TrainingRun(job_id, get_sessionmaker()).run()
    with session_scope() as session:
        return session.get(TrainingJob, job_id)


def test_a_ridge_job_stores_a_ridge_version_with_an_honest_verdict(app_database):
    actor = make_account(app_database)
    finished = run(actor, "train", model_type="ridge")
    assert finished.status == "succeeded", finished.error
    with session_scope() as session:
        version = session.get(ModelVersion, finished.model_version_id)
        assert version.model_type == "ridge"
        assert "dm_pvalue" in version.metrics
        assert finished.message == f"v1: {version.metrics['verdict']}"


def test_a_price_that_never_moves_trains_with_no_mase_rather_than_failing(app_database):
    # Persistence is exact on such a series, so MASE divides by zero: it has no value, and says so.
    with session_scope() as session:
        import_prices(
            session=session, data=never_moving_bytes(), ticker="PEG", date_format=None, skip_bad_rows=False, owner=None
        )
    actor = make_account(app_database)
    finished = run(actor, "train", ticker="PEG", model_type="ridge")
    assert finished.status == "succeeded", finished.error
    assert finished.message == "v1: the same forecast as tomorrow = today"
    with session_scope() as session:
        version = session.get(ModelVersion, finished.model_version_id)
        assert (version.metrics["mae"], version.metrics["mase"]) == (0.0, None)


@pytest.mark.parametrize("kind", ["train", "walkforward", "leaderboard"])
def test_a_job_whose_result_cannot_be_saved_ends_failed_at_once(app_database, monkeypatch, kind):
    # Not left "running" until the reaper notices: the page says what went wrong as soon as it did.
    from core.forecasting import trainer

    def refuse(**_):
        raise OSError("disk full")

    monkeypatch.setattr(trainer, "save_version", refuse)
    monkeypatch.setattr(trainer, "add_evaluation", refuse)
    actor = make_account(app_database)
    with session_scope() as session:
        load_sample(session=session, actor=None)  # a walk-forward needs more than the one year of TICKER
        walkforward = {"walkforward": {"windows": 1, "step": 10}} if kind == "walkforward" else {}
        config = tiny_config(model_type="drift").model_dump() | walkforward
        ticker = "^GSPC" if kind == "walkforward" else TICKER
        row = TrainingJob(user_id=actor.user_id, ticker=ticker, kind=kind, config=config)
        session.add(row)
        session.flush()
        job_id = row.id
    assert TrainingRun(job_id, get_sessionmaker()).run() == "failed"
    with session_scope() as session:
        job = session.get(TrainingJob, job_id)
        assert (job.status, job.error) == ("failed", "OSError: disk full")
        assert job.finished_at is not None
        assert session.query(ModelVersion).count() == 0


def test_a_leaderboard_job_stores_every_type_sorted_by_validation(app_database):
    actor = make_account(app_database)
    finished = run(actor, "leaderboard", model_type="auto", epochs=1)
    assert finished.status == "succeeded", finished.error
    with session_scope() as session:
        (board,) = list_evaluations(session=session, actor=actor, kind="leaderboard")
        assert list_evaluations(session=session, actor=actor) == []  # walk-forward lists stay walk-forwards
        models = board.metrics["models"]
        assert {m["kind"] for m in models} >= {"persistence", "ridge", "auto", "lstm"}
        assert [m["validation_mase"] for m in models] == sorted(m["validation_mase"] for m in models)
        best = label(models[0]["kind"])
        assert finished.message == f"leaderboard of {len(models)} model types: best on validation {best}"
        assert session.query(Evaluation).count() == 1


@pytest.mark.parametrize(
    ("kind", "model_type", "saying"),
    [
        ("train", "lstm", "training: LSTM (Keras), 251 days (TensorFlow loads first)"),
        ("train", "ridge", "training: ridge on 20 lagged returns + volatility, 251 days"),
        ("walkforward", "median", "walk-forward: median drift, 251 days"),
        ("leaderboard", "auto", "leaderboard: every model type, 251 days (TensorFlow loads first)"),
    ],
)
def test_a_job_says_what_it_is_doing_once_its_prices_are_read(app_database, monkeypatch, kind, model_type, saying):
    # "loading prices" stood on the Train page through TensorFlow's import and the whole fit.
    from core.forecasting import engine, trainer, walkforward

    seen = []

    def message() -> None:
        with session_scope() as session:
            seen.append(session.get(TrainingJob, job_id).message)

    def stop(*_args, **_kwargs):
        message()
        raise RuntimeError("seen enough")

    for module, name in ((trainer, "train_model"), (walkforward, "walk_forward"), (engine, "leaderboard")):
        monkeypatch.setattr(module, name, stop)
    actor = make_account(app_database)
    with session_scope() as session:
        row = TrainingJob(
            user_id=actor.user_id, ticker=TICKER, kind=kind, config=tiny_config(model_type=model_type).model_dump()
        )
        session.add(row)
        session.flush()
        job_id = row.id
    TrainingRun(job_id, get_sessionmaker()).run()
    assert seen == [saying]


def test_a_network_too_large_to_load_fails_its_job_and_is_never_saved(app_database, monkeypatch):
    # The reader refuses bundles beyond its limit, so storing one would leave an active version that never loads.
    from core.forecasting import artifacts

    monkeypatch.setattr(artifacts, "MAX_BUNDLE_BYTES", 1000)
    actor = make_account(app_database)
    finished = run(actor, "train", model_type="lstm", lstm_units=[4, 4])
    assert finished.status == "failed"
    assert finished.model_version_id is None
    assert re.fullmatch(
        r"the trained lstm model's file is [\d,]+ bytes, more than the 1,000 bytes a model file may be, so it "
        r"could never be loaded: train it with fewer layers or fewer units \(lstm_units, dense_units\)",
        finished.error,
    ), finished.error
    with session_scope() as session:
        assert session.query(ModelVersion).count() == 0
