"""How fast pages show their first content while a training job runs, and when the app is idle.

Starts the real app on the embedded default (SQLite, no Redis, jobs in a child process) in a fresh
folder, logs in with headless Chromium, opens Home, Tickers, Indicators and Predictions in turn a
few times with nothing running, then queues the default ^GSPC training job from the Train page and
opens the same pages in turn until it finishes. First content is the page's title on screen.
Meanwhile a thread of this process times small read transactions on the app's database, in turn
as a read-only scope (deferred BEGIN) and as a writing one (BEGIN IMMEDIATE, which queues behind
the job's and the pages' writes), to show the lock waits apart from the machine's load.

Prints median and p95 per condition and page (target: under 1 s while a job runs), the read
transactions' figures, and the load average, since a shared machine's other work moves every figure.
Run: .venv/bin/python bench/pages_under_job.py [--idle-rounds 3]
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

from bench.train_in_app import JOB_SECONDS, newest_job, signed_in_app
from common.config import load_settings
from db.engine import create_engine_from_settings, session_scope
from db.models import TrainingJob

PAGES = (("", "Home"), ("tickers", "Tickers"), ("indicators", "Indicators"), ("predictions", "Predictions"))
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
    args = parser.parse_args()
    idle: dict[str, list[float]] = {title: [] for _, title in PAGES}
    busy: dict[str, list[float]] = {title: [] for _, title in PAGES}
    with signed_in_app() as app:
        url, page, train_page = app.url, app.other_page, app.train_page
        for path, title in PAGES:  # the first visit of each page warms its imports
            first_content_seconds(page, url, path, title)
        for _ in range(args.idle_rounds):
            for path, title in PAGES:
                idle[title].append(first_content_seconds(page, url, path, title))
        sampler = ReadSampler(app.database_url)
        before = newest_job(app.engine)
        train_page.goto(f"{url}/train")
        train_page.get_by_role("button", name="Train").click()
        train_page.get_by_text("Queued 1 training job").first.wait_for()
        sampler.start()
        deadline = time.monotonic() + JOB_SECONDS
        while time.monotonic() < deadline:
            job = newest_job(app.engine)
            if job is not None and (before is None or job.id != before.id):
                if job.status in ("succeeded", "failed", "cancelled"):
                    break
                if job.status == "running":
                    for path, title in PAGES:
                        busy[title].append(first_content_seconds(page, url, path, title))
                    continue
            time.sleep(0.5)
        sampler.stop_sampling()  # before the scratch database goes
    report("no job running", idle)
    report("a training job running", busy)
    print("read transactions on the app's database while the job was queued or running:")
    sampler.report()
    print(f"load average at the end (2 cores): {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
