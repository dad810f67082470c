"""The REST API's speed through real HTTP: 5,000 rows of prices, a warm predict, 200 concurrent requests.

Prices are read twice over: repeated reads of an unchanged series (served from its rendered copy)
and the first read after each write (rendered again from the rows).

For the embedded SQLite and, when it answers, PostgreSQL (TEST_DATABASE_URL): migrates a fresh
database, loads the bundled S&P 500 (about 5,000 days), stores a tiny model, starts uvicorn on a
free 127.0.0.1 port (loopback only) and prints p50/p95 in milliseconds. Targets: prices p50 <= 20 ms,
predict p50 <= 100 ms warm, no error among the 200 concurrent requests.
Run: .venv/bin/python bench/api.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
import pandas as pd
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from core.auth.api_keys import create_api_key
from core.data.sample import SAMPLE_TICKER
from core.data.service import load_sample
from core.forecasting.config import parse_config
from core.forecasting.registry import save_version
from core.forecasting.training import train_model
from db.engine import create_engine_from_settings, session_scope
from db.migrate import upgrade_to_head
from db.models.accounts import Role, Tier
from db.repositories.actor import Actor
from db.repositories.prices import read_prices, upsert_prices
from db.repositories.users import create_user
from tests.servers import fresh_postgres_database, postgres_problem

ROOT = Path(__file__).resolve().parents[1]
PRICE_ROWS = 5000
PRICE_ROUNDS = 100
PREDICT_ROUNDS = 30
WRITE_ROUNDS = 20
CONCURRENT = 200
# Limits are per key and endpoint: one key per part keeps the bench inside the default limits.
KEYS = ("prices", "predict", "burst-1", "burst-2", "burst-3", "burst-4")


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=20)
    return f"p50 {statistics.median(samples):.1f} ms, p95 {cuts[18]:.1f} ms"


def prepare(url: URL) -> tuple[dict[str, str], str, pd.DataFrame]:
    """A migrated database with the sample, a pro analyst with a tiny active model of it, and their keys;
    the first day read and the last day."""
    upgrade_to_head(url)
    engine = create_engine_from_settings(load_settings(_env_file=None), url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with session_scope(factory) as session:
        load_sample(session=session, actor=None)
        user = create_user(
            session=session,
            username="bench",
            email="bench@example.com",
            password_hash="x",
            role=Role.ANALYST,
            tier=Tier.PRO,
        )
        actor = Actor.of(user)
        keys = {
            name: create_api_key(session=session, actor=actor, name=name, expires_in_days=None).secret for name in KEYS
        }
        prices = read_prices(session=session, actor=actor, ticker=SAMPLE_TICKER)
    config = parse_config(model_type="lstm", lstm_units=[8], epochs=2, window=10, batch_size=64)
    result = train_model(prices.tail(750).reset_index(drop=True), config, ticker=SAMPLE_TICKER)
    with session_scope(factory) as session:
        save_version(session=session, actor=actor, ticker=SAMPLE_TICKER, result=result)
    engine.dispose()
    start = prices["date"].iloc[-PRICE_ROWS].strftime("%Y-%m-%d")
    return keys, start, prices.tail(1)[["date", "open", "high", "low", "close", "adjusted_close", "volume"]]


def rewrite_day(url: URL, day: pd.DataFrame, volume: int) -> None:
    """A new volume for one day of the sample: a write that gives the series a new version."""
    engine = create_engine_from_settings(load_settings(_env_file=None), url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with session_scope(factory) as session:
        upsert_prices(
            session=session, frame=day.assign(volume=volume), ticker=SAMPLE_TICKER, owner_id=None, source="sample"
        )
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: URL, log_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "LOG_DIR": log_dir,
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"uvicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx2.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return server, base
        except httpx2.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("uvicorn did not answer within 60 s")


def timed(client: httpx2.Client, method: str, path: str, rounds: int, **kwargs) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.request(method, path, **kwargs)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


async def burst(base: str, keys: list[str], start: str) -> tuple[list[float], list[str]]:
    """CONCURRENT requests at once (one round, no retries), spread over the keys and three endpoints."""
    paths = ["/v1/tickers", "/v1/ledger", f"/v1/prices/{SAMPLE_TICKER}?start={start[:4]}-12-01"]
    limits = httpx2.Limits(max_connections=CONCURRENT)
    async with httpx2.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(i: int) -> tuple[float, int]:
            headers = {"Authorization": f"Bearer {keys[i % len(keys)]}"}
            started = time.perf_counter()
            response = await client.get(paths[i % len(paths)], headers=headers)
            return (time.perf_counter() - started) * 1000, response.status_code

        results = await asyncio.gather(*(one(i) for i in range(CONCURRENT)))
    errors = [str(status) for _, status in results if status != 200]
    return [ms for ms, _ in results], errors


def measure(label: str, url: URL) -> None:
    keys, start, last_day = prepare(url)
    with tempfile.TemporaryDirectory() as log_dir:
        server, base = start_server(url, log_dir)
        try:
            with httpx2.Client(base_url=base, timeout=60) as client:
                price_headers = {"Authorization": f"Bearer {keys['prices']}"}
                first = client.get(f"/v1/prices/{SAMPLE_TICKER}", params={"start": start}, headers=price_headers)
                rows = first.json()["count"]
                reads = timed(
                    client,
                    "GET",
                    f"/v1/prices/{SAMPLE_TICKER}",
                    PRICE_ROUNDS,
                    params={"start": start},
                    headers=price_headers,
                )
                after_write = []
                for volume in range(WRITE_ROUNDS):
                    rewrite_day(url, last_day, volume)
                    after_write += timed(
                        client, "GET", f"/v1/prices/{SAMPLE_TICKER}", 1, params={"start": start}, headers=price_headers
                    )
                predict_headers = {"Authorization": f"Bearer {keys['predict']}"}
                body = {"ticker": SAMPLE_TICKER, "days": 1}
                client.post("/v1/predictions", json=body, headers=predict_headers).raise_for_status()  # warm-up
                predicts = timed(client, "POST", "/v1/predictions", PREDICT_ROUNDS, json=body, headers=predict_headers)
            burst_keys = [secret for name, secret in keys.items() if name.startswith("burst")]
            concurrent, errors = asyncio.run(burst(base, burst_keys, start))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(
        f"{label:10s} GET {rows} rows of prices (JSON): {percentiles(reads)}  (target p50 <= 20 ms; "
        f"load average {os.getloadavg()[0]:.1f} after)"
    )
    print(f"{label:10s} GET {rows} rows of prices, first read after a write: {percentiles(after_write)}")
    print(f"{label:10s} POST /v1/predictions, stored version, warm: {percentiles(predicts)}  (target p50 <= 100 ms)")
    print(
        f"{label:10s} {CONCURRENT} concurrent GETs: {len(errors)} errors {sorted(set(errors))}, "
        f"p95 {statistics.quantiles(concurrent, n=20)[18]:.1f} ms, max {max(concurrent):.1f} ms"
    )


def main() -> None:
    # Figures scale with what else the machine runs: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as folder:
        measure("sqlite", URL.create("sqlite", database=f"{folder}/bench.db"))
    problem = postgres_problem()
    if problem:
        print(f"postgresql skipped: {problem}")
        return
    with fresh_postgres_database() as url:
        measure("postgresql", url)


if __name__ == "__main__":
    main()
