"""The Account page's usage view: "Today" counts this UTC day's actions only, however long ago the last one was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import URL

from core.services import accounts
from db.engine import session_scope
from db.repositories.usage import count_action
from db.types import utc_now
from tests.accounts import make_account


@pytest.fixture
def database(committing_database: URL) -> URL:
    return committing_database


def today(actor) -> dict[str, int]:
    return {usage.action: usage.today for usage in accounts.action_usage(actor)}


def test_yesterday_s_actions_are_not_today_s(database):
    actor = make_account(database)
    yesterday = utc_now() - timedelta(days=1)
    with session_scope() as session:
        count_action(session=session, actor=actor, endpoint="train", now=yesterday)
        count_action(session=session, actor=actor, endpoint="train", now=yesterday)
        count_action(session=session, actor=actor, endpoint="fetch", now=yesterday)
        count_action(session=session, actor=actor, endpoint="fetch")
    assert today(actor)["train"] == 0, "no training today, however many yesterday"
    assert today(actor)["fetch"] == 1, "today's action starts the day's count again"


def test_today_s_actions_count(database):
    actor = make_account(database)
    with session_scope() as session:
        for _ in range(3):
            count_action(session=session, actor=actor, endpoint="predict")
    assert today(actor)["predict"] == 3
