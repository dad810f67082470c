"""Listing jobs while Redis hangs: one question for every queued job, a rest after it, and no row held meanwhile."""

import socket
import threading
import time
from contextlib import suppress

import pytest

from core.jobs import runner_status
from core.redis_client import SOCKET_TIMEOUT_SECONDS
from core.services import models
from db.engine import session_scope
from db.models import TrainingJob
from db.models.forecasting import JobStatus
from db.types import utc_now
from tests.accounts import make_account
from tests.core.test_jobs import TICKER, job, use_env


class SilentRedis:
    """A TCP listener that takes every connection and never answers, as a hung Redis does; it counts the askers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self._listener.getsockname()[1]}/0"
        self.connections = 0
        self.asked = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(client)
            self.connections += 1
            self.asked.set()

    def close(self) -> None:
        for sock in (self._listener, *self._held):
            with suppress(OSError):
                sock.close()


@pytest.fixture
def silent_redis(monkeypatch):
    silent = SilentRedis()
    use_env(monkeypatch, REDIS_URL=silent.url)
    yield silent
    silent.close()


def add_job(actor, status: JobStatus, **fields) -> TrainingJob:
    with session_scope() as session:
        row = TrainingJob(user_id=actor.user_id, ticker=TICKER, status=status.value, config={}, **fields)
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.postgres
def test_a_list_asks_a_hung_redis_once_and_holds_no_row_meanwhile(silent_redis, postgres_database_url, monkeypatch):
    # Each queued job was asked about in turn, 2 s each, under a lock on every open job of every user.
    use_env(monkeypatch, DATABASE_URL=postgres_database_url.render_as_string(hide_password=False))
    actor, other = make_account(postgres_database_url), make_account(postgres_database_url)
    queued = [add_job(actor, JobStatus.QUEUED, queue_job_id=f"rq:candlecast-{n}") for n in range(4)]
    for n in range(4):
        add_job(other, JobStatus.QUEUED, queue_job_id=f"rq:candlecast-other-{n}")
    beating = add_job(actor, JobStatus.RUNNING, started_at=utc_now(), heartbeat_at=utc_now())
    theirs = add_job(other, JobStatus.RUNNING, started_at=utc_now(), heartbeat_at=utc_now())

    listing = threading.Thread(target=models.list_jobs, args=(actor,))
    started = time.monotonic()
    listing.start()
    assert silent_redis.asked.wait(SOCKET_TIMEOUT_SECONDS), "the list asks Redis about the queued jobs"
    cancel_started = time.monotonic()
    models.cancel_job(other, theirs)
    assert time.monotonic() - cancel_started < 1, "another user's cancel did not wait for the list"
    beat_started = time.monotonic()
    with session_scope() as session:
        session.get(TrainingJob, beating).heartbeat_at = utc_now()  # as the runner of a job in the list beats
    assert time.monotonic() - beat_started < 1, "a runner's heartbeat did not wait for the list"
    listing.join()
    assert time.monotonic() - started < 2 * SOCKET_TIMEOUT_SECONDS, "one question, one timeout"
    assert silent_redis.connections == 1
    assert [job(job_id).status for job_id in queued] == ["queued"] * 4, "Redis silent: judged by heartbeat only"

    again = time.monotonic()
    models.list_jobs(actor)
    assert runner_status().workers is None
    assert time.monotonic() - again < 1, "Redis just failed: not asked again at once"
    assert silent_redis.connections == 1
