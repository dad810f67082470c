"""Starting the real app (and, with Redis, a real worker) on a free localhost port for a browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common.config import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
STEP_MS = 60_000  # a shared CI machine under load needs the slack
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer within {START_SECONDS} s:\n{log.read_text()[-2000:]}")


@contextmanager
def running_app(env: dict[str, str], folder: Path, *, with_worker: bool) -> Iterator[str]:
    """Migrate, start Streamlit (and an RQ worker when asked), yield the base URL, stop them all."""
    environment = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    subprocess.run(
        [sys.executable, "-m", "db", "setup"], cwd=PROJECT_ROOT, env=environment, check=True, capture_output=True
    )
    port = free_port()
    log = folder / "streamlit.log"
    processes = []
    with open(log, "w") as output:
        app = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        processes.append(app)
        if with_worker:
            worker_log = open(folder / "worker.log", "w")  # noqa: SIM115 - closed with the worker below
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "core.worker"],
                    cwd=PROJECT_ROOT,
                    env=environment,
                    stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(url, app, log)
            yield url
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            if with_worker:
                worker_log.close()
