"""How fast pages show their first content while a training job runs, and when the app is idle.

Starts the real app on the embedded default (SQLite, no Redis, jobs in a child process) in a fresh
folder, logs in with headless Chromium, opens Home, Tickers, Indicators and Predictions in turn a
few times with nothing running, then queues a ^GSPC training job from the Train page (an LSTM with
the thorough preset by default: minutes of work, where the default auto ensemble is over in
seconds) and opens the same pages in turn while it runs, queueing another job if one ends before
enough pages were timed; the Train page stays open in another tab meanwhile, its job panel
refreshing every 2 s as a user's would. First content is the page's title on screen.
Meanwhile a thread of this process times small read transactions on the app's database, in turn
as a read-only scope (deferred BEGIN) and as a writing one (BEGIN IMMEDIATE, which queues behind
the job's and the pages' writes), to show the lock waits apart from the machine's load.

Prints median and p95 per condition and page (target: under 1 s while a job runs), the read
transactions' figures, and the load average, since a shared machine's other work moves every figure.
Run: .venv/bin/python bench/pages_under_job.py [--idle-rounds 3] [--busy-loads 20] [--model-type lstm]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bench.train_in_app import JOB_SECONDS, choose_model, newest_job, queue_job, signed_in_app
from common.config import load_settings
from common.words import plural
from db.engine import create_engine_from_settings, session_scope
from db.models import TrainingJob

PAGES = (("", "Home"), ("tickers", "Tickers"), ("indicators", "Indicators"), ("predictions", "Predictions"))
FINISHED = ("succeeded", "failed", "cancelled")
PAGE_TIMEOUT_MS = 30_000  # a page slower than this is counted as this slow
READING_MS = 1000  # a person glances at a page before opening the next


def first_content_seconds(page, url: str, path: str, title: str) -> float:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    started = time.perf_counter()
    try:
        page.goto(f"{url}/{path}", timeout=PAGE_TIMEOUT_MS)
        heading = page.get_by_role("heading", name=title) if path else page.get_by_text("Watchlist")
        heading.first.wait_for(timeout=PAGE_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        return PAGE_TIMEOUT_MS / 1000
    seconds = time.perf_counter() - started
    page.wait_for_timeout(READING_MS)
    return seconds


class ReadSampler(threading.Thread):
    """Times one small read transaction every 100 ms, alternating read-only and writing scopes."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine_from_settings(load_settings(), url)
        self.sessions = sessionmaker(bind=self.engine)
        self.times: dict[bool, list[float]] = {True: [], False: []}
        self.stop = threading.Event()

    def run(self) -> None:
        read_only = True
        while not self.stop.wait(0.1):
            started = time.perf_counter()
            with session_scope(self.sessions, read_only=read_only) as session:
                session.scalar(select(func.count()).select_from(TrainingJob))
            self.times[read_only].append(time.perf_counter() - started)
            read_only = not read_only

    def stop_sampling(self) -> None:
        self.stop.set()
        self.join()
        self.engine.dispose()

    def report(self) -> None:
        labels = {True: "read-only scope (deferred BEGIN)", False: "writing scope (BEGIN IMMEDIATE)"}
        for read_only, label in labels.items():
            values = [t * 1000 for t in self.times[read_only]]
            if values:
                print(f"  {label}: median {statistics.median(values):.1f} ms, p95 {p95(values):.1f} ms, "
                      f"worst {max(values):.1f} ms over {len(values)}")  # fmt: skip


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(condition: str, times: dict[str, list[float]]) -> None:
    every = [value for values in times.values() for value in values]
    if not every:
        print(f"{condition}: no loads")
        return
    print(f"{condition}: median {statistics.median(every):.2f} s, p95 {p95(every):.2f} s over {len(every)} loads")
    for title, values in times.items():
        if values:
            print(f"  {title:<12} median {statistics.median(values):.2f} s, worst {max(values):.2f} s ({len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle-rounds", type=int, default=3, help="rounds over the pages with no job (default 3)")
    parser.add_argument("--busy-loads", type=int, default=20, help="page loads to time while a job runs (default 20)")
    parser.add_argument("--model-type", default="lstm", help="the model type of the jobs (default lstm)")
    parser.add_argument("--preset", default="thorough", help="a network's preset (default thorough)")
    parser.add_argument("--trace", action="store_true", help="print each busy load with the job's state")
    args = parser.parse_args()
    preset = args.preset if args.model_type in ("lstm", "gru") else None
    idle: dict[str, list[float]] = {title: [] for _, title in PAGES}
    busy: dict[str, list[float]] = {title: [] for _, title in PAGES}
    jobs = loads = 0
    running_seconds = 0.0
    with signed_in_app() as app:
        url, page, train_page = app.url, app.other_page, app.train_page
        for path, title in PAGES:  # the first visit of each page warms its imports
            first_content_seconds(page, url, path, title)
        for _ in range(args.idle_rounds):
            for path, title in PAGES:
                idle[title].append(first_content_seconds(page, url, path, title))
        idle_load = os.getloadavg()
        sampler = ReadSampler(app.database_url)
        train_page.goto(f"{url}/train")
        choose_model(train_page, args.model_type, preset)
        sampler.start()
        deadline = time.monotonic() + JOB_SECONDS
        current = None
        while time.monotonic() < deadline and loads < args.busy_loads:
            job = newest_job(app.engine)
            if current is None or (job.id == current and job.status in FINISHED):
                if job is not None and job.status == "failed":
                    sys.exit(f"the job failed: {job.error}")
                current, jobs = queue_job(train_page, app.engine).id, jobs + 1
                continue
            if job.id == current and job.status == "running":  # each load starts while the job runs
                path, title = PAGES[loads % len(PAGES)]
                started = time.monotonic()
                busy[title].append(first_content_seconds(page, url, path, title))
                running_seconds += time.monotonic() - started
                if args.trace:
                    print(f"  job {jobs} at {job.progress:4.0%} ({job.message or ''}): {title} {busy[title][-1]:.2f} s")
                loads += 1
                continue
            time.sleep(0.5)
        busy_load = os.getloadavg()
        sampler.stop_sampling()  # before the scratch database goes
    report(f"no job running (load average {idle_load[0]:.1f})", idle)
    report(
        f"{args.model_type} training running ({plural(jobs, 'job')}, {running_seconds:.0f} s timed, "
        f"load average {busy_load[0]:.1f})",
        busy,
    )
    print("read transactions on the app's database while a job was queued or running:")
    sampler.report()
    print(f"load average at the end (2 cores): {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
