"""One training job from start to end: prices from the cache, training, progress in the job row, the new version."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rq.timeouts import JobTimeoutException
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from common.logging import get_logger
from core.audit import record_event
from core.auth.roles import Permission, can
from core.forecasting.config import TrainingConfig
from core.forecasting.dataset import DatasetError
from core.forecasting.evaluation import MASE_SPEC, figure, json_safe
from core.forecasting.registry import save_version
from core.forecasting.training import TrainingCancelledError, train_model
from core.forecasting.zoo import NETWORK_KINDS, label
from core.jobs import OPEN, QUEUE_TIMED_OUT, WORKER_STOPPED
from db.engine import database_error_message, session_scope
from db.models import Evaluation, TrainingJob
from db.models.forecasting import JobStatus
from db.repositories.actor import Actor
from db.repositories.evaluations import add_evaluation
from db.repositories.prices import read_prices
from db.repositories.users import get_user
from db.types import utc_now

log = get_logger("jobs")

CANCELLED_BEFORE_SAVING = "cancelled before its result was saved"
OWNER_CANNOT_TRAIN = "your account can no longer train"


def _timed_out(error: BaseException | None) -> bool:
    """Whether RQ's job timeout raised this error, or the one it wraps: raised inside a fit, where TensorFlow may
    put it in a TypeError of its own ("Binding inputs to tf.function failed due to ...")."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, JobTimeoutException):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


