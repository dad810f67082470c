"""The processes that run training jobs: an RQ worker on the training queue (make worker), or one local job.

`python -m core.worker` listens on the queue (needs Redis); `python -m core.worker --job ID` runs
one job and exits, as the app starts it for every job when no Redis is configured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from rq import SimpleWorker

from common.config import ConfigError, get_settings
from common.logging import configure_logging, get_logger
from core.redis_client import RedisState, redis_status, require_redis
from db.engine import DatabaseFileError, get_engine

# RQ drops a worker from its registry this long (+60 s) after its last heartbeat, so a killed
# worker stops counting as "listening" within three minutes instead of RQ's default eight; a busy
# one too, as it beats from a thread while its job runs (TrainingWorker).
WORKER_TTL_SECONDS = 120
BUSY_BEAT_SECONDS = 30.0
PARENT_CHECK_SECONDS = 2.0
# Training is batch work; pages answer people. TensorFlow's thread pools and the training loop keep
# both cores busy, and at equal priority the app's server got a share of a core like theirs: pages
# took about twice as long to show while a job ran. At the lowest priority (19), each of the job's
# threads weighs 1/68 of a normal one when something else wants a core, and on an otherwise idle
# machine still gets all of it, so a training is no slower unless something else wants the cores
# (bench/train_in_app.py: 0.84x the command line's time). Ten steps down (1/9) left the slowest
# page loads at about 1 s (bench/pages_under_job.py). Capping the job's threads instead would slow every training,
# busy machine or not. A job holds SQLite's write lock for a few milliseconds per epoch and page
# reads do not wait for it (read-only scopes).
JOB_NICENESS = 19
# Nice ranks threads only within one scheduling group. Linux puts each session in a group of its own
# (autogroups, on by default), and the groups share the CPU equally: a job in the app's session,
# nice or not, took its group's half of the machine from the browser's group whenever the server
# idled, and Chromium on the same two cores rendered pages behind it. So the app starts a job in a
# session of its own and lowers that group too. Without CAP_SYS_ADMIN the kernel takes one such write
# per 100 ms on the whole machine, hence a few tries.
AUTOGROUP_TRIES = 5

log = get_logger("jobs")


class TrainingWorker(SimpleWorker):
    """RQ's SimpleWorker, which beats while its job runs and registers itself again when Redis has forgotten it.

    A SimpleWorker runs the job in its own thread and so cannot beat meanwhile: RQ gives its key the
    job's timeout + 60 s to live instead (two hours), and a worker killed during a job counted as
    "listening (1 busy)" all that while. This one beats from a thread every BUSY_BEAT_SECONDS and
    never asks its key to outlive a beat by more than WORKER_TTL_SECONDS + 60.

    A Redis restart (this Redis keeps nothing on disk) or a flush drops the worker's registration
    while it goes on listening: the Train page and `core check` then said no worker listened, and
    RQ's own heartbeat only extends a key that is gone. An idle worker beats about every two minutes.
    """

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        limit = self.worker_ttl + 60
        super().heartbeat(min(timeout or limit, limit), pipeline)
        if pipeline is None and not self.connection.hexists(self.key, "birth"):
            log.warning("Redis had forgotten worker %s: registering it again", self.name)
            self.connection.delete(self.key)  # only the heartbeat's field: register_birth refuses a live key
            self.register_birth()
            self._restore_state()

    def _restore_state(self) -> None:
        """Write again what register_birth leaves out: the state and the job in hand.

        Born again in the middle of a job, the worker counted as idle ("0 busy" in `core check`) and named
        no current job until the job ended.
        """
        with self.connection.pipeline() as pipeline:
            self.set_state(self.get_state(), pipeline=pipeline)
            for execution in list(self.executions.values()):
                execution.save(ttl=self._execution_ttl(execution), pipeline=pipeline)
                pipeline.sadd(self.executions_key, execution.composite_key)
                pipeline.expire(self.executions_key, self.worker_ttl + 60)
            pipeline.execute()

    def _execution_ttl(self, execution) -> int:
        """The time to live RQ gave the execution (the job's timeout + 60 s), or a beat's if its job is gone too."""
        try:
            return self.get_heartbeat_ttl(execution.job)
        except Exception:  # noqa: BLE001 - a flushed Redis may have lost the job as well: the beat renews it
            return self.worker_ttl + 60

    def execute_job(self, job, queue) -> None:
        done = threading.Event()
        beats = threading.Thread(target=self._beat_until, args=(done,), name="candlecast-worker-beat", daemon=True)
        beats.start()
        try:
            super().execute_job(job, queue)
        finally:
            done.set()
            beats.join()

    def _beat_until(self, done: threading.Event) -> None:
        while not done.wait(BUSY_BEAT_SECONDS):
            try:
                self.heartbeat()
            except Exception:  # a Redis that fails a beat may answer the next one
                log.warning("worker %s could not beat during its job", self.name, exc_info=True)


def run_local_job(job_id: uuid.UUID, client_address: str | None = None) -> int:
    """Run one job in this process, below the app's priority, stopping if the app that started it goes away."""
    yield_cpu_to_pages()
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    from core.jobs import run_job

    status = run_job(str(job_id), client_address)
    log.info("job process %s for %s ended: %s", os.getpid(), job_id, status)
    return 0


def yield_cpu_to_pages() -> None:
    """Lower this process's CPU priority by JOB_NICENESS; call it once, before any thread starts.

    On Linux each thread has its own priority and new threads inherit their creator's, so this
    must run before TensorFlow starts its thread pools, for them to yield too.
    """
    with contextlib.suppress(AttributeError, OSError):  # a platform without nice trains at normal priority
        os.nice(JOB_NICENESS)


def lower_job_process(pid: int) -> None:
    """Put a job process the app has just started (in a session of its own) below the app and below the
    machine's other sessions, before it has imported anything."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, min(os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS, 19))
    autogroup = Path(f"/proc/{pid}/autogroup")
    for _ in range(AUTOGROUP_TRIES):
        try:
            autogroup.write_text(f"{JOB_NICENESS}\n")
            return
        except BlockingIOError:  # another group's nice was set in the last 100 ms
            time.sleep(0.1)
        except OSError:  # no autogroups (another OS, or a kernel without them): nice alone
            return


def _exit_when_orphaned(parent: int) -> None:
    # A stopped app must not leave trainings behind that nobody can watch or cancel.
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            log.warning("the app that started job process %s is gone: stopping", os.getpid())
            os._exit(3)


def database_problem() -> str | None:
    """Why this worker's database cannot run jobs, as `python -m core check` finds it (unreachable, no schema, an
    old one), naming DATABASE_URL without its password; None when it can."""
    from core.status import database_status  # it imports the job queue, which imports this module

    try:
        engine = get_engine()
        status = database_status(engine)
    except DatabaseFileError as error:
        return str(error)  # names the file or folder that cannot be created
    if status.problem is None:
        return None
    password = engine.url.password
    problem = status.problem.replace(password, "***") if password else status.problem  # should a driver quote it
    return f"DATABASE_URL {status.url}: {problem}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--job", type=uuid.UUID, help="run this one job in this process, then exit (no Redis)")
    parser.add_argument("--client-address", help="the address of the request that queued the job, for its audit rows")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
        # A job's process writes to the app's log alone: its console is nobody's.
        configure_logging(settings.log_path, settings.log_level, console=not args.job)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if args.job:
        return run_local_job(args.job, args.client_address)
    if not settings.redis_url:
        print(
            "REDIS_URL is not set: without Redis the app runs each job in a process of its own and needs no worker.",
            file=sys.stderr,
        )
        return 2
    status = redis_status()
    if status.state != RedisState.OK:
        print(f"Redis at REDIS_URL does not answer: {status.detail}", file=sys.stderr)
        return 1
    problem = database_problem()
    if problem:
        # A worker without its database registered as listening and failed every job it took.
        print(f"error: {problem}", file=sys.stderr)
        return 1
    yield_cpu_to_pages()  # a worker may share its machine with the app, whose pages come first
    # A SimpleWorker runs jobs in its own process: TensorFlow loads once per worker instead of
    # once per job, and is never forked after it has started its threads. A worker that dies
    # leaves its job to the heartbeat check, which marks it failed.
    worker = TrainingWorker([settings.training_queue], connection=require_redis(), worker_ttl=WORKER_TTL_SECONDS)
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
