"""Training jobs: local job processes and a real RQ worker on real Redis, cancel, dead runners, worker registry."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL

from common.config import get_settings
from common.errors import Refusal
from core.actions import quotas
from core.audit import client_address
from core.data.service import import_prices
from core.forecasting import trainer
from core.forecasting.dataset import DatasetError
from core.forecasting.engine import MIN_ROWS
from core.forecasting.training import train_model
from core.jobs import (
    CANCELLING_EPOCH,
    CANCELLING_MODEL_TYPE,
    CANCELLING_WINDOW,
    STALE_AFTER,
    JobError,
    cancel_job,
    dispatch,
    list_jobs,
    queue_training,
    run_job,
    runner_status,
)
from core.redis_client import require_redis
from core.results import DEFAULT_LIMIT
from core.services import models
from core.throttle import get_throttle
from core.worker import JOB_NICENESS
from db.engine import DATABASE_REFUSED, session_scope
from db.migrate import upgrade_to_head
from db.models import AuditLog, Evaluation, ModelVersion, TrainingJob
from db.models.accounts import Role
from db.models.forecasting import JobStatus
from db.types import utc_now
from tests.accounts import make_account
from tests.core.forecasting.tiny import fixture_prices, tiny_config
from tests.fixtures import gspc_2018_bytes
from tests.process_state import reset_process_state

TICKER = "JOBSPX"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app_database(request, monkeypatch, tmp_path):
    """DATABASE_URL at a migrated database of each backend, holding the 2018 prices as JOBSPX."""
    if request.param == "sqlite":
        url = URL.create("sqlite", database=str(tmp_path / "jobs.db"))
        upgrade_to_head(url)
    else:
        url = request.getfixturevalue("postgres_database_url")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker=TICKER, date_format=None, skip_bad_rows=False, owner=None
        )
    return url


def use_env(monkeypatch, **variables: str) -> None:
    """Set environment variables and forget the cached settings, as a process started with them would."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_process_state()


def job(job_id) -> TrainingJob:
    with session_scope() as session:
        return session.get(TrainingJob, job_id)


def wait_for(job_id, timeout=300) -> TrainingJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = job(job_id)
        if current.status in ("succeeded", "failed", "cancelled"):
            return current
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {current.status} after {timeout} s")


def queue(actor, tickers=(TICKER,), **config):
    return queue_training(
        actor=actor,
        tickers=list(tickers),
        config=tiny_config(**config),
        settings=get_settings(),
        throttle=get_throttle(),
    )


def training_audit_addresses() -> dict[str, str | None]:
    """The client address of each training audit row, by status (queued, ok)."""
    with session_scope() as session:
        return {row.status: row.ip for row in session.scalars(select(AuditLog).where(AuditLog.action == "train"))}


