"""The job processes: an RQ worker needs Redis and says so; a local job process dies with the app."""

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from redis import Redis
from rq import Queue, Worker
from sqlalchemy.engine import URL

from common.config import PROJECT_ROOT
from core.data.service import import_prices
from core.jobs import list_jobs
from core.worker import JOB_NICENESS, main
from db.engine import session_scope
from db.migrate import upgrade_to_head
from db.models import TrainingJob
from tests.accounts import make_account
from tests.core.forecasting.tiny import tiny_config
from tests.fixtures import gspc_2018_bytes


def test_refuses_to_start_without_redis(capsys):
    assert main(["--burst"]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err


def test_reports_unreachable_redis(monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["--burst"]) == 1
    assert "does not answer" in capsys.readouterr().err


def migrated_sqlite(folder) -> str:
    url = URL.create("sqlite", database=str(folder / "worker.db"))
    upgrade_to_head(url)
    return url.render_as_string(hide_password=False)


@pytest.mark.redis
def test_a_burst_worker_runs_the_queued_jobs_below_the_app_and_exits(redis_url, tmp_path):
    # In a process of its own: the worker lowers its priority for good, which must not slow the tests.
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    queued = Queue(queue_name, connection=Redis.from_url(redis_url)).enqueue("os.getpriority", os.PRIO_PROCESS, 0)
    environment = {
        **os.environ,
        "REDIS_URL": redis_url,
        "TRAINING_QUEUE": queue_name,
        "DATABASE_URL": migrated_sqlite(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "core.worker", "--burst"], cwd=PROJECT_ROOT, env=environment, timeout=120
    )
    assert done.returncode == 0
    queued.refresh()
    assert queued.is_finished
    assert queued.return_value() == min(os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS, 19)


def start_worker(redis_url: str, queue_name: str, database_url: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "REDIS_URL": redis_url, "TRAINING_QUEUE": queue_name, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "core.worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.redis
def test_a_worker_that_cannot_reach_its_database_refuses_to_start_without_showing_the_password(redis_url):
    # It started, counted as a listening worker, and failed every job it took with OperationalError.
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    finished = start_worker(redis_url, queue_name, "postgresql://candlecast:s3cret-word@127.0.0.1:1/candlecast")
    assert finished.returncode == 1
    (line,) = finished.stderr.strip().splitlines()
    assert line.startswith("error: DATABASE_URL postgresql+psycopg2://candlecast:***@127.0.0.1:1/candlecast: ")
    assert ": database unreachable: OperationalError: " in line
    assert "s3cret-word" not in finished.stdout + finished.stderr
    assert not Worker.all(queue=Queue(queue_name, connection=Redis.from_url(redis_url))), "never registered"


@pytest.mark.redis
def test_a_worker_on_a_database_without_its_schema_says_how_to_set_it_up(redis_url, tmp_path):
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    empty = URL.create("sqlite", database=str(tmp_path / "empty.db")).render_as_string(hide_password=False)
    finished = start_worker(redis_url, queue_name, empty)
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines() == [
        f"error: DATABASE_URL {empty}: database has no schema yet: run `python -m db setup`"
    ]


@pytest.mark.redis
def test_a_worker_on_a_database_behind_the_code_says_to_migrate(redis_url, tmp_path):
    from sqlalchemy import create_engine, text

    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    database = migrated_sqlite(tmp_path)
    engine = create_engine(database)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    engine.dispose()
    finished = start_worker(redis_url, queue_name, database)
    assert finished.returncode == 1
    (line,) = finished.stderr.strip().splitlines()
    assert line.startswith(f"error: DATABASE_URL {database}: database is at revision 0001, code expects ")
    assert line.endswith(": run `python -m db setup`")


def test_a_job_process_stops_when_the_app_that_started_it_is_gone(tmp_path, monkeypatch):
    url = URL.create("sqlite", database=str(tmp_path / "orphan.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    actor = make_account(url)
    with session_scope() as session:
        prices = gspc_2018_bytes()
        import_prices(session=session, data=prices, ticker="SPX", date_format=None, skip_bad_rows=False, owner=None)
        config = tiny_config(epochs=500, patience=100).model_dump(mode="json")
        row = TrainingJob(user_id=actor.user_id, ticker="SPX", config=config)
        session.add(row)
        session.flush()
        job_id = row.id
    app = subprocess.Popen(
        [sys.executable, "-c", STAND_IN_APP, str(job_id)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    child = int(app.stdout.readline())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and status_of(job_id) != "running":
        time.sleep(0.2)
    assert status_of(job_id) == "running"
    app.kill()
    app.wait()
    with session_scope() as session:
        session.get(TrainingJob, job_id).queue_job_id = f"local:{socket.gethostname()}:{app.pid}:{child}"
    assert gone_within(child, seconds=30), "the orphaned training process stopped by itself"
    with session_scope() as session:
        (listed,) = list_jobs(session=session, actor=actor)
        assert (listed.status, listed.error) == ("failed", "the app restarted before this job finished")


# Starts one job process as the app does, says its pid, and waits: killing it orphans the job process.
STAND_IN_APP = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "core.worker", "--job", sys.argv[1]])
print(child.pid, flush=True)
child.wait()
"""


def status_of(job_id) -> str:
    with session_scope() as session:
        return session.get(TrainingJob, job_id).status


def gone_within(pid: int, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
def test_a_worker_redis_forgot_registers_again_on_its_next_heartbeat(redis_url, monkeypatch):
    # This Redis keeps nothing on disk: after a restart the Train page said no worker listened, while one did.
    from rq.worker_registration import unregister

    from core.jobs import runner_status
    from core.worker import TrainingWorker
    from tests.process_state import reset_process_state

    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TRAINING_QUEUE", queue_name)
    reset_process_state()
    connection = Redis.from_url(redis_url)
    worker = TrainingWorker([queue_name], connection=connection)
    worker.register_birth()
    try:
        assert runner_status().workers == 1
        born = connection.hget(worker.key, "birth")
        worker.heartbeat()
        assert connection.hget(worker.key, "birth") == born, "a worker Redis remembers is left as it is"
        unregister(worker)
        connection.delete(worker.key)  # what a restart or a flush does to it
        assert runner_status().workers == 0
        worker.heartbeat()
        assert runner_status().workers == 1
    finally:
        worker.register_death()


@pytest.mark.redis
def test_a_job_whose_worker_died_before_starting_it_is_failed(tmp_path, redis_url, monkeypatch):
    # RQ marks the job started when its worker takes it; the worker then marks our row running in
    # one transaction. Killed in between, it left the row queued for RQ's two-hour timeout.
    import sqlite3
    from datetime import timedelta

    from rq.job import Job

    import core.jobs
    from common.config import get_settings
    from core.forecasting.config import TrainingConfig
    from core.jobs import queue_training
    from core.throttle import get_throttle
    from tests.process_state import reset_process_state

    database = tmp_path / "killed.db"
    url = URL.create("sqlite", database=str(database))
    upgrade_to_head(url)
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    for name, value in (
        ("DATABASE_URL", url.render_as_string(hide_password=False)),
        ("REDIS_URL", redis_url),
        ("TRAINING_QUEUE", queue_name),
    ):
        monkeypatch.setenv(name, value)
    reset_process_state()
    actor = make_account(url)
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker="SPX", date_format=None, skip_bad_rows=False, owner=None
        )
    (job_id,) = queue_training(
        actor=actor,
        tickers=["SPX"],
        config=TrainingConfig(model_type="median"),
        settings=get_settings(),
        throttle=get_throttle(),
    )
    # Holding the write lock keeps the worker inside its first transaction, where it is killed.
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    worker = subprocess.Popen([sys.executable, "-m", "core.worker"], cwd=PROJECT_ROOT, env=dict(os.environ))
    try:
        rq_job = Job.fetch(f"candlecast-{job_id}", connection=Redis.from_url(redis_url))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and rq_job.get_status(refresh=True) != "started":
            time.sleep(0.2)
        assert rq_job.get_status(refresh=True) == "started"
    finally:
        worker.kill()
        worker.wait()
        holder.execute("ROLLBACK")
        holder.close()
    assert status_of(job_id) == "queued"
    with session_scope() as session:
        list_jobs(session=session, actor=actor)
    assert status_of(job_id) == "queued", "a worker may take a moment between RQ's start and ours"
    monkeypatch.setattr(core.jobs, "STALE_AFTER", timedelta(seconds=1))
    time.sleep(1.5)
    with session_scope() as session:
        (listed,) = list_jobs(session=session, actor=actor)
    assert listed.status == "failed"
    assert listed.error.startswith("the worker stopped before the job began (the queue gave it to a worker at ")
