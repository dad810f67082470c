"""What a rerun of the Train page costs a heavy user: 20 default tickers of 5 years, 100 versions, 50 jobs.

Seeds a scratch SQLite database with the S&P 500 sample's last five years under 20 tickers, all of them the
user's default tickers (so the training form checks every one's data before training), 100 stored model
versions and 50 finished training jobs. Then runs the page through AppTest as the user: a first run, then
reruns with nothing changed (what every click on a widget costs), then a rerun after a write of one ticker's
prices, which must show that ticker's new problem at once. Prints the first run, the median of the reruns and
the rerun after the write (target: a rerun well under half a second).
Run: .venv/bin/python bench/train_page.py [--reruns 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE = "app_pages/train.py"
TICKERS = [f"D{n:02d}" for n in range(20)]
PRICE_DAYS = 1_260  # five years of sessions
VERSIONS = 100
JOBS = 50
# Scores a tested version stores, enough for every column of the versions table.
METRICS = {
    "mase": 0.98, "mae": 30.1, "naive_mae": 30.7, "direction_accuracy": 0.52, "direction_p_value": 0.41,
    "test_coverage": 0.81, "dm_pvalue": 0.3, "test_days": 189,
}  # fmt: skip


def seed():
    """The user, the prices, preferences, versions and jobs, in the database DATABASE_URL names; returns the actor."""
    import pandas as pd
    from sqlalchemy import insert

    from core.data.csv_prices import parse_price_csv
    from core.data.sample import sample_bytes
    from core.forecasting.config import parse_config
    from core.preferences import NOTIFICATIONS, save_preferences
    from db.engine import session_scope
    from db.models import TrainingJob
    from db.repositories.actor import Actor
    from db.repositories.models import add_model_version
    from db.repositories.prices import upsert_prices_of
    from db.repositories.users import create_user

    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame.tail(PRICE_DAYS).reset_index(drop=True)
    bars = prices.drop(columns=["ticker"], errors="ignore")
    with session_scope() as session:
        actor = Actor.of(create_user(session=session, username="heavy", email="heavy@example.com", password_hash="x"))
        every_ticker = pd.concat([bars.assign(ticker=ticker) for ticker in TICKERS], ignore_index=True)
        upsert_prices_of(session=session, frame=every_ticker, owner_id=None, source="yahoo")
        save_preferences(
            session=session, actor=actor, tickers_text=", ".join(TICKERS), chart_theme="light", default_range="1Y",
            notifications=dict.fromkeys(NOTIFICATIONS, True),
        )  # fmt: skip
        first, last = prices["date"].iloc[0].date(), prices["date"].iloc[-1].date()
        versions = [
            add_model_version(
                session=session, actor=actor, ticker=TICKERS[n % len(TICKERS)], model_type="ridge", parameters={},
                metrics=METRICS, data_start=first, data_end=last, data_hash=None, artifact=b"x",
                artifact_sha256="0" * 64,
            ).id
            for n in range(VERSIONS)
        ]  # fmt: skip
        config = parse_config(model_type="ridge").model_dump(mode="json")
        finished = datetime.now(UTC)
        jobs = []
        for n in range(JOBS):
            ended = finished - timedelta(hours=n + 1)
            job = {
                "user_id": actor.user_id, "ticker": TICKERS[n % len(TICKERS)], "kind": "train", "config": config,
                "status": "succeeded", "progress": 1.0, "message": "trained ridge", "history": {},
                "created_at": ended - timedelta(minutes=1), "started_at": ended - timedelta(minutes=1),
                "finished_at": ended, "model_version_id": versions[n],
            }  # fmt: skip
            jobs.append(job)
        session.execute(insert(TrainingJob), jobs)
    return actor, bars


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def zero_volume_day(bars, ticker: str) -> str:
    """Write one day of the ticker's prices again with no volume, as a vendor's bad row would; returns the day."""
    from db.engine import session_scope
    from db.repositories.prices import upsert_prices_of

    bad = bars.iloc[[PRICE_DAYS // 2]].assign(ticker=ticker, volume=0)
    with session_scope() as session:
        upsert_prices_of(session=session, frame=bad, owner_id=None, source="yahoo")
    return f"{bad['date'].iloc[0]:%Y-%m-%d}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="candlecast-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/train.db"
    os.environ.pop("REDIS_URL", None)

    from db.migrate import upgrade_to_head
    from tests.accounts import logged_in_app

    upgrade_to_head(os.environ["DATABASE_URL"])
    started = time.perf_counter()
    actor, bars = seed()
    print(
        f"seeded {len(TICKERS)} default tickers x {PRICE_DAYS:,} days, {VERSIONS} versions, {JOBS} jobs "
        f"in {time.perf_counter() - started:.0f} s"
    )
    app = logged_in_app(PAGE, actor, timeout=300)
    first = timed(app.run)
    assert not app.exception, app.exception
    chosen = next(m for m in app.multiselect if m.label == "Tickers").value
    assert len(chosen) == len(TICKERS), "every default ticker is chosen, and checked"
    reruns = [timed(app.run) for _ in range(args.reruns)]
    print(
        f"page: first run {first:.0f} ms; rerun with nothing changed: median {statistics.median(reruns):.0f} ms, "
        f"min {min(reruns):.0f} ms ({args.reruns} reruns)"
    )
    day = zero_volume_day(bars, TICKERS[-1])
    after = timed(app.run)
    warnings = [w.value for w in app.warning if w.value.startswith(f"{TICKERS[-1]}:")]
    assert warnings, "the new bad row must show on the next run"
    assert f"zero volume: {day}" in warnings[0]
    print(f"page: rerun after a write of {TICKERS[-1]}'s prices {after:.0f} ms; its new problem shown")


if __name__ == "__main__":
    main()
