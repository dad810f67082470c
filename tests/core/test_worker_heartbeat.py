"""A busy RQ worker beats while its job runs, so a killed one leaves the registry within WORKER_TTL_SECONDS + 60."""

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
from redis import Redis
from rq import Queue, Worker
from sqlalchemy.engine import URL

import core.worker
from common.config import PROJECT_ROOT
from core.jobs import RQ_JOB_TIMEOUT_SECONDS, runner_status
from core.worker import WORKER_TTL_SECONDS, TrainingWorker
from db.migrate import upgrade_to_head
from tests.process_state import reset_process_state

pytestmark = pytest.mark.redis


@pytest.fixture
def queue_name(redis_url, monkeypatch) -> str:
    name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TRAINING_QUEUE", name)
    reset_process_state()
    return name


def busy_worker(connection: Redis, queue_name: str, timeout: float = 120) -> Worker:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [w for w in Worker.all(queue=Queue(queue_name, connection=connection)) if w.get_state() == "busy"]
        if busy:
            return busy[0]
        time.sleep(0.2)
    raise AssertionError("no worker took the job")


def test_a_worker_killed_during_a_job_leaves_the_registry_within_three_minutes(redis_url, queue_name, tmp_path):
    # RQ set the key to live the job's timeout + 60 s (two hours) and a SimpleWorker never beat meanwhile: a
    # SIGKILLed worker counted as "1 worker listening (1 busy)" for two hours and `core check` passed.
    connection = Redis.from_url(redis_url)
    Queue(queue_name, connection=connection).enqueue("time.sleep", 600, job_timeout=RQ_JOB_TIMEOUT_SECONDS)
    database = URL.create("sqlite", database=str(tmp_path / "worker.db"))
    upgrade_to_head(database)  # a worker without its database refuses to start
    environment = {**os.environ, "DATABASE_URL": database.render_as_string(hide_password=False)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "core.worker"], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL
    )
    try:
        taken = busy_worker(connection, queue_name)
        assert runner_status().busy == 1
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert 0 < connection.ttl(taken.key) <= WORKER_TTL_SECONDS + 60


def test_a_busy_worker_goes_on_beating_while_its_job_runs(redis_url, queue_name, monkeypatch):
    monkeypatch.setattr(core.worker, "BUSY_BEAT_SECONDS", 0.2)
    connection = Redis.from_url(redis_url)
    Queue(queue_name, connection=connection).enqueue("time.sleep", 2, job_timeout=RQ_JOB_TIMEOUT_SECONDS)
    worker = TrainingWorker([queue_name], connection=connection, worker_ttl=WORKER_TTL_SECONDS)
    seen: list[tuple[bytes | None, int]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if connection.hget(worker.key, "state") == b"busy":
                seen.append((connection.hget(worker.key, "last_heartbeat"), connection.ttl(worker.key)))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        worker.work(burst=True, with_scheduler=False)
    finally:
        done.set()
        watcher.join()
    assert seen, "the worker was seen busy"
    assert len({beat for beat, _ in seen}) >= 3, "it beat several times during a two-second job"
    assert max(ttl for _, ttl in seen) <= WORKER_TTL_SECONDS + 60


def forget(connection: Redis, worker: Worker, job_id: str) -> None:
    """What a FLUSHDB or a restart of this Redis (it keeps nothing on disk) does to a worker and its job's execution."""
    from rq.worker_registration import unregister

    unregister(worker)
    executions = list(connection.scan_iter(match=f"rq:execution:{job_id}:*"))
    connection.delete(worker.key, worker.executions_key, *executions)


def test_a_busy_worker_redis_forgot_registers_again_busy_with_its_job(redis_url, queue_name, monkeypatch):
    # After a flush it came back idle: `core check` said "0 busy" while it trained, and it named no job.
    monkeypatch.setattr(core.worker, "BUSY_BEAT_SECONDS", 0.2)
    connection = Redis.from_url(redis_url)
    queued = Queue(queue_name, connection=connection).enqueue("time.sleep", 4, job_timeout=RQ_JOB_TIMEOUT_SECONDS)
    worker = TrainingWorker([queue_name], connection=connection, worker_ttl=WORKER_TTL_SECONDS)
    seen: list[tuple[str, str | None, int]] = []

    def forget_and_watch() -> None:
        busy_worker(connection, queue_name)
        forget(connection, worker, queued.id)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            listed = Worker.all(queue=Queue(queue_name, connection=connection))
            if listed and listed[0].get_state() == "busy":
                seen.append((listed[0].get_state(), listed[0].get_current_job_id(), runner_status().busy))
                return
            time.sleep(0.05)
        seen.extend((w.get_state(), w.get_current_job_id(), runner_status().busy) for w in listed)

    watcher = threading.Thread(target=forget_and_watch, daemon=True)
    watcher.start()
    worker.work(burst=True, with_scheduler=False)
    watcher.join()
    assert seen == [("busy", queued.id, 1)]