@dataclass
class TrainingRun:
    job_id: uuid.UUID
    sessions: sessionmaker[Session]

    def run(self) -> str:
        """Train (or walk forward, or rank every type), and leave the job succeeded, failed or cancelled."""
        started = self._start()
        if isinstance(started, str):
            return started  # not started: "skipped", or failed before any work
        work = {"walkforward": self._walk_forward, "leaderboard": self._leaderboard}.get(self._kind, self._train)
        try:
            actor, ticker, config, prices = started
            self._say_what(config, len(prices))
            return work(actor, ticker, config, prices)
        except TrainingCancelledError as cancelled:
            return self._end(JobStatus.CANCELLED, message=str(cancelled))
        except Exception as error:  # noqa: BLE001 - every failure ends the job, saying why
            return self._failed(error)
        except BaseException:
            # RQ's forced stop (a second SIGTERM) raises SystemExit inside the job, Ctrl-C a KeyboardInterrupt: RQ
            # records the job failed, and the row said "running" until the heartbeat rule failed it minutes later.
            self._stopped()
            raise

    def _stopped(self) -> None:
        """End the job failed because its worker is stopping, if the database lets it in the moment left."""
        try:
            self._end(JobStatus.FAILED, error=WORKER_STOPPED)
        except Exception:  # noqa: BLE001 - logged by the scope; the reaper trusts RQ's "failed" instead
            log.warning("job %s: the stopping worker could not mark it failed", self.job_id)

    def _failed(self, error: Exception) -> str:
        """End the job failed, saying why in words a page can show; called while the error is handled."""
        if _timed_out(error):
            return self._end(JobStatus.FAILED, error=QUEUE_TIMED_OUT)
        if isinstance(error, DatasetError | ValueError):
            return self._end(JobStatus.FAILED, error=str(error))
        if isinstance(error, SQLAlchemyError):
            # The driver's text (the statement, the row) went to the log with the stack; the job says what a
            # page would.
            return self._end(JobStatus.FAILED, error=database_error_message(error))
        # A bug, or the result could not be saved: the job says so now, not when the reaper notices.
        log.exception("%s job %s failed", self._kind, self.job_id)
        return self._end(JobStatus.FAILED, error=f"{type(error).__name__}: {error}")

    def _train(self, actor: Actor, ticker: str, config: TrainingConfig, prices) -> str:
        result = train_model(
            prices,
            config,
            ticker=ticker,
            on_epoch=self._epoch,
            should_stop=self._cancel_requested,
            on_heartbeat=self._heartbeat,
        )
        with session_scope(self.sessions, action="save trained model") as session:
            job = self._finishing(session)
            if job.status != JobStatus.RUNNING.value:
                return job.status
            version = save_version(session=session, actor=actor, ticker=ticker, result=result)
            job.model_version_id = version.id
            self._succeed(job, f"v{version.version}: {result.verdict}")
            record_event(
                session=session,
                action="train",
                status="ok",
                actor=actor,
                detail=f"{ticker} v{version.version}: MASE {figure(result.metrics['mase'], MASE_SPEC)}",
                latency_ms=result.train_seconds * 1000,
            )
        return JobStatus.SUCCEEDED.value

    def _start(self):
        with session_scope(self.sessions, action="start training job") as session:
            # Locked until "running" is committed: a cancel pressed meanwhile waits, then finds the job running and
            # asks it to stop, instead of cancelling a queued job this runner goes on to train.
            job = session.get(TrainingJob, self.job_id, with_for_update=True, populate_existing=True)
            if job is None or job.status != JobStatus.QUEUED.value:
                return "skipped"  # cancelled while queued, or already taken by another worker
            user = get_user(session=session, user_id=job.user_id)
            if user is None or not user.is_active or not can(Actor.of(user), Permission.TRAIN):
                # Demoted or deactivated since the job was queued: nothing trains or is saved in their name.
                self._close(job, JobStatus.FAILED, error=OWNER_CANNOT_TRAIN)
                log.info("job %s ended failed: %s", self.job_id, OWNER_CANNOT_TRAIN)
                return JobStatus.FAILED.value
            actor = Actor.of(user)
            job.status = JobStatus.RUNNING.value
            job.started_at = job.heartbeat_at = utc_now()
            job.message = "loading prices"
            self._kind = job.kind
            self._walkforward_settings = dict(job.config.get("walkforward", {}))
            config = TrainingConfig(**{k: v for k, v in job.config.items() if k != "walkforward"})
            prices = read_prices(session=session, actor=actor, ticker=job.ticker)
            ticker = job.ticker
        if prices.empty:
            return self._end(JobStatus.FAILED, error=f"no cached prices of {ticker}: fetch or upload them first")
        return actor, ticker, config, prices

    def _walk_forward(self, actor: Actor, ticker: str, config: TrainingConfig, prices) -> str:
        from core.forecasting.walkforward import WalkForwardSettings, walk_forward

        settings = WalkForwardSettings(**self._walkforward_settings)
        result = walk_forward(
            prices,
            config,
            settings,
            on_window=self._window,
            should_stop=self._cancel_requested,
            on_heartbeat=self._heartbeat,
        )
        if len(result.windows) < settings.windows:
            return self._end(
                JobStatus.CANCELLED, message=f"cancelled after window {len(result.windows)} of {settings.windows}"
            )
        return self._store_evaluation(
            Evaluation(
                user_id=actor.user_id,
                ticker=ticker,
                kind="walkforward",
                config={"training": config.model_dump(mode="json"), "walkforward": self._walkforward_settings},
                metrics=result.metrics | {"seconds": round(result.seconds, 1)},
                windows=result.windows,
            ),
            f"walk-forward over {result.metrics['days']} days: {result.metrics['verdict']}",
        )

    def _leaderboard(self, actor: Actor, ticker: str, config: TrainingConfig, prices) -> str:
        """Every model type on this ticker in one job, stored as an evaluation of kind "leaderboard"."""
        from core.forecasting.engine import leaderboard, rows_as_records

        rows = rows_as_records(
            leaderboard(
                prices,
                config=config,
                should_stop=self._cancel_requested,
                on_kind=self._model_type_done,
                on_heartbeat=self._heartbeat,
                on_epoch=self._model_type_epoch,
            )
        )
        return self._store_evaluation(
            Evaluation(
                user_id=actor.user_id,
                ticker=ticker,
                kind="leaderboard",
                config={"training": config.model_dump(mode="json")},
                metrics={"models": rows, "sorted_by": "validation_mase"},
                windows=[],
            ),
            f"leaderboard of {len(rows)} model types: best on validation {label(rows[0]['kind'])}",
        )

    def _store_evaluation(self, evaluation: Evaluation, message: str) -> str:
        """Store the job's evaluation and succeed it in one transaction, unless it was failed or cancelled
        while it ran (then its status, and nothing stored)."""
        with session_scope(self.sessions, action=f"save {evaluation.kind}") as session:
            job = self._finishing(session)
            if job.status != JobStatus.RUNNING.value:
                return job.status
            add_evaluation(session=session, evaluation=evaluation)
            self._succeed(job, message)
        return JobStatus.SUCCEEDED.value

    def _finishing(self, session: Session) -> TrainingJob:
        """The job row, locked until the result is saved with it; still running only if the result may be saved.

        A job closed meanwhile (failed by the reaper, say) keeps its ending, and one cancelled while a model
        without epochs fitted ends cancelled here: either way nothing is saved, and no version becomes active.
        """
        job = session.get(TrainingJob, self.job_id, with_for_update=True, populate_existing=True)
        if job.status not in OPEN:
            log.warning("job %s was %s while it ran: its result is not saved", self.job_id, job.status)
        elif job.cancel_requested:
            self._close(job, JobStatus.CANCELLED, message=CANCELLED_BEFORE_SAVING)
            log.info("job %s ended cancelled: %s", self.job_id, CANCELLED_BEFORE_SAVING)
        return job

    @staticmethod
    def _succeed(job: TrainingJob, message: str) -> None:
        job.status = JobStatus.SUCCEEDED.value
        job.progress = 1.0
        job.finished_at = utc_now()
        job.error = None
        job.message = message

    @staticmethod
    def _close(job: TrainingJob, status: JobStatus, *, error: str | None = None, message: str | None = None) -> None:
        job.status = status.value
        job.finished_at = utc_now()
        job.error = error
        job.message = message or error

    @contextmanager
    def _open_job(self) -> Iterator[TrainingJob | None]:
        """The job row locked for a progress write, or None once it is closed.

        Read without the lock, a row the reaper or a cancel was closing looks open, and the write that follows
        waits for their commit and then puts this runner's progress over their ending.
        """
        with session_scope(self.sessions, action="job progress") as session:
            job = session.get(TrainingJob, self.job_id, with_for_update=True, populate_existing=True)
            yield job if job is not None and job.status in OPEN else None

    @staticmethod
    def _say(job: TrainingJob, message: str) -> None:
        if not job.cancel_requested:  # "cancelling ..." stays on the page until the job ends
            job.message = message

    def _window(self, window: int, windows: int) -> None:
        self._progress(window / windows, f"window {window} of {windows} done")

    def _model_type_done(self, done: int, total: int) -> None:
        self._progress(done / total, f"{done} of {total} model types done")

    def _model_type_epoch(self, kind: str, share: float, epoch: int, epochs: int) -> None:
        self._progress(share, f"{kind.upper()}: epoch {epoch} of {epochs}")  # only the networks have epochs

    def _progress(self, share: float, message: str) -> None:
        with self._open_job() as job:
            if job is not None:
                job.progress = share
                job.heartbeat_at = utc_now()
                self._say(job, message)

    def _epoch(self, epoch: int, epochs: int, loss: float, val_loss: float | None) -> None:
        with self._open_job() as job:
            if job is None:
                return
            history = dict(job.history or {})
            history["loss"] = [*history.get("loss", []), loss]
            history["val_loss"] = [*history.get("val_loss", []), val_loss]
            history = json_safe(history)
            job.history = history
            job.progress = epoch / epochs
            job.heartbeat_at = utc_now()
            shown = f", val_loss {val_loss:.4f}" if val_loss is not None else ""
            self._say(job, f"epoch {epoch} of {epochs}: loss {loss:.4f}{shown}")

    def _say_what(self, config: TrainingConfig, days: int) -> None:
        """Replace "loading prices" with the work itself: a network's first seconds go to TensorFlow's import."""
        what = "every model type" if self._kind == "leaderboard" else label(config.model_type)
        networks = self._kind == "leaderboard" or config.model_type in NETWORK_KINDS
        doing = {"walkforward": "walk-forward", "leaderboard": "leaderboard"}.get(self._kind, "training")
        message = f"{doing}: {what}, {days:,} days" + (" (TensorFlow loads first)" if networks else "")
        with self._open_job() as job:
            if job is not None:
                job.heartbeat_at = utc_now()
                self._say(job, message)

    def _heartbeat(self) -> None:
        with self._open_job() as job:
            if job is not None:
                job.heartbeat_at = utc_now()

    def _cancel_requested(self) -> bool:
        """Whether to stop: cancelled, or closed by someone else (its result would not be saved)."""
        with session_scope(self.sessions, action="job cancel check") as session:
            job = session.get(TrainingJob, self.job_id)
            return bool(job.cancel_requested) or job.status not in OPEN

    def _end(self, status: JobStatus, *, error: str | None = None, message: str | None = None) -> str:
        with session_scope(self.sessions, action="end training job") as session:
            job = session.get(TrainingJob, self.job_id, with_for_update=True, populate_existing=True)
            if job.status not in OPEN:
                return job.status  # closed meanwhile: the first ending stands
            self._close(job, status, error=error, message=message)
        log.info("job %s ended %s: %s", self.job_id, status.value, error or message)
        return status.value
