"""python -m api: its options read before the settings, and a bad setting said in one line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

from common.config import PROJECT_ROOT


def run_api(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_answers_whatever_the_settings_say():
    finished = run_api("--help", DB_PORT="abc")
    assert finished.returncode == 0, finished.stderr
    assert "--port" in finished.stdout


def test_a_bad_setting_is_one_line_naming_it_and_exit_2():
    finished = run_api("--port", "1", DB_PORT="abc")
    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "DB_PORT" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1, finished.stderr
