"""The background worker: an RQ worker on the training queue (make worker)."""

from __future__ import annotations

import argparse
import sys

from rq import SimpleWorker

from core.config import ConfigError, get_settings
from core.logging import configure_logging
from core.redis_client import RedisState, redis_status, require_redis


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.redis_url:
        print(
            "REDIS_URL is not set: without Redis the app trains in its own process and needs no worker.",
            file=sys.stderr,
        )
        return 2
    status = redis_status()
    if status.state != RedisState.OK:
        print(f"Redis at REDIS_URL does not answer: {status.detail}", file=sys.stderr)
        return 1
    configure_logging(settings.log_path, settings.log_level)
    # A SimpleWorker runs jobs in its own process: TensorFlow loads once per worker instead of
    # once per job, and is never forked after it has started its threads. A worker that dies
    # leaves its job to the heartbeat check, which marks it failed.
    worker = SimpleWorker([settings.training_queue], connection=require_redis())
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
