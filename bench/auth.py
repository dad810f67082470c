"""Cost of logging in: password verification time (p50, p95), and throttle checks per second.

Throttle checks run against Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/15) and, for
comparison, the in-memory store. Run: .venv/bin/python bench/auth.py
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from limits import parse
from limits.storage import MemoryStorage

from core.passwords import hash_password, verify_password
from core.throttle import Throttle, create_throttle
from tests.servers import redis_problem, redis_server_url

VERIFICATIONS = 40
CHECK_SECONDS = 3.0


def password_figures() -> None:
    stored = hash_password("a reasonably long passphrase")
    samples = []
    for _ in range(VERIFICATIONS):
        started = time.perf_counter()
        verify_password("a reasonably long passphrase", stored)
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[18]
    print(f"argon2id verify: p50 {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms ({VERIFICATIONS} runs)")


def checks_per_second(throttle: Throttle, threads: int) -> float:
    # A limit far above what the run reaches, so every check does the full moving-window work.
    limit = parse("10000000 per second")
    deadline = time.perf_counter() + CHECK_SECONDS
    counts = [0] * threads

    def work(slot: int) -> None:
        key = f"bench-{uuid.uuid4().hex}"
        while time.perf_counter() < deadline:
            throttle.hit(limit, "bench", key)
            counts[slot] += 1

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / CHECK_SECONDS


def throttle_figures() -> None:
    memory = Throttle(MemoryStorage())
    print(f"throttle, memory:        {checks_per_second(memory, 1):,.0f} checks/s (1 thread)")
    problem = redis_problem()
    if problem:
        print(f"throttle, redis: skipped: {problem}")
        return
    os.environ["REDIS_URL"] = redis_server_url()
    redis_throttle = create_throttle(redis_server_url())
    for threads in (1, 4):
        rate = checks_per_second(redis_throttle, threads)
        print(f"throttle, redis:         {rate:,.0f} checks/s ({threads} thread{'s' if threads > 1 else ''})")


if __name__ == "__main__":
    password_figures()
    throttle_figures()