def child_pid(job_id, timeout=300) -> int:
    """The pid of the process the app started for the job, once the job runs there.

    The process runs below the tests' priority, so on a busy machine it may take a while to start.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = job(job_id)
        parts = (current.queue_job_id or "").split(":")
        if current.status == "running" and len(parts) == 4:
            return int(parts[3])
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not start a process: {current.status}, {current.queue_job_id}")


def dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    return finished.pid


def test_without_redis_a_job_trains_in_a_process_of_its_own(app_database):
    actor = make_account(app_database)
    with client_address("203.0.113.7"):
        (job_id,) = queue(actor)
    # The runner may already have started the child and added its pid to the marker.
    assert job(job_id).queue_job_id.startswith(f"local:{socket.gethostname()}:{os.getpid()}")
    finished = wait_for(job_id)
    marker = finished.queue_job_id.split(":")
    assert int(marker[3]) != os.getpid(), "the training ran in a child process, not in the app's"
    assert finished.status == "succeeded", finished.error
    assert finished.progress == 1.0
    assert len(finished.history["loss"]) == len(finished.history["val_loss"]) >= 1
    assert finished.model_version_id is not None
    assert finished.message.startswith("v1: ")
    assert finished.started_at <= finished.finished_at
    # The job's own audit rows carry the address of the request that queued it.
    assert training_audit_addresses() == {"queued": "203.0.113.7", "ok": "203.0.113.7"}


def test_a_real_rq_worker_runs_the_job(app_database, monkeypatch, redis_url):
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    actor = make_account(app_database)
    with client_address("198.51.100.4"):
        (job_id,) = queue(actor)
    assert job(job_id).queue_job_id.startswith("rq:")
    assert job(job_id).status == "queued"
    settings = get_settings()
    SimpleWorker([settings.training_queue], connection=require_redis()).work(burst=True)
    finished = job(job_id)
    assert finished.status == "succeeded", finished.error
    assert finished.model_version_id is not None
    assert training_audit_addresses() == {"queued": "198.51.100.4", "ok": "198.51.100.4"}


def test_several_tickers_queue_what_can_be_queued_and_name_each_refusal(app_database, queued_jobs):
    # A refusal in the middle used to hide the jobs queued before it and skip the tickers after it.
    actor = make_account(app_database)
    with pytest.raises(Refusal) as refused:
        queue(actor, tickers=("NOPRICES", TICKER))
    assert str(refused.value) == (
        f"queued 1 of 2 training jobs ({TICKER}); not queued: NOPRICES (no cached prices of NOPRICES: fetch or "
        "upload them first)"
    )
    with session_scope() as session:
        tickers = session.scalars(select(TrainingJob.ticker).where(TrainingJob.user_id == actor.user_id)).all()
    assert tickers == [TICKER]


def test_a_job_redis_could_not_take_is_named_among_the_not_queued(app_database, monkeypatch):
    # The summary was written before dispatch, which failed the job: "queued 1 of 2 (JOBSPX)".
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    actor = make_account(app_database)
    with session_scope() as session:
        short = b"\n".join(gspc_2018_bytes().splitlines()[:41])
        import_prices(session=session, data=short, ticker="SHORT", date_format=None, skip_bad_rows=False, owner=actor)
    with pytest.raises(Refusal) as refused:
        queue(actor, tickers=("SHORT", TICKER), model_type="median")
    assert str(refused.value) == (
        f"queued 0 of 2 training jobs; not queued: SHORT (too little history: 40 days; at least {MIN_ROWS} are "
        f"needed); {TICKER} (could not queue the job: Redis unreachable)"
    )
    with session_scope() as session:
        rows = session.execute(
            select(TrainingJob.ticker, TrainingJob.status).where(TrainingJob.user_id == actor.user_id)
        )
        assert rows.all() == [(TICKER, "failed")]


def test_a_ticker_without_prices_is_refused_before_a_job_is_queued(app_database):
    actor = make_account(app_database)
    with pytest.raises(JobError, match="no cached prices of NOPRICES: fetch or upload them first"):
        queue(actor, tickers=("NOPRICES",))
    with session_scope() as session:
        assert not session.scalars(select(TrainingJob).where(TrainingJob.user_id == actor.user_id)).all()


def test_prices_gone_by_the_time_a_job_runs_fail_it_with_a_message(app_database):
    actor = make_account(app_database)
    with session_scope() as session:
        row = TrainingJob(user_id=actor.user_id, ticker="NOPRICES", config=tiny_config().model_dump(mode="json"))
        session.add(row)
        session.flush()
        job_id = row.id
    dispatch(job_id)
    finished = wait_for(job_id)
    assert (finished.status, finished.error) == ("failed", "no cached prices of NOPRICES: fetch or upload them first")


def test_a_queued_job_cancels_at_once(app_database, monkeypatch, redis_url):
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    actor = make_account(app_database)
    (job_id,) = queue(actor)
    with session_scope() as session:
        assert cancel_job(session=session, actor=actor, job_id=job_id).status == "cancelled"
    SimpleWorker([get_settings().training_queue], connection=require_redis()).work(burst=True)
    assert job(job_id).status == "cancelled", "the worker skips a cancelled job"


def test_a_job_cancelled_before_its_process_trains_stops_before_training(app_database):
    actor = make_account(app_database)
    with session_scope() as session:
        row = TrainingJob(
            user_id=actor.user_id, ticker=TICKER, config=tiny_config(epochs=50, patience=50).model_dump(mode="json")
        )
        row.cancel_requested = True  # as if Cancel was pressed while it ran
        session.add(row)
        session.flush()
        job_id = row.id
    dispatch(job_id)
    finished = wait_for(job_id)
    assert finished.status == "cancelled"
    assert finished.message == "cancelled before training started"


def test_a_job_process_that_dies_leaves_the_job_failed_with_why(app_database):
    actor = make_account(app_database)
    (job_id,) = queue(actor, epochs=500, patience=100)
    os.kill(child_pid(job_id), signal.SIGKILL)
    finished = wait_for(job_id, timeout=30)
    assert (finished.status, finished.error) == (
        "failed",
        "the training process was stopped (SIGKILL) before the job finished",
    )


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads each thread's priority from /proc")
def test_a_job_process_and_every_thread_of_its_training_run_below_the_app(app_database):
    actor = make_account(app_database)
    (job_id,) = queue(actor, epochs=500, patience=100)
    pid = child_pid(job_id)
    deadline = time.monotonic() + 300
    while not job(job_id).history.get("loss") and time.monotonic() < deadline:
        time.sleep(0.2)  # after an epoch, TensorFlow's thread pools exist
    priorities = {int(tid): os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}
    with session_scope() as session:
        cancel_job(session=session, actor=actor, job_id=job_id)
    assert wait_for(job_id).status == "cancelled"
    assert len(priorities) > 2, "TensorFlow's threads were running"
    lowered = min(os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS, 19)
    assert min(priorities.values()) == lowered, priorities


def test_the_job_process_is_lowered_before_its_imports(app_database):
    actor = make_account(app_database)
    (job_id,) = queue(actor, epochs=500, patience=100)
    deadline = time.monotonic() + 300
    while len((job(job_id).queue_job_id or "").split(":")) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)  # local:host:app pid:child pid, once the child is started
    pid = int(job(job_id).queue_job_id.split(":")[3])
    # Read as soon as the process is recorded, long before it has imported enough to lower itself.
    started_at = os.getpriority(os.PRIO_PROCESS, pid)
    with session_scope() as session:
        cancel_job(session=session, actor=actor, job_id=job_id)
    wait_for(job_id)
    assert started_at == min(os.getpriority(os.PRIO_PROCESS, 0) + JOB_NICENESS, 19)


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="a kernel without scheduling autogroups")
def test_the_job_process_has_a_session_whose_scheduling_group_is_lowered(app_database):
    actor = make_account(app_database)
    (job_id,) = queue(actor, epochs=500, patience=100)
    pid = child_pid(job_id)
    session, autogroup = os.getsid(pid), Path(f"/proc/{pid}/autogroup").read_text()
    with session_scope() as db_session:
        cancel_job(session=db_session, actor=actor, job_id=job_id)
    assert wait_for(job_id).status == "cancelled"
    # Nice alone ranks the job only against the app; between sessions the kernel shares by group.
    assert session == pid != os.getsid(0)
    assert autogroup.split()[-2:] == ["nice", str(JOB_NICENESS)], autogroup


def test_jobs_run_one_after_another_and_the_second_says_it_waits(app_database):
    actor = make_account(app_database)
    first, second = (queue(actor, epochs=500, patience=100)[0], queue(actor)[0])
    child_pid(first)
    waiting = job(second)
    assert (waiting.status, waiting.message) == ("queued", "queued: waiting for the job before it")
    with session_scope() as session:
        cancel_job(session=session, actor=actor, job_id=first)
    assert wait_for(first).status == "cancelled"
    assert wait_for(second).status == "succeeded"


def test_a_dead_worker_leaves_the_job_failed(app_database):
    actor = make_account(app_database)
    with session_scope() as session:
        stale = TrainingJob(user_id=actor.user_id, ticker=TICKER, status=JobStatus.RUNNING.value, config={})
        stale.started_at = stale.heartbeat_at = utc_now() - STALE_AFTER - timedelta(seconds=1)
        host = socket.gethostname()
        markers = [f"local:{host}:{dead_pid()}", "thread:1", f"local:{host}:1:{dead_pid()}", "local:elsewhere:1"]
        others = [
            TrainingJob(user_id=actor.user_id, ticker=TICKER, status=JobStatus.QUEUED.value, config={}, queue_job_id=m)
            for m in markers
        ]
        session.add_all([stale, *others])
        session.flush()
        ids = [stale.id, *(other.id for other in others)]
    with session_scope() as session:
        listed = {j.id: j for j in list_jobs(session=session, actor=actor)}
    assert listed[ids[0]].status == "failed"
    assert listed[ids[0]].error.startswith("the worker stopped responding (no heartbeat since")
    assert listed[ids[1]].error == "the app restarted before this job finished"
    assert listed[ids[2]].error == "the app restarted before this job finished", "a version that used threads"
    assert listed[ids[3]].error == "the training process stopped before the job finished"
    assert listed[ids[4]].status == "queued", "another machine's processes are judged by heartbeat only"


@pytest.mark.redis
def test_a_job_the_queue_lost_is_failed(app_database, monkeypatch, redis_url):
    use_env(monkeypatch, REDIS_URL=redis_url)
    actor = make_account(app_database)
    with session_scope() as session:
        lost = TrainingJob(
            user_id=actor.user_id,
            ticker=TICKER,
            status=JobStatus.QUEUED.value,
            config={},
            queue_job_id=f"rq:{uuid.uuid4()}",
        )
        session.add(lost)
        session.flush()
        job_id = lost.id
    with session_scope() as session:
        list_jobs(session=session, actor=actor)
    assert job(job_id).error.startswith("the queue lost this job")


def test_redis_down_fails_the_job_instead_of_the_page(app_database, monkeypatch):
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    actor = make_account(app_database)
    (job_id,) = queue(actor)
    assert job(job_id).status == "failed"
    assert job(job_id).error.startswith("could not queue the job: Redis unreachable")


def test_a_viewer_cannot_start_training(app_database):
    from core.auth import PermissionDeniedError

    viewer = make_account(app_database, role=Role.VIEWER)
    with pytest.raises(PermissionDeniedError, match="the viewer role cannot train"):
        queue(viewer)
    with session_scope() as session:
        assert list_jobs(session=session, actor=viewer) == []


def test_open_jobs_older_than_the_newest_finished_ones_are_listed_all_the_same(app_database):
    # A running job behind the 50 newest finished ones lost its card, its Cancel and its refresh on the Train page.
    actor = make_account(app_database)
    now = utc_now()
    with session_scope() as session:
        still_open = [
            TrainingJob(user_id=actor.user_id, ticker=TICKER, config={}, status=JobStatus.RUNNING.value,
                        created_at=now - timedelta(minutes=30), started_at=now, heartbeat_at=now),
            TrainingJob(user_id=actor.user_id, ticker=TICKER, config={}, status=JobStatus.QUEUED.value,
                        created_at=now - timedelta(minutes=40), queue_job_id="local:elsewhere:1"),
        ]  # fmt: skip
        finished = [
            TrainingJob(user_id=actor.user_id, ticker=TICKER, config={}, status=JobStatus.SUCCEEDED.value,
                        created_at=now - timedelta(minutes=20) + timedelta(seconds=n))
            for n in range(DEFAULT_LIMIT + 1)
        ]  # fmt: skip
        session.add_all([*still_open, *finished])
        session.flush()
        newest_finished = [row.id for row in reversed(finished)][:DEFAULT_LIMIT]
        open_ids = [row.id for row in still_open]
    assert [listed.id for listed in models.list_jobs(actor)] == newest_finished + open_ids
    assert [listed.id for listed in models.list_jobs(actor, 3)] == newest_finished[:3], "a limit asked for holds"


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMIN])
def test_someone_elses_job_is_neither_listed_nor_cancelled(app_database, role):
    """Not even by an admin: admins manage accounts, not other people's analyses."""
    owner, other = make_account(app_database), make_account(app_database, role=role)
    with session_scope() as session:
        row = TrainingJob(user_id=owner.user_id, ticker=TICKER, config={})
        session.add(row)
        session.flush()
        job_id = row.id
    with session_scope() as session:
        assert [job.id for job in list_jobs(session=session, actor=owner)] == [job_id]
        assert list_jobs(session=session, actor=other) == []
    with session_scope() as session, pytest.raises(JobError, match="no such job"):
        cancel_job(session=session, actor=other, job_id=job_id)


