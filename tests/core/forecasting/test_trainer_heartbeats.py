"""Walk-forward and leaderboard jobs beat, report progress and stop when cancelled while their models fit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from core.data.sample import sample_bytes
from core.data.service import import_prices
from core.forecasting import engine, walkforward
from core.forecasting.engine import LEADERBOARD_KINDS
from core.forecasting.trainer import TrainingRun
from core.services import models
from db.engine import get_sessionmaker, session_scope
from db.models import Evaluation, TrainingJob
from tests.accounts import make_account
from tests.core.forecasting.tiny import tiny_config
from tests.core.test_jobs import job
from tests.fixtures import gspc_2018_bytes

pytestmark = pytest.mark.postgres

YEAR = "BEATSPX"  # 251 days: enough for a leaderboard
SHORT = "BEATWF"  # 300 days: enough for a walk-forward of two 10-day windows
WALK = {"windows": 2, "step": 10}


@pytest.fixture
def app_database(postgres_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_database_url.render_as_string(hide_password=False))
    header, *days = sample_bytes().splitlines()
    with session_scope() as session:
        for ticker, data in ((YEAR, gspc_2018_bytes()), (SHORT, b"\n".join([header, *days[-300:]]))):
            import_prices(session=session, data=data, ticker=ticker, date_format=None, skip_bad_rows=False, owner=None)
    return postgres_database_url


def queued_job(actor, kind: str, ticker: str, walk: dict | None = None, **config) -> uuid.UUID:
    with session_scope() as session:
        stored = tiny_config(**config).model_dump(mode="json") | ({"walkforward": walk} if walk else {})
        row = TrainingJob(user_id=actor.user_id, ticker=ticker, kind=kind, config=stored)
        session.add(row)
        session.flush()
        return row.id


def run(job_id) -> str:
    return TrainingRun(job_id, get_sessionmaker()).run()


@pytest.fixture
def heartbeat_writes(app_database) -> Iterator[list[str]]:
    """The UPDATE statements that set a job's heartbeat, as the database receives them."""
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith("UPDATE training_jobs") and "heartbeat_at" in statement:
            statements.append(statement)

    bind = get_sessionmaker().kw["bind"]
    event.listen(bind, "before_cursor_execute", seen)
    yield statements
    event.remove(bind, "before_cursor_execute", seen)


def test_a_walk_forward_beats_at_each_epoch_of_a_window_fit(app_database, heartbeat_writes, monkeypatch):
    # A window of a larger network outlasts the reaper's five minutes: the job must beat while it fits.
    actor = make_account(app_database)
    job_id = queued_job(actor, "walkforward", SHORT, WALK, model_type="lstm", epochs=3, patience=3)
    statements = heartbeat_writes
    fit, beats_per_fit = walkforward.fit, []

    def counted_fit(*args, **kwargs):
        before = len(statements)
        fitted = fit(*args, **kwargs)
        beats_per_fit.append(len(statements) - before)
        return fitted

    monkeypatch.setattr(walkforward, "fit", counted_fit)
    assert run(job_id) == "succeeded", job(job_id).error
    assert len(beats_per_fit) == 2
    assert min(beats_per_fit) >= 3, "a heartbeat after every epoch of each window"


def test_a_walk_forward_cancelled_while_a_window_fits_stops_at_the_next_epoch(app_database, monkeypatch):
    actor = make_account(app_database)
    job_id = queued_job(actor, "walkforward", SHORT, WALK, model_type="lstm", epochs=4, patience=4)
    fit, fitted = walkforward.fit, []

    def fit_cancelled_as_it_starts(forecaster, *args, **kwargs):
        fitted.append(forecaster)
        assert models.cancel_job(actor, job_id).cancel_requested
        return fit(forecaster, *args, **kwargs)

    monkeypatch.setattr(walkforward, "fit", fit_cancelled_as_it_starts)
    assert run(job_id) == "cancelled"
    assert len(fitted) == 1
    assert fitted[0].model.history.epoch == [0], "the network stopped after its first epoch, not its last"
    finished = job(job_id)
    assert (finished.status, finished.message) == ("cancelled", "cancelled before window 1 of 2 was done")
    with session_scope() as session:
        assert session.scalars(select(Evaluation.id).where(Evaluation.user_id == actor.user_id)).all() == []


def test_a_leaderboard_reports_each_model_type_done_and_beats_while_the_network_fits(
    app_database, heartbeat_writes, monkeypatch
):
    actor = make_account(app_database)
    job_id = queued_job(actor, "leaderboard", YEAR, model_type="auto", epochs=3, patience=3)
    statements = heartbeat_writes
    evaluate, seen, network_beats = engine.evaluate, [], []

    def evaluate_after_reading_the_row(kind, *args, **kwargs):
        row = job(job_id)
        seen.append((row.progress, row.message))
        before = len(statements)
        result = evaluate(kind, *args, **kwargs)
        if kind == "lstm":
            network_beats.append(len(statements) - before)
        return result

    monkeypatch.setattr(engine, "evaluate", evaluate_after_reading_the_row)
    assert run(job_id) == "succeeded", job(job_id).error
    total = len(LEADERBOARD_KINDS)
    assert [progress for progress, _ in seen] == pytest.approx([done / total for done in range(total)])
    assert [message for _, message in seen[1:3]] == [f"1 of {total} model types done", f"2 of {total} model types done"]
    assert network_beats[0] >= 3, "a heartbeat after every epoch of the network"
    assert job(job_id).progress == 1.0


def test_a_leaderboard_cancelled_while_the_network_fits_stops_at_the_next_epoch(app_database, monkeypatch):
    actor = make_account(app_database)
    job_id = queued_job(actor, "leaderboard", YEAR, model_type="auto", epochs=4, patience=4)
    fit, fitted = engine.fit, []

    def fit_cancelled_if_a_network(forecaster, *args, **kwargs):
        if forecaster.kind == "lstm":
            fitted.append(forecaster)
            models.cancel_job(actor, job_id)
        return fit(forecaster, *args, **kwargs)

    monkeypatch.setattr(engine, "fit", fit_cancelled_if_a_network)
    assert run(job_id) == "cancelled"
    assert fitted[0].model.history.epoch == [0], "the network stopped after its first epoch, not its last"
    total = len(LEADERBOARD_KINDS)
    assert job(job_id).message == f"cancelled after {total - 1} of {total} model types"
