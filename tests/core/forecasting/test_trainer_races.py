"""A job's runner writing while a cancel or the reaper commits at the same moment, on PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core.data.service import import_prices
from core.forecasting import trainer
from core.forecasting.trainer import TrainingRun
from core.jobs import CANCELLING_EPOCH, STALE_AFTER, cancel_job, reap_stale_jobs
from core.services import models
from db.engine import get_sessionmaker, session_scope
from db.models import ModelVersion, TrainingJob
from db.models.forecasting import JobStatus
from db.types import utc_now
from tests.accounts import make_account
from tests.core.forecasting.tiny import tiny_config
from tests.core.test_jobs import job
from tests.fixtures import gspc_2018_bytes

pytestmark = pytest.mark.postgres

TICKER = "RACESPX"


@pytest.fixture
def app_database(postgres_database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_database_url.render_as_string(hide_password=False))
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker=TICKER, date_format=None, skip_bad_rows=False, owner=None
        )
    return postgres_database_url


def new_job(actor, status: JobStatus, **config) -> uuid.UUID:
    with session_scope() as session:
        row = TrainingJob(
            user_id=actor.user_id,
            ticker=TICKER,
            kind="train",
            status=status.value,
            progress=0.0,
            config=tiny_config(**config).model_dump(mode="json"),
        )
        if status == JobStatus.RUNNING:
            row.started_at = row.heartbeat_at = utc_now()
        session.add(row)
        session.flush()
        return row.id


def until_it_waits_for_a_lock_or_ends(thread: threading.Thread) -> None:
    """Without this the other transaction might start only after ours committed, and never race it."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and thread.is_alive():
        with session_scope(read_only=True) as probe:
            if probe.scalar(waiting):
                return
        time.sleep(0.02)
    assert not thread.is_alive(), "the other transaction neither waited nor finished"


def test_a_job_cancelled_while_its_runner_starts_it_is_not_revived_and_saves_nothing(app_database, monkeypatch):
    actor = make_account(app_database)
    job_id = new_job(actor, JobStatus.QUEUED, model_type="median")
    answers = []
    cancel = threading.Thread(target=lambda: answers.append(models.cancel_job(actor, job_id)))
    read_user = trainer.get_user

    def get_user_as_cancel_is_pressed(**kwargs):
        # The runner has read the queued row and not yet committed "running".
        cancel.start()
        until_it_waits_for_a_lock_or_ends(cancel)
        return read_user(**kwargs)

    monkeypatch.setattr(trainer, "get_user", get_user_as_cancel_is_pressed)
    outcome = TrainingRun(job_id, get_sessionmaker()).run()
    cancel.join(timeout=30)
    finished = job(job_id)
    assert (outcome, finished.status, finished.model_version_id) == ("cancelled", "cancelled", None)
    with session_scope() as session:
        assert session.scalars(select(ModelVersion.id).where(ModelVersion.user_id == actor.user_id)).all() == []
    assert (answers[0].status, answers[0].cancel_requested) == ("running", True), "the cancel waited for the start"


def reap(session, actor, job_id) -> None:
    session.get(TrainingJob, job_id).heartbeat_at = utc_now() - STALE_AFTER - timedelta(seconds=1)
    session.flush()
    assert reap_stale_jobs(session=session, job_id=job_id) == 1


def cancel(session, actor, job_id) -> None:
    assert cancel_job(session=session, actor=actor, job_id=job_id).message == CANCELLING_EPOCH


def progress_writes(run: TrainingRun) -> dict[str, Callable[[], None]]:
    run._kind = "train"
    return {
        "epoch": lambda: run._epoch(1, 2, 0.5, 0.4),
        "window": lambda: run._window(1, 2),
        "model type": lambda: run._model_type_done(1, 9),
        "what it does": lambda: run._say_what(tiny_config(), 251),
        "heartbeat": run._heartbeat,
    }


@pytest.mark.parametrize("write", ["epoch", "window", "model type", "what it does", "heartbeat"])
@pytest.mark.parametrize("closer", [reap, cancel])
def test_progress_written_as_the_job_is_reaped_or_cancelled_leaves_their_word(app_database, write, closer):
    # The runner's progress write read the row before their commit: it must wait for it and read the row again.
    actor = make_account(app_database)
    job_id = new_job(actor, JobStatus.RUNNING, model_type="lstm")
    writer = threading.Thread(target=progress_writes(TrainingRun(job_id, get_sessionmaker()))[write])
    with session_scope() as session:
        closer(session, actor, job_id)
        row = session.get(TrainingJob, job_id)
        closed = (row.status, row.message, row.progress, row.heartbeat_at, row.history)
        writer.start()
        until_it_waits_for_a_lock_or_ends(writer)
    writer.join(timeout=30)
    finished = job(job_id)
    if closer is reap:  # closed: nothing of the runner's is written after the reaper's ending
        assert (finished.status, finished.message, finished.progress, finished.heartbeat_at, finished.history) == closed
    else:  # still running until the next boundary: progress is written, the cancel's word stays on the page
        assert (finished.status, finished.message, finished.cancel_requested) == ("running", CANCELLING_EPOCH, True)
