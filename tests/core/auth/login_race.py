"""A separate process for the login race test: fire wrong-password logins from several threads.

Run as `python -m tests.core.auth.login_race DATABASE_URL REDIS_URL USERNAME ADDRESS ATTEMPTS START_AT`;
prints one JSON list with each attempt's outcome.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time


def race(username: str, address: str, attempts: int, start_at: float) -> list[str]:
    from core.auth import authenticate
    from core.throttle import get_throttle
    from db.engine import session_scope

    throttle = get_throttle()
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        time.sleep(max(0.0, start_at - time.time()))
        try:
            with session_scope() as session:
                authenticate(session=session, username=username, password="wrong", client_ip=address, throttle=throttle)
            outcome = "done"
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            outcome = f"{type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


if __name__ == "__main__":
    database_url, redis_url, username, address, attempts, start_at = sys.argv[1:7]
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    print(json.dumps(race(username, address, int(attempts), float(start_at))))
