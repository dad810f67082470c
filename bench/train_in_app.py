"""Training inside the running app against the command line, and how other pages answer meanwhile.

Starts the real Streamlit app on the embedded default (SQLite, no Redis) in a fresh folder, logs in
with headless Chromium and keeps the Train page open (its jobs panel polls every 2 s, as a user's
tab does). Then, in turns so that both see the same machine, `python -m core train` trains the
^GSPC model of the chosen type (auto, the default) and the Train page queues the same job. Last,
one more job runs while a second tab opens the Tickers page again and again.

Prints the in-app time (queued to finished, and started to finished) beside the command line's
(the whole command, TensorFlow import included) and their ratio (target: within 1.5x), the time to
first content of another page while a job runs (target: under 1 s) and when the app is idle, and
the load average, since a shared machine's other work moves every figure.
Run: .venv/bin/python bench/train_in_app.py [--runs 2] [--model-type lstm]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, select

from common.config import PROJECT_ROOT
from core.forecasting.zoo import DEFAULT_KIND
from db.models import TrainingJob
from tests.e2e.app_server import CHROMIUM, CHROMIUM_FLAGS, running_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

TICKER = "^GSPC"
ADMIN, PASSWORD = "bench", "a long benchmark password"
JOB_SECONDS = 600
PAGE_TIMEOUT_MS = 30_000  # a page slower than this is counted as this slow
OTHER_PAGE, OTHER_TITLE = "tickers", "Tickers"
LOAD_PAUSE_MS = 3000  # a person reading the other page before opening it again


def run(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    """Seconds the command took; stops the benchmark with its output when it fails."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, input=stdin, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def prepare(env: dict[str, str]) -> None:
    python = sys.executable
    run([python, "-m", "db", "setup"], env)
    run([python, "-m", "core", "load-sample"], env)
    admin = [python, "-m", "core", "create-admin", "--username", ADMIN, "--email", "bench@example.com"]
    run([*admin, "--password-stdin"], env, stdin=PASSWORD + "\n")


