"""A stored version predicting through the forecast service, warm: the Predictions page's and the API's path.

Stores the bundled S&P 500 sample and one version of each chosen type in a scratch database (SQLite,
or an empty PostgreSQL database given with --database-url, as deployed),
then times forecasts.predict (prices read, the version loaded or taken from the process's cache,
5 trading days forecast, the ledger written) and prints the slowest calls of one profiled predict.
Target: <= 100 ms warm. Run: .venv/bin/python bench/predict.py [--kinds auto,lstm] [--days 5] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RUNS = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", default="auto,lstm")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database to fill (default: a scratch SQLite file)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/predict.db"
    os.environ.pop("REDIS_URL", None)  # quotas fail open without Redis: the bench times the predict itself

    from core.data.csv_prices import parse_price_csv
    from core.data.sample import sample_bytes
    from core.data.service import import_prices
    from core.forecasting.config import parse_config
    from core.forecasting.registry import save_version
    from core.forecasting.training import train_model
    from core.services import forecasts, models
    from db.engine import session_scope
    from db.migrate import upgrade_to_head
    from db.models.accounts import Role
    from db.repositories.actor import Actor
    from db.repositories.users import create_user

    upgrade_to_head(os.environ["DATABASE_URL"])
    with session_scope() as session:
        import_prices(
            session=session, data=sample_bytes(), ticker="^GSPC", date_format=None, skip_bad_rows=False, owner=None
        )
        actor = Actor.of(
            create_user(
                session=session,
                username=f"bench{os.getpid()}",
                email=f"b{os.getpid()}@example.com",
                password_hash="x",
                role=Role.ADMIN,
            )
        )
    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    for kind in args.kinds.split(","):
        result = train_model(prices, parse_config(model_type=kind, epochs=2), ticker="^GSPC")
        with session_scope() as session:
            version = save_version(session=session, actor=actor, ticker="^GSPC", result=result)
        models.activate(actor, version.id)
        started = time.perf_counter()
        forecasts.predict(actor, "^GSPC", args.days)
        cold = (time.perf_counter() - started) * 1000
        samples = []
        for _ in range(RUNS):
            started = time.perf_counter()
            forecasts.predict(actor, "^GSPC", args.days)
            samples.append((time.perf_counter() - started) * 1000)
        print(
            f"{kind:<8} predict {args.days} days through the service: first {cold:.0f} ms, "
            f"warm p50 {statistics.median(samples):.0f} ms, min {min(samples):.0f} ms ({RUNS} runs)",
            flush=True,
        )
        profile = cProfile.Profile()
        profile.enable()
        forecasts.predict(actor, "^GSPC", args.days)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"candlecast|core|db/", 12)


if __name__ == "__main__":
    main()
