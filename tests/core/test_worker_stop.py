"""A job whose worker is stopped by force, or loses its database, ends failed saying so, not running for minutes."""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from rq.job import Job
from rq.job import JobStatus as RQStatus
from sqlalchemy.orm import sessionmaker

from common.config import PROJECT_ROOT, load_settings
from core.data.service import import_prices
from core.forecasting import trainer
from core.jobs import cancel_job, list_jobs, reap_stale_jobs
from core.redis_client import require_redis
from core.worker import TrainingWorker
from db.engine import create_engine_from_settings, session_scope
from db.models import TrainingJob
from db.models.forecasting import JobStatus
from db.types import utc_now
from tests.accounts import make_account
from tests.core.test_jobs import TICKER, job, open_job, queue, use_env
from tests.fixtures import gspc_2018_bytes
from tests.security.tcp_proxy import FreezableProxy

pytestmark = pytest.mark.redis

WORKER_STOPPED = "the worker was stopped before the job finished"

# A worker whose fit lasts ten minutes whatever the machine: the test stops it long before.
LONG_FIT_WORKER = """
import sys, time
from core.forecasting import trainer
trainer.train_model = lambda *args, **kwargs: time.sleep(600)
from core.worker import main
sys.exit(main())
"""


def wait_until_running(job_id, worker: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and worker.poll() is None:
        if job(job_id).status == JobStatus.RUNNING.value:
            return
        time.sleep(0.2)
    raise AssertionError(f"the worker never ran job {job_id}: {job(job_id).status}, exit {worker.poll()}")


def test_a_job_whose_worker_is_stopped_by_force_ends_failed_saying_so(app_database, redis_url, monkeypatch):
    # A second SIGTERM makes RQ raise SystemExit inside the job: RQ recorded it failed, our row stayed
    # "running" until the heartbeat rule failed it five minutes later.
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=queue_name)
    actor = make_account(app_database)
    (job_id,) = queue(actor, model_type="median")
    worker = subprocess.Popen(
        [sys.executable, "-c", LONG_FIT_WORKER], cwd=PROJECT_ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL
    )
    try:
        wait_until_running(job_id, worker)
        worker.send_signal(signal.SIGTERM)  # warm: "stopping after the current job"
        time.sleep(1.5)  # RQ ignores a second signal within a second of the first
        worker.send_signal(signal.SIGTERM)  # cold: SystemExit in the job
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    ended = job(job_id)
    assert (ended.status, ended.error, ended.message) == ("failed", WORKER_STOPPED, WORKER_STOPPED)
    assert ended.finished_at is not None
    assert Job.fetch(f"candlecast-{job_id}", connection=require_redis()).get_status() == RQStatus.FAILED


def running_job_rq_failed(actor, crash: str):
    """A job a worker took (its row running, its heartbeat fresh) whose RQ entry says it failed with `crash`."""
    from rq.results import Result

    (job_id,) = queue(actor, model_type="median")
    with session_scope() as session:
        row = session.get(TrainingJob, job_id)
        row.status = JobStatus.RUNNING.value
        row.started_at = row.heartbeat_at = utc_now()
    queued = Job.fetch(f"candlecast-{job_id}", connection=require_redis())
    Result.create_failure(queued, 600, exc_string=f"Traceback (most recent call last):\n  ...\n{crash}")
    queued.set_status(RQStatus.FAILED)
    return job_id


def test_a_running_job_rq_recorded_failed_is_failed_in_the_workers_words(app_database, queued_jobs):
    # Its heartbeat is fresh: only RQ knows its worker failed (the job could not write its own ending).
    actor = make_account(app_database)
    job_id = running_job_rq_failed(actor, "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) gone")
    with session_scope() as session:
        assert cancel_job(session=session, actor=actor, job_id=job_id).status == "running"
    with session_scope() as session:
        (listed,) = list_jobs(session=session, actor=actor)
        failed = (listed.status, listed.error)
    assert failed == ("failed", "the worker failed: OperationalError (its log has the details)")
    with session_scope() as session:
        assert cancel_job(session=session, actor=actor, job_id=job_id).status == "failed", "no cancelling for ever"


def test_a_running_job_whose_worker_rq_recorded_stopped_says_the_worker_was_stopped(app_database, queued_jobs):
    actor = make_account(app_database)
    job_id = running_job_rq_failed(actor, "SystemExit")
    with session_scope() as session:
        (listed,) = list_jobs(session=session, actor=actor)
        assert (listed.id, listed.status, listed.error) == (job_id, "failed", WORKER_STOPPED)


def test_a_running_job_rq_still_runs_or_lost_is_left_to_its_heartbeat(app_database, queued_jobs):
    # A flushed Redis loses RQ's entry, not the worker, which goes on beating and saves its result.
    actor = make_account(app_database)
    running = open_job(actor, model_type="median")
    lost = open_job(actor, model_type="median")
    with session_scope() as session:
        session.get(TrainingJob, running).queue_job_id = f"rq:candlecast-{running}"
        session.get(TrainingJob, lost).queue_job_id = f"rq:candlecast-{uuid.uuid4()}"
    taken = Job.create("os.getpid", id=f"candlecast-{running}", connection=require_redis())
    taken.started_at = utc_now() - timedelta(hours=1)  # a queued row would be failed: its worker never began it
    taken.save()
    taken.set_status(RQStatus.STARTED)
    with session_scope() as session:
        assert reap_stale_jobs(session=session, actor=actor) == 0
    assert [job(job_id).status for job_id in (running, lost)] == ["running", "running"]


@pytest.mark.postgres
def test_a_job_whose_database_went_away_is_failed_once_rq_has_recorded_it(
    postgres_database_url, redis_url, monkeypatch
):
    # Its runner could write neither its progress nor its ending: "running" for five minutes, and a cancel
    # meanwhile said "cancelling at the end of this epoch".
    proxy = FreezableProxy((postgres_database_url.host, postgres_database_url.port or 5432))
    through_proxy = postgres_database_url.set(host="127.0.0.1", port=proxy.port)
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(
        monkeypatch,
        DATABASE_URL=through_proxy.render_as_string(hide_password=False),
        REDIS_URL=redis_url,
        TRAINING_QUEUE=queue_name,
    )
    direct_engine = create_engine_from_settings(load_settings(), postgres_database_url)
    direct = sessionmaker(bind=direct_engine, expire_on_commit=False)
    try:
        with session_scope(direct) as session:
            import_prices(
                session=session,
                data=gspc_2018_bytes(),
                ticker=TICKER,
                date_format=None,
                skip_bad_rows=False,
                owner=None,
            )
        actor = make_account(postgres_database_url)
        (job_id,) = queue(actor, model_type="median")

        def fit(*args, on_heartbeat, **kwargs):
            proxy.stop()  # the database goes away during the fit, and stays away
            on_heartbeat()

        monkeypatch.setattr(trainer, "train_model", fit)
        TrainingWorker([queue_name], connection=require_redis()).work(burst=True, with_scheduler=False)
        with session_scope(direct) as session:
            assert session.get(TrainingJob, job_id).status == "running", "its runner could not say how it ended"
            listed = [found for found in list_jobs(session=session, actor=actor) if found.id == job_id]
            assert [(found.status, found.error) for found in listed] == [
                ("failed", "the worker failed: OperationalError (its log has the details)")
            ]
    finally:
        proxy.stop()
        direct_engine.dispose()
