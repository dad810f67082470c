"""The status panel names the training runners: the app's own job processes, or the workers on the queue."""

import uuid

import pytest
from rq import SimpleWorker
from streamlit.testing.v1 import AppTest

from core.redis_client import require_redis
from tests.core.test_jobs import use_env


def panel() -> None:
    from core.status import system_status
    from ui.status import render_status_panel

    render_status_panel(system_status())


def test_without_redis_the_panel_says_the_app_runs_jobs(sqlite_database_url, monkeypatch):
    use_env(monkeypatch, DATABASE_URL=sqlite_database_url.render_as_string(hide_password=False))
    at = AppTest.from_function(panel, default_timeout=30).run()
    captions = [c.value for c in at.caption]
    runner = "jobs run one at a time per app process, each in a process of its own on the app's machine"
    assert f"Training jobs: {runner}" in captions
    assert not at.warning


@pytest.mark.redis
def test_the_panel_warns_while_no_worker_listens(sqlite_database_url, monkeypatch, redis_url):
    queue = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    use_env(
        monkeypatch,
        DATABASE_URL=sqlite_database_url.render_as_string(hide_password=False),
        REDIS_URL=redis_url,
        TRAINING_QUEUE=queue,
    )
    at = AppTest.from_function(panel, default_timeout=30).run()
    assert [w.value for w in at.warning] == [
        f"no worker is listening on the queue {queue!r}: queued jobs wait until one starts "
        "(`make worker`, or `python -m core.worker`)"
    ]
    assert not at.success, "not all systems go while queued jobs would wait for ever"
    worker = SimpleWorker([queue], connection=require_redis())
    worker.register_birth()
    try:
        at.run()
    finally:
        worker.register_death()
    assert not at.warning
    assert f"Training jobs: 1 worker listening on {queue!r} (0 busy, 1 idle)" in [c.value for c in at.caption]