def test_without_redis_the_app_itself_runs_jobs():
    runner = runner_status()
    assert (runner.local, runner.problem) == (True, None)


@pytest.mark.redis
def test_the_status_says_whether_a_worker_listens_on_the_queue(monkeypatch, redis_url):
    queue_name = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=queue_name)
    nobody = runner_status()
    assert (nobody.workers, nobody.problem) == (
        0,
        f"no worker is listening on the queue {queue_name!r}: queued jobs wait until one starts "
        "(`make worker`, or `python -m core.worker`)",
    )
    worker = SimpleWorker([queue_name], connection=require_redis())
    worker.register_birth()
    try:
        listening = runner_status()
        assert (listening.workers, listening.busy, listening.problem) == (1, 0, None)
        assert listening.last_heartbeat is not None
        assert listening.summary() == f"1 worker listening on {queue_name!r} (0 busy, 1 idle)"
    finally:
        worker.register_death()
    assert runner_status().workers == 0, "a worker that stopped no longer counts"


def test_an_unreachable_redis_leaves_the_workers_unknown(monkeypatch):
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    runner = runner_status()
    assert runner.workers is None
    assert runner.problem.startswith("cannot tell whether a worker listens on the queue")


def open_job(actor, *, kind="train", status=JobStatus.RUNNING, **config) -> uuid.UUID:
    """A job row as a runner leaves it once it has started (heartbeat now), or queued."""
    with session_scope() as session:
        row = TrainingJob(
            user_id=actor.user_id,
            ticker=TICKER,
            kind=kind,
            status=status.value,
            config=tiny_config(**config).model_dump(mode="json"),
        )
        if status == JobStatus.RUNNING:
            row.started_at = row.heartbeat_at = utc_now()
        session.add(row)
        session.flush()
        return row.id


