"""Of N+5 concurrent logins from two processes against an N-per-window limit, exactly N get through."""

import json
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from common.config import PROJECT_ROOT
from core.throttle import LOGIN_FAILURES_PER_ACCOUNT
from db.models import AuditLog
from tests.accounts import make_account, unique_name

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_exactly_n_attempts_get_through(postgres_database_url, redis_url):
    limit = LOGIN_FAILURES_PER_ACCOUNT.amount
    username = unique_name("racer")
    address = f"race-{username}"  # its own per-address window, untouched by other tests
    make_account(postgres_database_url, username=username)
    url = postgres_database_url.render_as_string(hide_password=False)
    start_at = time.time() + 4  # both processes have imported everything by then
    counts = ((limit + 5) // 2, (limit + 5) - (limit + 5) // 2)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.core.auth.login_race",
                url,
                redis_url,
                username,
                address,
                str(n),
                str(start_at),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in counts
    ]
    outcomes = [outcome for process in processes for outcome in json.loads(process.communicate(timeout=60)[0])]
    assert outcomes == ["done"] * (limit + 5)

    engine = create_engine(postgres_database_url, poolclass=NullPool)
    with engine.connect() as connection:
        statuses = connection.scalars(
            select(AuditLog.status).where(AuditLog.username == username, AuditLog.action == "login")
        ).all()
    engine.dispose()
    assert statuses.count("failed") == limit, statuses
    assert statuses.count("locked") == 5, statuses
