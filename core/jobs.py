"""Training jobs: a row in training_jobs, run by an RQ worker when Redis is configured, else by a local process.

The job row is the truth the pages read: status, progress, loss history, error. Whoever runs the
job writes to it in short transactions, beats a heartbeat, and checks for cancellation after each
epoch; a job whose runner went silent is marked failed when anyone next looks at the list.

Without Redis, the app runs each job in a child process of its own (`python -m core.worker --job`), one
at a time per app process (the REST API's process runs its own). Training in a thread of the app's
process ran 2-4x slower than the command line and stalled every page meanwhile: Keras drives each batch
from Python, so the training thread and the server's event loop and script threads took turns at the
GIL, and TensorFlow's thread pools fought them for two cores. A child process has its own interpreter,
so the server's threads have the GIL to themselves, and it runs at a lower CPU priority (core.worker),
so the server has the cores when a page asks for them.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.config import PROJECT_ROOT, Settings, get_settings
from common.errors import BadInput, Conflict, NotFound, Refusal
from common.logging import get_logger
from common.words import plural
from core.actions import authorise_action
from core.audit import client_address as audit_client_address
from core.audit import current_client_address, record_event
from core.auth.roles import Permission, require
from core.forecasting.config import TrainingConfig
from core.forecasting.engine import job_model_types, require_history, require_trainable
from core.forecasting.walkforward import WalkForwardSettings, window_plan
from core.forecasting.zoo import NETWORK_KINDS, configured_kind
from core.redis_client import note_redis_failure, redis_cooling_down, require_redis
from core.throttle import Throttle
from core.worker import lower_job_process
from db.engine import get_sessionmaker, session_scope
from db.models import TrainingJob
from db.models.forecasting import JobStatus
from db.repositories.actor import Actor, own_rows
from db.repositories.prices import visible_days
from db.types import utc_now

log = get_logger("jobs")

STALE_AFTER = timedelta(minutes=5)  # heartbeats come every epoch and every 15 s within one
# dispatch writes a job's marker (rq:..., local:...) a moment after its row is committed; a queued row still
# without one this long after was never handed to a runner (the database failed, or the app stopped, between).
DISPATCH_GRACE = timedelta(minutes=3)
NEVER_DISPATCHED = "the job was never handed to a runner (the app or its database failed as it was queued)"
RQ_JOB_TIMEOUT_SECONDS = 2 * 60 * 60
# Said by the job itself when RQ stops it (TrainingRun), and by the reaper when RQ recorded it failed so.
QUEUE_TIMED_OUT = f"the job ran longer than the queue allows ({RQ_JOB_TIMEOUT_SECONDS // 3600} hours)"
WORKER_STOPPED = "the worker was stopped before the job finished"
# RQ's forced stop (a second SIGTERM) raises SystemExit inside the job, a second Ctrl-C KeyboardInterrupt.
STOPPING_ERRORS = ("SystemExit", "KeyboardInterrupt")
FINISHED = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
OPEN = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
WAITING_MESSAGE = "waiting for a worker"
LOCAL_WAITING_MESSAGE = "waiting for its turn"
LOCAL_BUSY_MESSAGE = "queued: waiting for the job before it"
CHILD_POLL_SECONDS = 5.0  # how often the runner reads the row of the job whose process it waits for
CLOSED_CHILD_GRACE_SECONDS = 10.0  # a job's process closing its own row exits within this
LOCAL_PREFIXES = ("local:", "thread:")  # thread: marks jobs of versions that trained inside the app
RUNNER_FAILED = "the app could not start this job (its log has the details)"
QUEUE_UNREACHABLE = "could not queue the job: Redis unreachable"
CANCELLING_EPOCH = "cancelling at the end of this epoch"
CANCELLING_WINDOW = "cancelling at the end of this window"
CANCELLING_MODEL_TYPE = "cancelling after the model type it is fitting (a network at the end of its epoch)"
CANCELLING_FIT = "cancelling when the fit ends: this model type has no epochs; no version will be saved"

# A traceback's "package.module.Error: message" line; its other lines are frames, notes and indented text.
_ERROR_LINE = re.compile(r"^(?:\w+\.)*(\w+)(?::|$)")

_local_queue: queue.Queue[tuple[str, str | None]] = queue.Queue()
_local_pending: set[str] = set()  # this process's runner holds them, written marker or not
_local_runner: threading.Thread | None = None
_local_runner_lock = threading.Lock()


@dataclass(frozen=True)
class Preset:
    """Model settings under a plain name, for people who do not want to tune an LSTM."""

    description: str
    overrides: dict

    def config(self) -> TrainingConfig:
        return TrainingConfig(**self.overrides)


PRESETS = {
    "fast": Preset(
        "a small network and few passes: a first look in seconds", {"lstm_units": (8,), "epochs": 8, "patience": 2}
    ),
    "balanced": Preset("the defaults, chosen on the S&P 500 sample", {}),
    "thorough": Preset(
        "a larger network, a longer window and more patience: minutes per ticker",
        {"lstm_units": (32, 16), "window": 40, "epochs": 60, "patience": 8},
    ),
}
DEFAULT_PRESET = "balanced"


class JobError(NotFound, RuntimeError):
    """A job request the queue refuses; the message says why."""


def _local_marker(child_pid: int | None = None) -> str:
    """local:host:app pid[:child pid]; the host tells whether those pids can be checked from here."""
    return f"local:{socket.gethostname()}:{os.getpid()}" + (f":{child_pid}" if child_pid else "")


def _ensure_local_runner() -> None:
    """One daemon thread per app process hands jobs to child processes, one after another.

    Two trainings at once would only halve each other's speed on two cores; the thread is a daemon
    so that stopping the app never waits for a training to end (the child notices and stops too).
    """
    global _local_runner
    with _local_runner_lock:
        if _local_runner is None or not _local_runner.is_alive():
            _local_runner = threading.Thread(target=_drain_local_queue, name="candlecast-jobs", daemon=True)
            _local_runner.start()


def _drain_local_queue() -> None:
    while True:
        job_id, address = _local_queue.get()
        try:
            run_in_child_process(uuid.UUID(job_id), address)
        except Exception:  # one broken job must not stop the jobs after it
            log.exception("local runner failed on job %s", job_id)
            # Failed saying so, if the database lets it; else the reaper fails it (no marker) or its heartbeat does.
            with contextlib.suppress(Exception):
                _finish(get_sessionmaker(), uuid.UUID(job_id), JobStatus.FAILED, error=RUNNER_FAILED, only_open=True)
        finally:
            _local_pending.discard(job_id)
            _local_queue.task_done()


def run_in_child_process(job_id: uuid.UUID, client_address: str | None = None) -> None:
    """Run one job in a child process and wait for it; a child that dies leaves the job failed, saying why."""
    sessions = get_sessionmaker()
    with session_scope(sessions, action="start job process") as session:
        job = session.get(TrainingJob, job_id)
        if job is None or job.status != JobStatus.QUEUED.value:
            return  # cancelled while it waited: no process to start
        job.message = "starting a training process"
    command = [sys.executable, "-m", "core.worker", "--job", str(job_id)]
    if client_address:
        command += ["--client-address", client_address]
    try:
        # A session of its own, so that its scheduling group can be lowered apart from the app's; a
        # child that outlives the app stops itself (core.worker), as the terminal's Ctrl-C no longer reaches it.
        child = subprocess.Popen(command, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        _finish(sessions, job_id, JobStatus.FAILED, error=f"could not start a training process: {error}")
        return
    # Lowered at once: the process lowers itself only after its imports, half a second of a core
    # that a page would otherwise wait behind.
    lower_job_process(child.pid)
    try:
        with session_scope(sessions, action="record job process") as session:
            job = session.get(TrainingJob, job_id)
            if job is not None:
                job.queue_job_id = _local_marker(child.pid)
    except Exception:  # noqa: BLE001 - logged by the scope; the process runs and is waited for all the same
        pass
    code = _wait_for_child(child, sessions, job_id)
    if code != 0:
        log.warning("training process %s of job %s ended with %s", child.pid, job_id, code)
    _finish(sessions, job_id, JobStatus.FAILED, error=_process_end(code), only_open=True)


def _wait_for_child(child: subprocess.Popen, sessions, job_id: uuid.UUID) -> int:
    """The child's exit code; a child whose job someone else closed (the reaper, say) is killed after a grace.

    A hung or stopped child never ends by itself, and the jobs queued after it waited behind a job shown as failed.
    """
    while True:
        try:
            return child.wait(timeout=CHILD_POLL_SECONDS)
        except subprocess.TimeoutExpired:
            pass
        try:
            with session_scope(sessions, action="watch job process", read_only=True) as session:
                job = session.get(TrainingJob, job_id)
                closed = job is None or job.status not in OPEN
        except Exception:  # noqa: BLE001 - logged by the scope; asked again at the next poll
            continue
        if not closed:
            continue
        try:
            return child.wait(timeout=CLOSED_CHILD_GRACE_SECONDS)  # a job that ended itself exits at once
        except subprocess.TimeoutExpired:
            log.warning("job %s was closed while its process %s went on: killing it", job_id, child.pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)  # its own session and group (start_new_session)
            return child.wait()


def _process_end(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the training process was stopped ({name}) before the job finished"
    return f"the training process ended (exit code {code}) before the job finished"


def create_job(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    config: TrainingConfig,
    settings: Settings,
    throttle: Throttle,
    walkforward: dict | None = None,
    kind: str = "train",
    idempotency_key: str | None = None,
) -> TrainingJob:
    """A queued job row (a training, a leaderboard, or with walkforward settings a walk-forward), after the role,
    data and quota checks; dispatch it once the transaction commits.

    An idempotency key is stored with the row; a second request with it, while the first still runs, is
    refused (submit_job answers one that comes after the first's commit).
    """
    require(actor, Permission.TRAIN)
    # Before the quota: a job that could only fail must neither be queued nor use up the hour's trainings.
    days = visible_days(session=session, actor=actor, ticker=ticker)
    if not days:
        raise JobError(f"no cached prices of {ticker}: fetch or upload them first")
    require_history(days)
    if walkforward:
        window_plan(days, config, WalkForwardSettings(**walkforward), ticker=ticker)
    else:
        require_trainable(job_model_types(kind, config), config, days)
    kind, job_config = _as_stored(config, walkforward, kind)
    job = TrainingJob(
        user_id=actor.user_id,
        ticker=ticker,
        kind=kind,
        config=job_config,
        status=JobStatus.QUEUED.value,
        progress=0.0,
        message=WAITING_MESSAGE if settings.redis_url else LOCAL_WAITING_MESSAGE,
        history={},
        idempotency_key=idempotency_key,
    )
    try:
        # Before the quota, so that a retry racing its first attempt is refused without using up a training.
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        if idempotency_key is None:
            raise
        raise Conflict(
            "a request with this Idempotency-Key is still being handled; ask again in a moment for its job"
        ) from None
    authorise_action(session=session, actor=actor, action="train", settings=settings, throttle=throttle)
    record_event(session=session, action="train", status="queued", actor=actor, detail=f"{ticker} job {job.id}")
    return job


def _job_of_key(*, session: Session, actor: Actor, idempotency_key: str) -> TrainingJob | None:
    return session.scalar(
        select(TrainingJob).where(TrainingJob.user_id == actor.user_id, TrainingJob.idempotency_key == idempotency_key)
    )


def _as_stored(config: TrainingConfig, walkforward: dict | None, kind: str) -> tuple[str, dict]:
    """A job's kind and settings as its row keeps them, and as a request sent again is compared with them."""
    if walkforward:
        return "walkforward", config.model_dump(mode="json") | {"walkforward": walkforward}
    return kind, config.model_dump(mode="json")


def _same_request(job: TrainingJob, ticker: str, kind: str, config: dict) -> TrainingJob:
    if (job.ticker, job.kind, job.config) != (ticker, kind, config):
        raise BadInput(
            f"this Idempotency-Key was sent before with another request (job {job.id}, {job.kind} of {job.ticker}); "
            "send a new key for a new request"
        )
    return job


def submit_job(
    *,
    actor: Actor,
    ticker: str,
    config: TrainingConfig,
    settings: Settings,
    throttle: Throttle,
    walkforward: dict | None = None,
    kind: str = "train",
    idempotency_key: str | None = None,
) -> TrainingJob:
    """One job queued in a transaction of its own and handed to a runner after its commit, so that a worker
    always finds the row; as it stands then (one the queue could not take has failed, saying why).

    A job an idempotency key already named is returned as it stands, not handed over again: dispatching it
    twice would run it twice.
    """
    what = "walk-forward" if walkforward else kind.replace("train", "training")
    with session_scope(action=f"queue {what} of {ticker}") as session:
        earlier = idempotency_key and _job_of_key(session=session, actor=actor, idempotency_key=idempotency_key)
        if earlier:
            require(actor, Permission.TRAIN)
            job = _same_request(earlier, ticker, *_as_stored(config, walkforward, kind))
        else:
            job = create_job(
                session=session,
                actor=actor,
                ticker=ticker,
                config=config,
                settings=settings,
                throttle=throttle,
                walkforward=walkforward,
                kind=kind,
                idempotency_key=idempotency_key,
            )
        job_id = job.id
    if not earlier:
        dispatch(job_id, settings)
    [submitted] = as_dispatched([job_id])
    return submitted


def dispatch(job_id: uuid.UUID, settings: Settings | None = None) -> None:
    """Hand a committed job to the RQ queue, or to this app's local runner of child processes."""
    settings = settings or get_settings()
    sessions = get_sessionmaker()
    if settings.redis_url:
        from rq import Queue

        try:
            queue = Queue(settings.training_queue, connection=require_redis())
            queued = queue.enqueue(
                "core.jobs.run_job",
                str(job_id),
                current_client_address(),
                job_id=f"candlecast-{job_id}",
                job_timeout=RQ_JOB_TIMEOUT_SECONDS,
                failure_ttl=7 * 24 * 3600,
            )
            marker = f"rq:{queued.id}"
        except Exception as error:  # noqa: BLE001 - an unreachable Redis fails the job, not the page
            _log_redis_failure(f"could not queue job {job_id}", error, settings)
            _finish(sessions, job_id, JobStatus.FAILED, error=QUEUE_UNREACHABLE, release_key=True)
            return
    else:
        marker = _local_marker()
    try:
        with session_scope(sessions, action="dispatch job") as session:
            job = session.get(TrainingJob, job_id)
            if job is not None and job.queue_job_id is None:
                job.queue_job_id = marker
                if not settings.redis_url and _local_queue.unfinished_tasks:
                    job.message = LOCAL_BUSY_MESSAGE
    except Exception:  # noqa: BLE001 - logged by the scope; the job is handed over all the same
        # A job RQ holds runs whatever its row says (the reaper asks RQ by its id, candlecast-<job id>); a
        # local one goes to the runner below, which writes its marker again when it starts the job's process.
        pass
    if not settings.redis_url:
        # The runner thread and the job's process have no request: the address travels with the job.
        _local_pending.add(str(job_id))
        _local_queue.put((str(job_id), current_client_address()))
        _ensure_local_runner()


def queue_training(
    *,
    actor: Actor,
    tickers: Sequence[str],
    config: TrainingConfig,
    settings: Settings,
    throttle: Throttle,
    walkforward: dict | None = None,
) -> list[uuid.UUID]:
    """One job per ticker (a training, or with walkforward settings a walk-forward), queued and dispatched.

    A ticker refused (no prices, the quota used up) does not stop the others; the refusal raised at
    the end names each ticker refused or whose job the queue could not take, and what was queued, so
    no job is queued unseen.
    """
    sessions = get_sessionmaker()
    unique = list(dict.fromkeys(tickers))
    queued: dict[str, uuid.UUID] = {}
    refused: dict[str, str] = {}
    for ticker in unique:
        try:
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
        except Refusal as refusal:
            if len(unique) == 1:
                raise
            refused[ticker] = str(refusal)
            continue
        # After the commit, so a worker always finds the row.
        queued[ticker] = job.id
        dispatch(job.id, settings)
    if not refused:
        return list(queued.values())  # a job the queue could not take is failed, saying why: the caller shows it
    # Read after dispatch: a job Redis could not take has failed, and was no more queued than a refused one.
    for job in as_dispatched(list(queued.values())):
        if job.status == JobStatus.FAILED.value:
            refused[job.ticker] = job.error or "failed"
    taken = [ticker for ticker in queued if ticker not in refused]
    reasons = "; ".join(f"{ticker} ({refused[ticker]})" for ticker in unique if ticker in refused)
    done = f"queued {len(taken)} of {plural(len(refused) + len(taken), 'training job')}" + (
        f" ({', '.join(taken)})" if taken else ""
    )
    raise Refusal(f"{done}; not queued: {reasons}")


def run_job(job_id: str, client_address: str | None = None) -> str:
    """Run one training job to its end; the function RQ workers and local job processes call.

    client_address is that of the request that queued the job, so the job's audit rows carry it.
    """
    from core.forecasting.trainer import TrainingRun

    with audit_client_address(client_address):
        return TrainingRun(uuid.UUID(job_id), get_sessionmaker()).run()


def _finish(
    sessions,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    error: str | None = None,
    message: str | None = None,
    only_open: bool = False,
    release_key: bool = False,
) -> None:
    """Close a job; release_key frees its Idempotency-Key for a retry, for a job that never ran (the queue
    refused it): the key then names no job, and the retry is queued as a new one instead of answered with
    this failure. A job that ran keeps its key: running it again is what the key is there to prevent."""
    with session_scope(sessions, action="finish job") as session:
        job = session.get(TrainingJob, job_id)
        if job is None or (only_open and job.status not in OPEN):
            return
        job.status = status.value
        job.finished_at = utc_now()
        job.error = error
        job.message = message or error or job.message
        if release_key:
            job.idempotency_key = None


def owned_job(*, session: Session, actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    job = session.scalar(select(TrainingJob).where(TrainingJob.id == job_id, own_rows(TrainingJob.user_id, actor)))
    if job is None:
        raise JobError("no such job")
    return job


def cancel_job(*, session: Session, actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    """A queued job is cancelled at once; a running one stops at its next boundary and saves nothing; a finished
    one is returned as it ended.

    Whatever the owner's role now is: cancelling frees the machine, it trains nothing (an analyst demoted to
    viewer stops the jobs they queued before).
    """
    job = owned_job(session=session, actor=actor, job_id=job_id)
    session.refresh(job, with_for_update=True)  # a runner saving its result has the row: read its ending, after it
    if job.status in FINISHED:
        return job  # its ending stands, and nothing was cancelled to audit
    if job.status == JobStatus.QUEUED.value:
        job.status = JobStatus.CANCELLED.value
        job.finished_at = utc_now()
        job.message = "cancelled before it started"
    else:
        job.cancel_requested = True
        job.message = _cancelling_message(job)
    record_event(session=session, action="train cancel", status="ok", actor=actor, detail=f"{job.ticker} job {job.id}")
    session.flush()
    return job


def _cancelling_message(job: TrainingJob) -> str:
    """When a running job will notice its cancellation: a network at its next epoch, in a walk-forward's window
    too; other fits only when they end."""
    network = configured_kind(job.config) in NETWORK_KINDS
    if job.kind == "walkforward":
        return CANCELLING_EPOCH if network else CANCELLING_WINDOW
    if job.kind == "leaderboard":
        return CANCELLING_MODEL_TYPE
    return CANCELLING_EPOCH if network else CANCELLING_FIT


def reap_stale_jobs(
    *, session: Session, actor: Actor | None = None, job_id: uuid.UUID | None = None, settings: Settings | None = None
) -> int:
    """Mark failed the actor's open jobs (or the one job; without either, everyone's) whose runner is gone: no
    heartbeat for STALE_AFTER, a job RQ recorded failed, a queued job RQ lost, a restarted app."""
    settings = settings or get_settings()
    now = utc_now()
    query = select(TrainingJob).where(TrainingJob.status.in_(OPEN)).execution_options(populate_existing=True)
    if actor is not None:
        query = query.where(own_rows(TrainingJob.user_id, actor))
    if job_id is not None:
        query = query.where(TrainingJob.id == job_id)
    open_jobs = session.scalars(query).all()
    # RQ is asked before any row is locked: a Redis that hangs then holds up this list alone, never the
    # runners' heartbeats or a cancel, which write the same rows.
    verdicts = _rq_verdicts([rq_id for job in open_jobs if (rq_id := _rq_id(job, now, settings))], now)
    stale = [job.id for job in open_jobs if _why_stale(job, now, settings, verdicts)]
    if not stale:
        return 0
    # A row locked on PostgreSQL is being written by its runner, which is alive: skipped, not waited for,
    # and never failed just as the runner saves its result. Judged again under the lock, as read now.
    locked = session.scalars(
        select(TrainingJob)
        .where(TrainingJob.id.in_(stale), TrainingJob.status.in_(OPEN))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    reaped = 0
    for job in locked:
        reason = _why_stale(job, now, settings, verdicts)
        if reason:
            job.status = JobStatus.FAILED.value
            job.error = reason
            job.message = reason
            job.finished_at = now
            reaped += 1
            log.warning("job %s of %s marked failed: %s", job.id, job.ticker, reason)
    session.flush()
    return reaped


def _rq_id(job: TrainingJob, now, settings: Settings) -> str | None:
    """The RQ job to ask about this row, if any. A row whose marker was never written is asked about by the id
    dispatch gives every job: a queued one after the dispatch grace, a running one at once (a worker took it)."""
    if not settings.redis_url:
        return None
    marker = job.queue_job_id
    if marker is None:
        running = job.status == JobStatus.RUNNING.value
        return f"candlecast-{job.id}" if running or _undispatched(job, now) else None
    return marker.removeprefix("rq:") if marker.startswith("rq:") else None


def _undispatched(job: TrainingJob, now) -> bool:
    return job.status == JobStatus.QUEUED.value and job.queue_job_id is None and now - job.created_at > DISPATCH_GRACE


def _why_stale(job: TrainingJob, now, settings: Settings, rq_verdicts: dict[str, RQVerdict]) -> str | None:
    rq_id = _rq_id(job, now, settings)
    verdict = rq_verdicts.get(rq_id) if rq_id is not None else None  # none when Redis did not answer
    if verdict is not None and verdict.failed:
        return verdict.failed  # RQ's record says why; a silence says only that the runner went quiet
    if job.status == JobStatus.RUNNING.value:
        beat = job.heartbeat_at or job.started_at
        if beat is not None and now - beat > STALE_AFTER:
            return f"the worker stopped responding (no heartbeat since {beat:%Y-%m-%d %H:%M:%S} UTC)"
    marker = job.queue_job_id or ""
    if marker.startswith(LOCAL_PREFIXES):
        return _local_failure(marker)  # this machine's processes: whether they live is known, not guessed
    if verdict is not None:
        return verdict.lost if job.status == JobStatus.QUEUED.value else None
    if not settings.redis_url and _undispatched(job, now) and str(job.id) not in _local_pending:
        return NEVER_DISPATCHED
    return None


def _local_failure(marker: str) -> str | None:
    """A local job is lost when the app that queued it, or the process that ran it, is gone."""
    kind, _, rest = marker.partition(":")
    if kind == "thread":  # trained inside the app's own process, which has restarted since
        return None if rest == str(os.getpid()) else "the app restarted before this job finished"
    host, _, pids = rest.partition(":")
    if host != socket.gethostname():
        return None  # another machine's processes: only the heartbeat can tell
    app_pid, _, child_pid = pids.partition(":")
    if not _alive(int(app_pid)):
        return "the app restarted before this job finished"
    if child_pid and not _alive(int(child_pid)) and int(app_pid) != os.getpid():
        return "the training process stopped before the job finished"
    return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RQVerdict:
    """What RQ says of a job, as the reason to fail its row.

    failed: RQ recorded the job failed (its worker raised, or was stopped by force, where the job could not
    write its own ending: its database gone, say); true of a queued or a running row alike.
    lost: RQ lost the job, or started it long ago; true of a queued row only, as a flushed or restarted Redis
    loses RQ's entry, not the worker, which goes on beating and would save its result after the job had
    been called dead.
    """

    failed: str | None = None
    lost: str | None = None


def _rq_verdicts(rq_ids: Sequence[str], now) -> dict[str, RQVerdict]:
    """RQ's verdict on each job, asked in one round trip; none at all when Redis does not answer, or failed a
    moment ago (a hung Redis would cost every page refresh its socket timeout)."""
    from rq.job import Job

    if not rq_ids or redis_cooling_down():
        return {}
    try:
        found = Job.fetch_many(rq_ids, connection=require_redis())
    except Exception:  # noqa: BLE001 - Redis unreachable: judge by heartbeat only
        note_redis_failure()
        return {}
    return {rq_id: _rq_verdict(queued, now) for rq_id, queued in zip(rq_ids, found, strict=True)}


def _rq_verdict(queued, now) -> RQVerdict:
    """RQ's verdict on a job our row still calls queued or running: a failure, or a start that never came."""
    from rq.job import JobStatus as RQStatus

    if queued is None:
        return RQVerdict(lost="the queue lost this job (its worker was stopped or Redis was flushed)")
    status = queued.get_status(refresh=False)  # as fetched: a refresh would be one more round trip per job
    if status == RQStatus.FAILED:
        try:
            latest = queued.latest_result()
        except Exception:  # noqa: BLE001 - the verdict stands without its detail
            latest = None
        crash = (latest.exc_string or "").strip() if latest else ""
        log.warning("the worker failed job %s: %s", queued.id, crash or "no detail")
        return RQVerdict(failed=_worker_failure(crash))
    # A worker marks our row running in its first transaction, seconds after RQ hands it the job, and
    # RQ's job entry records no progress of ours: a job RQ started long ago that our row
    # still calls queued lost its worker in between (killed, or its machine stopped).
    if status == RQStatus.STARTED and queued.started_at is not None and now - queued.started_at > STALE_AFTER:
        taken = f"{queued.started_at:%H:%M:%S} UTC"
        return RQVerdict(lost=f"the worker stopped before the job began (the queue gave it to a worker at {taken})")
    return RQVerdict()


def _worker_failure(crash: str) -> str:
    """A failure RQ recorded, as a page shows it: the error's type, never its text, which can name servers."""
    raised = [found.group(1) for found in map(_ERROR_LINE.match, crash.splitlines()) if found]
    if not raised:
        return "the worker failed (its log has the details)"
    if raised[-1] == "JobTimeoutException":
        return QUEUE_TIMED_OUT
    if raised[-1] in STOPPING_ERRORS:
        return WORKER_STOPPED
    return f"the worker failed: {raised[-1]} (its log has the details)"


def as_dispatched(job_ids: Sequence[uuid.UUID]) -> list[TrainingJob]:
    """The jobs as they stand once handed over: one the queue could not take has failed already, saying why."""
    with session_scope(action="read submitted jobs", read_only=True) as session:
        found = {job.id: job for job in session.scalars(select(TrainingJob).where(TrainingJob.id.in_(job_ids)))}
    return [found[job_id] for job_id in job_ids]


def get_job(*, session: Session, actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    """One of the actor's jobs, after it has been marked failed if its runner is gone, as the list does."""
    job = owned_job(session=session, actor=actor, job_id=job_id)
    reap_stale_jobs(session=session, job_id=job.id)  # updates this very object, read again
    return job


def list_jobs(*, session: Session, actor: Actor, limit: int = 30, every_open: bool = False) -> Sequence[TrainingJob]:
    """The actor's newest jobs, at most `limit`, after their stale ones have been marked failed; with every_open,
    each queued or running job and the `limit` newest finished ones, so that no job still open drops off a page."""
    reap_stale_jobs(session=session, actor=actor)
    mine = select(TrainingJob).where(own_rows(TrainingJob.user_id, actor)).order_by(TrainingJob.created_at.desc())
    if not every_open:
        return session.scalars(mine.limit(limit)).all()
    still_open = session.scalars(mine.where(TrainingJob.status.in_(OPEN))).all()
    finished = session.scalars(mine.where(TrainingJob.status.in_(FINISHED)).limit(limit)).all()
    return sorted([*still_open, *finished], key=lambda job: job.created_at, reverse=True)


@dataclass(frozen=True)
class RunnerStatus:
    """Who runs queued jobs: the app's own job processes, or the RQ workers listening on the queue."""

    queue: str | None  # None: no Redis, the app runs jobs itself
    workers: int | None = None  # None: Redis could not be asked
    busy: int = 0
    last_heartbeat: datetime | None = None
    detail: str | None = None

    @property
    def local(self) -> bool:
        return self.queue is None

    @property
    def problem(self) -> str | None:
        """Why queued jobs would wait for ever, in words a user can act on, or None."""
        if self.local:
            return None
        if self.workers is None:
            return f"cannot tell whether a worker listens on the queue {self.queue!r}: {self.detail}"
        if self.workers == 0:
            return (
                f"no worker is listening on the queue {self.queue!r}: queued jobs wait until one starts "
                "(`make worker`, or `python -m core.worker`)"
            )
        return None

    def summary(self) -> str:
        """One line for the Train page and the status panels."""
        if self.local:
            # Per process: the app and the REST API (`make api`) each run their own queue; set REDIS_URL and
            # run workers for one queue of the whole deployment.
            return "jobs run one at a time per app process, each in a process of its own on the app's machine"
        if self.workers is None or self.workers == 0:
            return self.problem or ""
        idle = self.workers - self.busy
        return f"{plural(self.workers, 'worker')} listening on {self.queue!r} ({self.busy} busy, {idle} idle)"


def runner_status(settings: Settings | None = None) -> RunnerStatus:
    """Whether anything will run a queued job now: RQ's worker registry, whose entries expire without heartbeats."""
    settings = settings or get_settings()
    if not settings.redis_url:
        return RunnerStatus(queue=None)
    from rq import Queue, Worker

    name = settings.training_queue
    if redis_cooling_down():
        return RunnerStatus(queue=name, detail="Redis does not answer (it failed a call seconds ago)")
    try:
        workers = Worker.all(queue=Queue(name, connection=require_redis()))
    except Exception as error:  # noqa: BLE001 - an unreachable Redis is reported, not raised
        note_redis_failure()
        _log_redis_failure("cannot count the workers", error, settings)
        return RunnerStatus(queue=name, detail="Redis does not answer")
    beats = [worker.last_heartbeat for worker in workers if worker.last_heartbeat is not None]
    return RunnerStatus(
        queue=name,
        workers=len(workers),
        busy=sum(1 for worker in workers if worker.get_state() == "busy"),
        last_heartbeat=max(beats) if beats else None,
    )


def _log_redis_failure(what: str, error: BaseException, settings: Settings) -> None:
    """The operator's record of a Redis failure, naming the server without its password; pages say only that
    Redis does not answer: the server's address is nothing a user can act on."""
    url = settings.redis_url or ""
    password = urlsplit(url).password
    text = f"{type(error).__name__}: {error}"
    log.warning("%s: Redis at %s does not answer (%s)", what, _shown_url(url), _without(text, password))


def _without(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


def _shown_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))