def stored(actor) -> dict[str, int]:
    with session_scope() as session:
        mine = {
            table.__name__: session.scalars(select(table.id).where(table.user_id == actor.user_id)).all()
            for table in (ModelVersion, Evaluation)
        }
    return {name: len(ids) for name, ids in mine.items()}


def after_training(monkeypatch, then) -> None:
    """Run `then` once the fit is done and before the trainer saves its result, as a request racing it would."""

    def training(*args, **kwargs):
        result = train_model(*args, **kwargs)
        then()
        return result

    monkeypatch.setattr(trainer, "train_model", training)


@pytest.mark.redis
def test_a_running_job_with_a_fresh_heartbeat_is_not_failed_because_the_queue_lost_it(
    app_database, monkeypatch, redis_url
):
    # A Redis flush or restart loses RQ's entry, not the worker, which goes on beating and saving.
    use_env(monkeypatch, REDIS_URL=redis_url)
    actor = make_account(app_database)
    job_id = open_job(actor, model_type="median")
    with session_scope() as session:
        session.get(TrainingJob, job_id).queue_job_id = f"rq:{uuid.uuid4()}"
    with session_scope() as session:
        list_jobs(session=session, actor=actor)
    assert (job(job_id).status, job(job_id).error) == ("running", None)


def test_a_list_marks_failed_only_the_listers_own_stale_jobs(app_database):
    actor, other = make_account(app_database), make_account(app_database)
    silent_since = utc_now() - STALE_AFTER - timedelta(seconds=1)
    with session_scope() as session:
        rows = [
            TrainingJob(user_id=owner.user_id, ticker=TICKER, status=JobStatus.RUNNING.value, config={},
                        started_at=silent_since, heartbeat_at=silent_since)
            for owner in (actor, other)
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        mine, theirs = (row.id for row in rows)
    models.list_jobs(actor)
    assert (job(mine).status, job(theirs).status) == ("failed", "running")
    models.list_jobs(other)
    assert job(theirs).status == "failed"


REFUSE_VERSIONS = {
    "sqlite": ["CREATE TRIGGER refuse_versions BEFORE INSERT ON model_versions BEGIN SELECT RAISE(ABORT, 'no'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_versions() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'no'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_versions BEFORE INSERT ON model_versions FOR EACH ROW"
        " EXECUTE FUNCTION refuse_versions()",
    ],
}
ALLOW_VERSIONS = {
    "sqlite": ["DROP TRIGGER refuse_versions"],
    "postgresql": ["DROP TRIGGER refuse_versions ON model_versions", "DROP FUNCTION refuse_versions()"],
}


def test_a_result_the_database_refuses_fails_the_job_with_the_database_message_not_its_sql(app_database):
    # The job's error is shown on the Train page and by the API: the driver's text (the statement, the
    # table's columns) is for the log.
    actor = make_account(app_database)
    job_id = open_job(actor, status=JobStatus.QUEUED, model_type="median")
    statements = create_engine(app_database)
    with statements.begin() as connection:
        for statement in REFUSE_VERSIONS[app_database.get_backend_name()]:
            connection.exec_driver_sql(statement)
    try:
        assert run_job(str(job_id)) == "failed"
    finally:
        with statements.begin() as connection:
            for statement in ALLOW_VERSIONS[app_database.get_backend_name()]:
                connection.exec_driver_sql(statement)
        statements.dispose()
    assert job(job_id).error == DATABASE_REFUSED
    assert stored(actor) == {"ModelVersion": 0, "Evaluation": 0}


def test_a_job_reaped_while_it_ran_saves_no_version_and_stays_failed(app_database, monkeypatch):
    actor = make_account(app_database)
    job_id = open_job(actor, status=JobStatus.QUEUED, model_type="median")

    def reaped():
        with session_scope() as session:
            session.get(TrainingJob, job_id).heartbeat_at = utc_now() - STALE_AFTER - timedelta(seconds=1)
        models.list_jobs(actor)

    after_training(monkeypatch, reaped)
    assert run_job(str(job_id)) == "failed"
    finished = job(job_id)
    assert finished.status == "failed"
    assert finished.error.startswith("the worker stopped responding")
    assert finished.model_version_id is None
    assert stored(actor) == {"ModelVersion": 0, "Evaluation": 0}


def test_a_running_model_without_epochs_that_is_cancelled_saves_no_version(app_database, monkeypatch):
    actor = make_account(app_database)
    job_id = open_job(actor, status=JobStatus.QUEUED, model_type="ridge")
    answers = []
    after_training(monkeypatch, lambda: answers.append(models.cancel_job(actor, job_id)))
    assert run_job(str(job_id)) == "cancelled"
    assert (answers[0].status, answers[0].cancel_requested) == ("running", True)
    assert answers[0].message == "cancelling when the fit ends: this model type has no epochs; no version will be saved"
    finished = job(job_id)
    assert (finished.status, finished.message, finished.model_version_id) == (
        "cancelled",
        "cancelled before its result was saved",
        None,
    )
    assert stored(actor) == {"ModelVersion": 0, "Evaluation": 0}


def test_a_cancelled_leaderboard_stops_between_model_types(app_database, monkeypatch):
    from core.forecasting import engine

    actor = make_account(app_database)
    job_id = open_job(actor, kind="leaderboard", status=JobStatus.QUEUED, model_type="auto")
    evaluated, answers = [], []
    evaluate = engine.evaluate

    def evaluate_then_cancel(kind, *args, **kwargs):
        assert kind != "lstm", "a cancelled leaderboard went on to the network"
        evaluated.append(kind)
        if len(evaluated) == 1:
            answers.append(models.cancel_job(actor, job_id))
        return evaluate(kind, *args, **kwargs)

    monkeypatch.setattr(engine, "evaluate", evaluate_then_cancel)
    assert run_job(str(job_id)) == "cancelled"
    assert answers[0].message == CANCELLING_MODEL_TYPE
    assert evaluated == ["persistence"]
    finished = job(job_id)
    assert (finished.status, finished.message) == ("cancelled", "cancelled after 1 of 9 model types")
    assert stored(actor) == {"ModelVersion": 0, "Evaluation": 0}


@pytest.mark.redis
def test_reading_one_job_notices_that_the_queue_lost_it(app_database, monkeypatch, redis_url):
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    actor = make_account(app_database)
    (job_id,) = queue(actor, model_type="median")
    require_redis().delete(f"rq:job:candlecast-{job_id}")  # as a flush or a restart without persistence does
    polled = models.get_job(actor, job_id)
    assert polled.status == "failed"
    assert polled.error.startswith("the queue lost this job")


def test_redis_down_at_submit_answers_with_the_failed_job(app_database, monkeypatch):
    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    actor = make_account(app_database)
    answered = models.submit_job(actor, TICKER, {"model_type": "median"})
    assert answered.status == "failed"
    assert answered.error.startswith("could not queue the job: Redis unreachable")
    (submitted,) = models.submit_training(actor, [TICKER], {"model_type": "median"})
    assert (submitted.status, submitted.error) == (answered.status, answered.error)


@pytest.mark.parametrize("ending", [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_cancelling_a_finished_job_changes_nothing_and_audits_nothing(app_database, ending):
    actor = make_account(app_database)
    job_id = open_job(actor, status=ending, model_type="median")
    with session_scope() as session:
        session.get(TrainingJob, job_id).message = "as it ended"
    answered = models.cancel_job(actor, job_id)
    assert (answered.status, answered.message, answered.cancel_requested) == (ending.value, "as it ended", False)
    with session_scope() as session:
        audited = session.scalars(
            select(AuditLog.status).where(AuditLog.action == "train cancel", AuditLog.user_id == actor.user_id)
        ).all()
    assert audited == []


def test_too_short_a_history_is_refused_before_a_job_is_queued_or_the_quota_used(app_database):
    actor = make_account(app_database)
    with session_scope() as session:
        short = b"\n".join(gspc_2018_bytes().splitlines()[:41])
        import_prices(session=session, data=short, ticker="SHORT", date_format=None, skip_bad_rows=False, owner=actor)

    def trainings_left() -> int:
        (train,) = (
            q for q in quotas(actor=actor, settings=get_settings(), throttle=get_throttle()) if q.action == "train"
        )
        return train.remaining

    left = trainings_left()
    with pytest.raises(DatasetError, match=f"^too little history: 40 days; at least {MIN_ROWS} are needed$"):
        queue(actor, tickers=("SHORT",), model_type="median")
    assert trainings_left() == left
    with session_scope() as session:
        queued = session.scalars(select(TrainingJob.id).where(TrainingJob.user_id == actor.user_id)).all()
    assert queued == []


@pytest.mark.parametrize(("model_type", "said"), [("lstm", CANCELLING_EPOCH), ("ridge", CANCELLING_WINDOW)])
def test_a_running_walk_forward_says_when_it_will_stop(app_database, model_type, said):
    """A network stops at its next epoch inside a window; any other type when its window's fit ends."""
    actor = make_account(app_database)
    job_id = open_job(actor, kind="walkforward", model_type=model_type)
    assert models.cancel_job(actor, job_id).message == said


def trainings_left(actor) -> int:
    (train,) = (q for q in quotas(actor=actor, settings=get_settings(), throttle=get_throttle()) if q.action == "train")
    return train.remaining


def fit_failure(config) -> str:
    """What a job of these settings would fail with in the worker, on the same 251 days as JOBSPX."""
    with pytest.raises(DatasetError) as failed:
        train_model(fixture_prices(), config)
    return str(failed.value)


def test_settings_a_model_cannot_train_on_are_refused_at_submit_in_the_words_the_fit_fails_with(
    app_database, queued_jobs
):
    # Enough days for MIN_ROWS, too few for the network's window: the job was queued, took the quota, then failed.
    actor = make_account(app_database)
    left = trainings_left(actor)
    network = tiny_config(window=150)
    said = fit_failure(network)
    assert said.startswith("the LSTM needs at least 212 training days")
    with pytest.raises(DatasetError) as trained:
        queue(actor, window=150)
    with pytest.raises(DatasetError) as submitted:
        models.submit_job(actor, TICKER, network)
    with pytest.raises(DatasetError) as ranked:  # the leaderboard fits the LSTM with these settings, and fails with it
        models.submit_leaderboard(actor, TICKER, network)
    assert str(trained.value) == str(submitted.value) == str(ranked.value) == said
    ensemble = tiny_config(model_type="auto", validation_fraction=0.4, test_fraction=0.4)
    with pytest.raises(DatasetError) as members:  # its ridge member has too few days left to learn from
        models.submit_job(actor, TICKER, ensemble)
    assert str(members.value) == fit_failure(ensemble)
    assert trainings_left(actor) == left
    with session_scope() as session:
        assert session.scalars(select(TrainingJob.id).where(TrainingJob.user_id == actor.user_id)).all() == []
    # The ensemble has no network member: its window does not matter, and the worker trains it.
    assert models.submit_job(actor, TICKER, tiny_config(model_type="auto", window=150)).status == "queued"


def test_a_network_asked_to_learn_the_close_is_refused_at_submit_not_trained_on_returns(app_database, queued_jobs):
    # The setting stays valid for versions that learned the close; a new fit silently learned returns instead.
    actor = make_account(app_database)
    with pytest.raises(DatasetError, match="the LSTM learns the next day's log return: target 'close' is not trained"):
        models.submit_job(actor, TICKER, tiny_config(target="close"))


def test_an_unreachable_redis_is_logged_and_shown_without_its_address(monkeypatch, caplog):
    use_env(monkeypatch, REDIS_URL="redis://:s3cret-word@127.0.0.1:1/0")
    with caplog.at_level("WARNING", logger="candlecast.jobs"):
        runner = runner_status()
    assert runner.problem == (
        f"cannot tell whether a worker listens on the queue {get_settings().training_queue!r}: Redis does not answer"
    )
    assert "127.0.0.1:1" in caplog.text, "the operator's log keeps the error"
    assert "s3cret-word" not in caplog.text


def test_a_job_redis_could_not_take_says_so_without_the_servers_address(app_database, monkeypatch, caplog):
    use_env(monkeypatch, REDIS_URL="redis://:s3cret-word@127.0.0.1:1/0")
    actor = make_account(app_database)
    with caplog.at_level("WARNING", logger="candlecast.jobs"):
        (job_id,) = queue(actor, model_type="median")
    assert (job(job_id).error, job(job_id).message) == ("could not queue the job: Redis unreachable",) * 2
    assert "127.0.0.1:1" in caplog.text
    assert "s3cret-word" not in caplog.text


@pytest.mark.redis
def test_a_job_the_worker_failed_says_so_without_the_servers_address(app_database, queued_jobs, caplog):
    from rq.job import Job
    from rq.job import JobStatus as RQStatus
    from rq.results import Result

    actor = make_account(app_database)
    (job_id,) = queue(actor, model_type="median")
    queued = Job.fetch(f"candlecast-{job_id}", connection=require_redis())
    crash = (
        "Traceback (most recent call last):\n  ...\n"
        "redis.exceptions.ConnectionError: Error 111 connecting to 10.1.2.3:6379. Connection refused."
    )
    Result.create_failure(queued, 600, exc_string=crash)
    queued.set_status(RQStatus.FAILED)
    with caplog.at_level("WARNING", logger="candlecast.jobs"):
        failed = models.get_job(actor, job_id)
    assert (failed.status, failed.error) == ("failed", "the worker failed: ConnectionError (its log has the details)")
    assert "10.1.2.3:6379" in caplog.text


@pytest.mark.redis
def test_a_key_whose_job_the_queue_refused_queues_a_new_job_once_redis_is_back(app_database, monkeypatch, redis_url):
    # The retry with the same Idempotency-Key answered the failed job again and never queued it.
    from core.jobs import QUEUE_UNREACHABLE

    use_env(monkeypatch, REDIS_URL="redis://127.0.0.1:1/0")
    actor = make_account(app_database)
    request = {"model_type": "median"}
    refused = models.submit_job(actor, TICKER, request, idempotency_key="retry-after-outage")
    assert (refused.status, refused.error) == ("failed", QUEUE_UNREACHABLE)
    use_env(monkeypatch, REDIS_URL=redis_url, TRAINING_QUEUE=f"candlecast-test-{uuid.uuid4().hex[:8]}")
    queued = models.submit_job(actor, TICKER, request, idempotency_key="retry-after-outage")
    assert queued.id != refused.id
    assert queued.status == "queued"
    assert job(refused.id).status == "failed", "the refused job stays in the list as it ended"
    assert models.submit_job(actor, TICKER, request, idempotency_key="retry-after-outage").id == queued.id
    with session_scope() as session:  # as a worker leaves a job that ran and failed
        ran = session.get(TrainingJob, queued.id)
        ran.status, ran.error, ran.finished_at = JobStatus.FAILED.value, "no cached prices", utc_now()
    retried = models.submit_job(actor, TICKER, request, idempotency_key="retry-after-outage")
    assert (retried.id, retried.status) == (queued.id, "failed"), "a job that ran keeps its key: never run twice"
