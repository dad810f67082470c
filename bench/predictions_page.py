"""What a rerun of the Predictions page costs a heavy user: 20,000 predictions over 300 tickers.

Seeds a scratch SQLite database with the S&P 500 sample's last year under 300 tickers, 60 stored
model versions (the other 240 tickers' predictions come from versions since deleted, as a long-lived
ledger's do) and 20,000 predictions, most of them matured. Then runs the page through AppTest as
the user: a first run, then reruns with nothing changed (what every click on a widget costs), then
a rerun after one more prediction. Prints the median of the reruns, the bytes each sends to the
browser and the rows of the ledger's table, and the service calls alone: the whole ledger read,
and the freshness check a rerun makes instead when nothing changed.
Run: .venv/bin/python bench/predictions_page.py [--reruns 7]
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

PAGE = "app_pages/predictions.py"
TICKERS = 300
STORED_VERSIONS = 60
PREDICTIONS = 20_000
DAYS_PER_RUN = 5
PRICE_DAYS = 260
DAYS_BETWEEN_RUNS = 3


def seed():
    """The user, the prices, versions and ledger, in the database DATABASE_URL names; returns the actor."""
    import pandas as pd
    from sqlalchemy import insert

    from core.data.csv_prices import parse_price_csv
    from core.data.sample import sample_bytes
    from db.engine import session_scope
    from db.models import Prediction
    from db.repositories.actor import Actor
    from db.repositories.models import add_model_version
    from db.repositories.prices import upsert_prices_of
    from db.repositories.users import create_user

    prices = parse_price_csv(sample_bytes(), ticker="^GSPC").frame.tail(PRICE_DAYS).reset_index(drop=True)
    tickers = [f"T{n:03d}" for n in range(TICKERS)]
    days = [stamp.date() for stamp in prices["date"]]
    # Targets past the last stored day have not matured: weekdays after it stand in for sessions.
    days += [day.date() for day in pd.bdate_range(days[-1] + timedelta(days=1), periods=DAYS_PER_RUN)]
    closes = prices["close"].to_numpy(float)
    with session_scope() as session:
        actor = Actor.of(create_user(session=session, username="heavy", email="heavy@example.com", password_hash="x"))
        every_ticker = pd.concat([prices.assign(ticker=ticker) for ticker in tickers], ignore_index=True)
        upsert_prices_of(session=session, frame=every_ticker, owner_id=None, source="yahoo")
        versions = {
            ticker: add_model_version(
                session=session, actor=actor, ticker=ticker, model_type="ridge", parameters={}, metrics={},
                data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
            ).id
            for ticker in tickers[:STORED_VERSIONS]
        }  # fmt: skip
        matured_at = datetime.now(UTC)
        rows = []
        for run in range(PREDICTIONS // DAYS_PER_RUN):
            ticker = tickers[run % TICKERS]
            made = len(closes) - 1 - (run // TICKERS) * DAYS_BETWEEN_RUNS  # newest runs first
            for target in range(made + 1, made + DAYS_PER_RUN + 1):
                matured = target < len(closes)
                rows.append(
                    {
                        "user_id": actor.user_id,
                        "model_version_id": versions.get(ticker),
                        "model_version_number": 1,
                        "model_type": "ridge",
                        "ticker": ticker,
                        "prediction_date": days[made],
                        "target_date": days[target],
                        "base_close": closes[made],
                        "predicted_value": closes[made] * (1 + 0.001 * (target - made)),
                        "lower": closes[made] * 0.95,
                        "upper": closes[made] * 1.05,
                        "confidence_score": 0.1,
                        "actual_value": closes[target] if matured else None,
                        "matured_at": matured_at if matured else None,
                    }
                )
        session.execute(insert(Prediction), rows)
    return actor, versions[tickers[0]], days[-DAYS_PER_RUN - 1]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def median_ms(action: Callable[[], object], times: int) -> float:
    return statistics.median(timed(action) for _ in range(times))


def one_more_prediction(actor, version_id, made_on) -> None:
    from db.engine import session_scope
    from db.repositories.predictions import keep_forecast_run

    row = {
        "user_id": actor.user_id, "model_version_id": version_id, "model_version_number": 1, "model_type": "ridge",
        "ticker": "T000", "prediction_date": made_on - timedelta(days=1), "target_date": made_on,
        "base_close": 100.0, "predicted_value": 101.0, "lower": 95.0, "upper": 105.0,
    }  # fmt: skip
    with session_scope() as session:
        keep_forecast_run(session=session, rows=[row])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reruns", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="candlecast-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/predictions.db"
    os.environ.pop("REDIS_URL", None)

    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

    from core.services import forecasts
    from db.migrate import upgrade_to_head
    from tests.accounts import logged_in_app
    from ui.ledger_panel import LEDGER_KEY

    upgrade_to_head(os.environ["DATABASE_URL"])
    started = time.perf_counter()
    actor, version_id, made_on = seed()
    print(f"seeded {PREDICTIONS:,} predictions over {TICKERS} tickers in {time.perf_counter() - started:.0f} s")

    ledger_ms = median_ms(lambda: forecasts.ledger(actor), args.reruns)
    print(f"forecasts.ledger (the whole ledger): median {ledger_ms:.0f} ms")
    freshness = getattr(forecasts, "ledger_freshness", None)
    if freshness is not None:
        print(f"forecasts.ledger_freshness: median {median_ms(lambda: freshness(actor), args.reruns):.1f} ms")

    sent: list[int] = []  # bytes of each message to the browser
    ForwardMsgQueue.on_before_enqueue_msg(lambda message: sent.append(message.ByteSize()))
    app = logged_in_app(PAGE, actor, timeout=300)
    first = timed(app.run)
    assert not app.exception, app.exception
    first_sent = sum(sent)
    shown = len(app.dataframe[-1].value)
    reruns = []
    for _ in range(args.reruns):
        sent.clear()
        reruns.append(timed(app.run))
    print(
        f"page: first run {first:.0f} ms, {first_sent / 1e6:.2f} MB sent; rerun with the ledger unchanged: "
        f"median {statistics.median(reruns):.0f} ms, min {min(reruns):.0f} ms ({args.reruns} reruns), "
        f"{sum(sent) / 1e6:.2f} MB sent; {shown:,} of {PREDICTIONS:,} rows in the table"
    )
    one_more_prediction(actor, version_id, made_on)
    after = timed(app.run)
    held = len(app.session_state[LEDGER_KEY]["ledger"])
    assert held == PREDICTIONS + 1, "the new prediction must be in the ledger on the next run"
    print(f"page: rerun after one more prediction {after:.0f} ms; {held:,} predictions in the ledger read")


if __name__ == "__main__":
    main()
