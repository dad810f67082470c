"""A burst of more concurrent requests than worker threads is served, none starved, on both backends."""

from __future__ import annotations

import asyncio

import httpx2

from api.app import create_app
from tests.api.conftest import GENEROUS
from tests.api.live import serve

BURST = 120  # three times the worker threads: enough to starve them without the admission gate


def test_a_burst_beyond_the_thread_pool_is_served_without_error(committing_database, analyst):
    async def burst(base_url: str) -> list[int]:
        limits = httpx2.Limits(max_connections=BURST)
        async with httpx2.AsyncClient(base_url=base_url, headers=analyst.headers, timeout=25, limits=limits) as http:
            responses = await asyncio.gather(*(http.get("/v1/ledger") for _ in range(BURST)))
        return [response.status_code for response in responses]

    with serve(create_app(limits=GENEROUS)) as base_url:
        statuses = asyncio.run(burst(base_url))
    assert statuses == [200] * BURST
