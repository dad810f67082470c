"""A local job closed by someone else (the reaper) has its process stopped, and the next job runs."""

import os
import signal
from datetime import timedelta

import core.jobs
from core.jobs import STALE_AFTER
from core.services import models
from db.engine import session_scope
from db.models import TrainingJob
from db.types import utc_now
from tests.accounts import make_account
from tests.core.test_jobs import child_pid, job, queue, wait_for
from tests.core.test_worker import gone_within


def test_a_reaped_jobs_hung_process_is_killed_and_the_next_job_runs(app_database, monkeypatch):
    # The runner waited in child.wait() for a process that never ended (hung, or stopped): the next job stayed
    # "queued: waiting for the job before it" behind a job shown as failed.
    monkeypatch.setattr(core.jobs, "CHILD_POLL_SECONDS", 0.2)
    monkeypatch.setattr(core.jobs, "CLOSED_CHILD_GRACE_SECONDS", 0.5)
    actor = make_account(app_database)
    first = queue(actor, epochs=500, patience=100)[0]
    second = queue(actor, model_type="median")[0]
    pid = child_pid(first)
    os.kill(pid, signal.SIGSTOP)
    try:
        with session_scope() as session:
            session.get(TrainingJob, first).heartbeat_at = utc_now() - STALE_AFTER - timedelta(seconds=1)
        models.list_jobs(actor)
        assert job(first).status == "failed"
        assert gone_within(pid, seconds=30), "the reaped job's process was stopped"
    finally:
        try:
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert wait_for(second, timeout=120).status == "succeeded"
    assert job(first).error.startswith("the worker stopped responding"), "its ending stands"