def log_in(page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Username").first.fill(ADMIN)
    page.get_by_label("Password", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Signed in as {ADMIN}").first.wait_for()
    page.wait_for_timeout(2000)  # the session cookie is written by a component after the login run


def first_content_seconds(page, url: str) -> float:
    """From navigation to the other page's title on screen (at most PAGE_TIMEOUT_MS)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    started = time.perf_counter()
    try:
        page.goto(f"{url}/{OTHER_PAGE}", timeout=PAGE_TIMEOUT_MS)
        page.get_by_role("heading", name=OTHER_TITLE).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        return PAGE_TIMEOUT_MS / 1000
    return time.perf_counter() - started


def newest_job(engine) -> TrainingJob | None:
    with engine.connect() as connection:
        return connection.execute(select(TrainingJob).order_by(TrainingJob.created_at.desc()).limit(1)).first()


def choose_model(train_page, model_type: str, preset: str | None = None) -> None:
    """Pick the model type (and a network's preset) on the open Train page, as a user does."""
    from core.forecasting.zoo import label

    if model_type == DEFAULT_KIND and preset is None:
        return
    train_page.get_by_role("button", name="Train").wait_for()
    train_page.get_by_role("combobox", name="Model type").click()
    train_page.get_by_role("option", name=label(model_type), exact=True).click()
    if preset is not None:
        train_page.get_by_text(preset.capitalize(), exact=True).click()
    train_page.wait_for_timeout(1000)  # the rerun that follows the choice redraws the form


def queue_job(train_page, engine) -> TrainingJob:
    """Press Train on the open Train page; the job it queued (the page's "Queued" note may be an older one's)."""
    before = newest_job(engine)
    train_page.get_by_role("button", name="Train").click()
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        job = newest_job(engine)
        if job is not None and (before is None or job.id != before.id):
            return job
        time.sleep(0.2)
    sys.exit(f"pressing Train queued no job within {PAGE_TIMEOUT_MS / 1000:.0f} s")


def train_in_app(train_page, other_page, url: str, engine) -> tuple[float, float, int, list[float]]:
    """(queued to finished, started to finished, epochs, other page's first-content times) of one job.

    With other_page None, nothing but the Train page's own polling runs beside the job.
    """
    queued = queue_job(train_page, engine)
    loads = []
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        job = newest_job(engine)
        if job is not None and job.id == queued.id:
            if job.status in ("succeeded", "failed", "cancelled"):
                if job.status != "succeeded":
                    sys.exit(f"the in-app job ended {job.status}: {job.error}")
                epochs = len((job.history or {}).get("loss", []))
                return (
                    (job.finished_at - job.created_at).total_seconds(),
                    (job.finished_at - job.started_at).total_seconds(),
                    epochs,
                    loads,
                )
            if job.status == "running" and other_page is not None:
                loads.append(first_content_seconds(other_page, url))
                other_page.wait_for_timeout(LOAD_PAUSE_MS)
        time.sleep(0.5)
    sys.exit(
        f"the in-app job did not finish within {JOB_SECONDS} s: {job.status if job else 'no job'}, "
        f"{job.message if job else ''}"
    )


@dataclass(frozen=True)
class BenchApp:
    url: str
    environment: dict[str, str]
    database_url: str
    engine: Engine
    train_page: Page
    other_page: Page


@contextmanager
def signed_in_app() -> Iterator[BenchApp]:
    """The real app in a scratch folder (SQLite, the sample, an admin), with two signed-in Chromium tabs."""
    if not CHROMIUM.exists():
        sys.exit(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="candlecast-bench-") as scratch:
        folder = Path(scratch)
        database_url = f"sqlite:///{folder / 'bench.db'}"
        env = {
            "APP_ENV": "development",
            "COOKIE_KEY": secrets.token_urlsafe(48),
            "LOG_DIR": str(folder / "logs"),
            "REDIS_URL": "",
            "DATABASE_URL": database_url,
        }
        environment = {**os.environ, **env}
        prepare(environment)
        engine = create_engine(database_url)
        try:
            with running_app(env, folder, with_worker=False) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                context.set_default_timeout(60_000)
                train_page, other_page = context.new_page(), context.new_page()
                log_in(train_page, url)
                yield BenchApp(url, environment, database_url, engine, train_page, other_page)
                browser.close()
        finally:
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="jobs through the app, and CLI runs (default 2)")
    parser.add_argument("--model-type", default=DEFAULT_KIND, help=f"the model type to train (default {DEFAULT_KIND})")
    args = parser.parse_args()
    cli_command = [sys.executable, "-m", "core", "train", "--ticker", TICKER, "--model-type", args.model_type, "--json"]
    with signed_in_app() as app:
        idle = [first_content_seconds(app.other_page, app.url) for _ in range(3)]
        app.train_page.goto(f"{app.url}/train")
        choose_model(app.train_page, args.model_type)
        cli, runs = [], []
        for _ in range(args.runs):
            cli.append(run(cli_command, app.environment))
            runs.append(train_in_app(app.train_page, None, app.url, app.engine))
            print(f"  pair {len(cli)}: command line {cli[-1]:.1f} s, in the app {runs[-1][0]:.1f} s, "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        _, _, _, loads = train_in_app(app.train_page, app.other_page, app.url, app.engine)

    print(f"command line (python -m core train, import included): {', '.join(f'{s:.1f}' for s in cli)} s")
    queued = [r[0] for r in runs]
    started = [r[1] for r in runs]
    epochs = sorted({r[2] for r in runs})
    print(
        f"in the app (queued to finished): {', '.join(f'{s:.1f}' for s in queued)} s; "
        f"started to finished: {', '.join(f'{s:.1f}' for s in started)} s; epochs {epochs}"
    )
    ratio = statistics.median(queued) / statistics.median(cli)
    print(f"ratio in-app / command line (medians): {ratio:.2f}x (target <= 1.5x)")
    print(f"{OTHER_TITLE} page, first content when no job runs: median {statistics.median(idle):.2f} s")
    if loads:
        print(
            f"{OTHER_TITLE} page, first content while a job runs: median {statistics.median(loads):.2f} s, "
            f"worst {max(loads):.2f} s over {len(loads)} loads (target < 1 s)"
        )
    else:
        print(f"{OTHER_TITLE} page: the job finished before it could be loaded while running")
    print(f"load average at the end (2 cores): {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
