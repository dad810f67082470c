"""A job RQ stops at its timeout says so in the words the reaper uses, not as RQ's exception."""

import time
import uuid

import pytest
from rq import Queue

from core.forecasting import trainer
from core.jobs import QUEUE_TIMED_OUT, _worker_failure
from core.redis_client import require_redis
from core.worker import TrainingWorker
from db.models.forecasting import JobStatus
from tests.accounts import make_account
from tests.core.test_jobs import job, open_job, use_env


@pytest.mark.redis
def test_a_job_past_the_queues_timeout_fails_in_the_reapers_words(app_database, monkeypatch, redis_url):
    # TrainingRun's catch-all showed "JobTimeoutException: Task exceeded maximum timeout value (8 seconds)".
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=queue_name)
    # A fit longer than the queue's timeout whatever the machine's speed (RQ's alarm interrupts the sleep);
    # a real tiny fit finished inside a 3 s timeout on a quiet machine.
    monkeypatch.setattr(trainer, "train_model", lambda *args, **kwargs: time.sleep(60))
    actor = make_account(app_database)
    job_id = open_job(actor, status=JobStatus.QUEUED, model_type="median")
    Queue(queue_name, connection=require_redis()).enqueue(
        "core.jobs.run_job", str(job_id), None, job_id=f"candlecast-{job_id}", job_timeout=1
    )
    TrainingWorker([queue_name], connection=require_redis()).work(burst=True, with_scheduler=False)
    ended = job(job_id)
    assert (ended.status, ended.error) == ("failed", QUEUE_TIMED_OUT)
    assert _worker_failure("rq.timeouts.JobTimeoutException: Task exceeded maximum timeout") == QUEUE_TIMED_OUT
    assert QUEUE_TIMED_OUT == "the job ran longer than the queue allows (2 hours)"
