"""Training jobs: a row in training_jobs, run by an RQ worker when Redis is configured, else by a thread.

The job row is the truth the pages read: status, progress, loss history, error. Whoever runs the
job writes to it in short transactions, beats a heartbeat, and checks for cancellation after each
epoch; a job whose runner went silent is marked failed when anyone next looks at the list.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actions import authorise_action
from core.audit import record_event
from core.config import Settings, get_settings
from core.forecasting.config import TrainingConfig
from core.logging import get_logger
from core.redis_client import require_redis
from core.throttle import Throttle
from db.engine import get_sessionmaker, session_scope
from db.models import TrainingJob
from db.models.forecasting import JobStatus
from db.repositories.actor import Actor, owned_by
from db.types import utc_now

log = get_logger("jobs")

STALE_AFTER = timedelta(minutes=5)  # heartbeats come every epoch and every 15 s within one
RQ_JOB_TIMEOUT_SECONDS = 2 * 60 * 60
FINISHED = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class JobError(RuntimeError):
    """A job request the queue refuses; the message says why."""


def _thread_executor() -> ThreadPoolExecutor:
    """One training thread per app process: two trainings at once would only halve each other's speed."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="candlecast-training")
        return _executor


def _thread_marker() -> str:
    return f"thread:{os.getpid()}"


def create_job(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    config: TrainingConfig,
    settings: Settings,
    throttle: Throttle,
    walkforward: dict | None = None,
) -> TrainingJob:
    """A queued job row, after the role and quota checks; dispatch it once the transaction commits."""
    authorise_action(session=session, actor=actor, action="train", settings=settings, throttle=throttle)
    job = TrainingJob(
        user_id=actor.user_id,
        ticker=ticker,
        kind="walkforward" if walkforward else "train",
        config=config.model_dump(mode="json") | ({"walkforward": walkforward} if walkforward else {}),
        status=JobStatus.QUEUED.value,
        progress=0.0,
        message="waiting for a worker",
        history={},
    )
    session.add(job)
    session.flush()
    record_event(session=session, action="train", status="queued", actor=actor, detail=f"{ticker} job {job.id}")
    return job


def dispatch(job_id: uuid.UUID, settings: Settings | None = None) -> None:
    """Hand a committed job to the RQ queue, or to this process's training thread."""
    settings = settings or get_settings()
    sessions = get_sessionmaker()
    if settings.redis_url:
        from rq import Queue

        try:
            queue = Queue(settings.training_queue, connection=require_redis())
            queued = queue.enqueue(
                "core.jobs.run_job",
                str(job_id),
                job_id=f"candlecast-{job_id}",
                job_timeout=RQ_JOB_TIMEOUT_SECONDS,
                failure_ttl=7 * 24 * 3600,
            )
            marker = f"rq:{queued.id}"
        except Exception as error:  # noqa: BLE001 - an unreachable Redis fails the job, not the page
            _finish(sessions, job_id, JobStatus.FAILED, error=f"could not queue the job: Redis unreachable ({error})")
            return
    else:
        marker = _thread_marker()
        _thread_executor().submit(run_job, str(job_id))
    with session_scope(sessions, action="dispatch job") as session:
        job = session.get(TrainingJob, job_id)
        if job is not None and job.queue_job_id is None:
            job.queue_job_id = marker


def queue_training(
    *,
    actor: Actor,
    tickers: Sequence[str],
    config: TrainingConfig,
    settings: Settings,
    throttle: Throttle,
    walkforward: dict | None = None,
) -> list[uuid.UUID]:
    """One job per ticker (a training, or with walkforward settings a walk-forward), queued and dispatched."""
    sessions = get_sessionmaker()
    created = []
    for ticker in dict.fromkeys(tickers):
        with session_scope(sessions, action=f"queue training of {ticker}") as session:
            job = create_job(
                session=session,
                actor=actor,
                ticker=ticker,
                config=config,
                settings=settings,
                throttle=throttle,
                walkforward=walkforward,
            )
            created.append(job.id)
        dispatch(created[-1], settings)
    return created


def run_job(job_id: str) -> str:
    """Run one training job to its end; the function RQ workers and the training thread call."""
    from core.forecasting.trainer import TrainingRun

    return TrainingRun(uuid.UUID(job_id), get_sessionmaker()).run()


def _finish(
    sessions, job_id: uuid.UUID, status: JobStatus, *, error: str | None = None, message: str | None = None
) -> None:
    with session_scope(sessions, action="finish job") as session:
        job = session.get(TrainingJob, job_id)
        if job is None:
            return
        job.status = status.value
        job.finished_at = utc_now()
        job.error = error
        job.message = message or error or job.message


def cancel_job(*, session: Session, actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    """A queued job is cancelled at once; a running one stops at its next epoch."""
    job = session.scalar(select(TrainingJob).where(TrainingJob.id == job_id, owned_by(TrainingJob.user_id, actor)))
    if job is None:
        raise JobError("no such job")
    if job.status == JobStatus.QUEUED.value:
        job.status = JobStatus.CANCELLED.value
        job.finished_at = utc_now()
        job.message = "cancelled before it started"
    elif job.status == JobStatus.RUNNING.value:
        job.cancel_requested = True
        job.message = "cancelling at the end of this epoch"
    record_event(session=session, action="train cancel", status="ok", actor=actor, detail=f"{job.ticker} job {job.id}")
    session.flush()
    return job


def reap_stale_jobs(*, session: Session, settings: Settings | None = None) -> int:
    """Mark failed the jobs whose runner is gone: no heartbeat for STALE_AFTER, a dead RQ job, a restarted app."""
    settings = settings or get_settings()
    now = utc_now()
    reaped = 0
    open_jobs = session.scalars(
        select(TrainingJob).where(TrainingJob.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
    ).all()
    for job in open_jobs:
        reason = _why_stale(job, now, settings)
        if reason:
            job.status = JobStatus.FAILED.value
            job.error = reason
            job.message = reason
            job.finished_at = now
            reaped += 1
            log.warning("job %s of %s marked failed: %s", job.id, job.ticker, reason)
    session.flush()
    return reaped


def _why_stale(job: TrainingJob, now, settings: Settings) -> str | None:
    if job.status == JobStatus.RUNNING.value:
        beat = job.heartbeat_at or job.started_at
        if beat is not None and now - beat > STALE_AFTER:
            return f"the worker stopped responding (no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC)"
    marker = job.queue_job_id or ""
    if marker.startswith("thread:") and marker != _thread_marker():
        return "the app restarted before this job finished"
    if marker.startswith("rq:") and settings.redis_url:
        return _rq_failure(marker.removeprefix("rq:"))
    return None


def _rq_failure(rq_id: str) -> str | None:
    """RQ's own verdict on a job our row still calls open, if it is a failure."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        queued = Job.fetch(rq_id, connection=require_redis())
    except NoSuchJobError:
        return "the queue lost this job (its worker was stopped or Redis was flushed)"
    except Exception:  # noqa: BLE001 - Redis unreachable: judge by heartbeat only
        return None
    if queued.is_failed:
        latest = queued.latest_result()
        detail = (latest.exc_string or "").strip().splitlines()[-1:] if latest else []
        return f"the worker failed: {detail[0] if detail else 'no detail'}"
    return None


def list_jobs(*, session: Session, actor: Actor, limit: int = 30) -> Sequence[TrainingJob]:
    """The actor's recent jobs, newest first, after stale ones have been marked failed."""
    reap_stale_jobs(session=session)
    query = (
        select(TrainingJob)
        .where(owned_by(TrainingJob.user_id, actor))
        .order_by(TrainingJob.created_at.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
