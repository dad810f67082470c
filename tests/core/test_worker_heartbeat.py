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

import core.worker
from common.config import PROJECT_ROOT
from core.jobs import RQ_JOB_TIMEOUT_SECONDS, runner_status
from core.worker import WORKER_TTL_SECONDS, TrainingWorker
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


def test_a_worker_killed_during_a_job_leaves_the_registry_within_three_minutes(redis_url, queue_name):
    # RQ set the key to live the job's timeout + 60 s (two hours) and a SimpleWorker never beat meanwhile: a
    # SIGKILLed worker counted as "1 worker listening (1 busy)" for two hours and `core check` passed.
    connection = Redis.from_url(redis_url)
    Queue(queue_name, connection=connection).enqueue("time.sleep", 600, job_timeout=RQ_JOB_TIMEOUT_SECONDS)
    worker = subprocess.Popen(
        [sys.executable, "-m", "core.worker"], cwd=PROJECT_ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL
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
