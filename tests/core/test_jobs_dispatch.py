"""A job whose hand-over hits a database error still runs, or is failed saying why; never queued for ever."""

import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import create_engine

from core.jobs import DISPATCH_GRACE, NEVER_DISPATCHED
from core.services import models
from db.engine import session_scope
from db.models import TrainingJob
from db.models.forecasting import JobStatus
from db.types import utc_now
from tests.accounts import make_account
from tests.core.test_jobs import job, queue, use_env, wait_for

REFUSE_MARKERS = {
    "sqlite": [
        "CREATE TRIGGER refuse_markers BEFORE UPDATE OF queue_job_id ON training_jobs"
        " WHEN OLD.queue_job_id IS NULL AND NEW.queue_job_id IS NOT NULL BEGIN SELECT RAISE(ABORT, 'no'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_markers() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_markers BEFORE UPDATE OF queue_job_id ON training_jobs FOR EACH ROW"
        " WHEN (OLD.queue_job_id IS NULL AND NEW.queue_job_id IS NOT NULL) EXECUTE FUNCTION refuse_markers()",
    ],
}
ALLOW_MARKERS = {
    "sqlite": ["DROP TRIGGER refuse_markers"],
    "postgresql": ["DROP TRIGGER refuse_markers ON training_jobs", "DROP FUNCTION refuse_markers()"],
}


def run_statements(url, statements) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements[url.get_backend_name()]:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def test_a_job_whose_marker_cannot_be_written_still_runs(app_database):
    # dispatch wrote the marker first and put the job on the runner's queue only afterwards: a database error in
    # between left the job queued for ever, its quota used, and the Train panel refreshing.
    actor = make_account(app_database)
    run_statements(app_database, REFUSE_MARKERS)
    try:
        (job_id,) = queue(actor, model_type="median")
        finished = wait_for(job_id, timeout=120)
    finally:
        run_statements(app_database, ALLOW_MARKERS)
    assert finished.status == "succeeded", finished.error


def add_queued(actor, *, age: timedelta, marker: str | None = None) -> uuid.UUID:
    with session_scope() as session:
        row = TrainingJob(
            user_id=actor.user_id,
            ticker="JOBSPX",
            status=JobStatus.QUEUED.value,
            config={},
            queue_job_id=marker,
            created_at=utc_now() - age,
        )
        session.add(row)
        session.flush()
        return row.id


def test_a_queued_job_never_handed_to_a_runner_is_failed_after_a_grace(app_database):
    actor = make_account(app_database)
    lost = add_queued(actor, age=DISPATCH_GRACE + timedelta(seconds=1))
    fresh = add_queued(actor, age=timedelta(seconds=1))  # committed, and being handed over now
    models.list_jobs(actor)
    assert (job(lost).status, job(lost).error) == ("failed", NEVER_DISPATCHED)
    assert (job(fresh).status, job(fresh).error) == ("queued", None)


@pytest.mark.redis
def test_with_redis_a_job_without_its_marker_is_judged_by_the_queue(app_database, monkeypatch, redis_url):
    # RQ took it (its id is known: candlecast-<job id>), and then the marker's write failed: a worker runs it.
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=queue_name)
    actor = make_account(app_database)
    taken = add_queued(actor, age=DISPATCH_GRACE + timedelta(seconds=1))
    Queue(queue_name, connection=Redis.from_url(redis_url)).enqueue(
        "core.jobs.run_job", str(taken), None, job_id=f"candlecast-{taken}"
    )
    lost = add_queued(actor, age=DISPATCH_GRACE + timedelta(seconds=1))
    models.list_jobs(actor)
    assert (job(taken).status, job(taken).error) == ("queued", None)
    assert job(lost).status == "failed"
    assert job(lost).error.startswith("the queue lost this job")


def test_a_job_without_its_marker_waiting_in_this_apps_runner_is_not_failed(app_database):
    # Behind a long job, it waits longer than the grace: the runner holds it, and it runs in its turn.
    actor = make_account(app_database)
    run_statements(app_database, REFUSE_MARKERS)
    try:
        (first,) = queue(actor, epochs=500, patience=100)
        (second,) = queue(actor, model_type="median")
        with session_scope() as session:
            session.get(TrainingJob, second).created_at = utc_now() - DISPATCH_GRACE - timedelta(seconds=1)
        models.list_jobs(actor)
        assert (job(second).status, job(second).queue_job_id) == ("queued", None)
        models.cancel_job(actor, first)
        assert wait_for(first, timeout=120).status == "cancelled"
        assert wait_for(second, timeout=120).status == "succeeded"
    finally:
        run_statements(app_database, ALLOW_MARKERS)
