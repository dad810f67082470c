"""What the Metrics page reads on every run, as an analyst's walk-forward runs pile up.

Stores one real 10-window walk-forward of the default model on the S&P 500 sample (its windows
hold every out-of-sample day's forecast) 1, 10 and 50 times in a fresh SQLite database, and times
the page's one service call, core.services.analysis.metrics_view, which runs again on every click
on the page. Prints the median of 5 calls per count and the stored size of one run's windows.
Then a team's scale of versions: the sample's 20 years under 100 ticker names, one version each, and
metrics_view again (it counts each versioned ticker's days for the walk-forward buttons).
Run: .venv/bin/python bench/metrics_view.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import URL

from common.words import plural
from core.data.csv_prices import parse_price_csv
from core.data.sample import sample_bytes
from core.forecasting.config import TrainingConfig
from core.forecasting.walkforward import WalkForwardSettings, walk_forward
from db.migrate import upgrade_to_head

COUNTS = (1, 10, 50)
VERSIONED_TICKERS = 100
CALLS = 5


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="candlecast-bench-"))
    url = URL.create("sqlite", database=str(folder / "metrics.db"))
    upgrade_to_head(url)
    os.environ["DATABASE_URL"] = url.render_as_string(hide_password=False)

    from core.services import analysis
    from db.engine import session_scope
    from db.models import Evaluation
    from db.repositories.actor import Actor
    from db.repositories.users import create_user

    with session_scope() as session:
        actor = Actor.of(create_user(session=session, username="bench", email="bench@example.com", password_hash="x"))
    config = TrainingConfig()
    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame
    result = walk_forward(prices, config, WalkForwardSettings())
    size = len(json.dumps(result.windows))
    m = result.metrics
    print(f"one run: {m['windows']} windows, {m['days']} days, its windows as JSON {size / 1e6:.2f} MB")
    stored = 0
    for count in COUNTS:
        with session_scope() as session:
            for _ in range(count - stored):
                session.add(
                    Evaluation(
                        user_id=actor.user_id, ticker="^GSPC", kind="walkforward",
                        config={"training": config.model_dump(mode="json")}, metrics=result.metrics,
                        windows=result.windows,
                    )
                )  # fmt: skip
        stored = count
        seconds = []
        for _ in range(CALLS):
            started = time.perf_counter()
            analysis.metrics_view(actor)
            seconds.append(time.perf_counter() - started)
        median_ms = statistics.median(seconds) * 1000
        print(f"{plural(count, 'run'):>8} stored: metrics_view {median_ms:,.0f} ms (median of {CALLS})")
    many_versions(actor, prices)


def many_versions(actor, prices) -> None:
    from core.services import analysis
    from db.engine import session_scope
    from db.repositories.models import add_model_version
    from db.repositories.prices import upsert_prices

    bars = prices.drop(columns=["ticker"], errors="ignore")
    for number in range(VERSIONED_TICKERS):
        ticker = f"T{number:03d}"
        with session_scope() as session:
            upsert_prices(session=session, frame=bars, ticker=ticker, owner_id=None, source="sample")
            add_model_version(
                session=session, actor=actor, ticker=ticker, model_type="ridge", parameters={},
                metrics={"mae": 1.0, "naive_mae": 1.0, "mase": 1.0}, data_start=None, data_end=None, data_hash=None,
                artifact=b"x", artifact_sha256="0" * 64,
            )  # fmt: skip
    seconds = []
    for _ in range(CALLS):
        started = time.perf_counter()
        view = analysis.metrics_view(actor)
        seconds.append(time.perf_counter() - started)
    median_ms = statistics.median(seconds) * 1000
    print(
        f"{len(view.versions)} versions on {VERSIONED_TICKERS} tickers of {len(bars):,} days each: "
        f"metrics_view {median_ms:,.0f} ms (median of {CALLS})"
    )


if __name__ == "__main__":
    main()
