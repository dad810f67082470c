"""The background worker's start-up: it needs Redis, and says so."""

import pytest

from core.worker import main


def test_refuses_to_start_without_redis(capsys):
    assert main(["--burst"]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err


def test_reports_unreachable_redis(monkeypatch, capsys):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["--burst"]) == 1
    assert "does not answer" in capsys.readouterr().err


@pytest.mark.redis
def test_burst_worker_drains_an_empty_queue_and_exits(monkeypatch, redis_url):
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert main(["--burst"]) == 0
