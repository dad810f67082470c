"""Two admins acting on each other at the same moment on PostgreSQL still leave one active admin."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import URL

import core.auth.accounts as core_accounts
from common.config import get_settings
from core.services import accounts
from db.engine import reset_engine, session_scope
from db.models import User
from db.models.accounts import Role
from db.repositories.actor import Actor
from tests.accounts import make_account
from tests.servers import fresh_postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def race_database_url() -> Iterator[URL]:
    """A database of its own: the tests deactivate every admin in it."""
    with fresh_postgres_database(migrated=True) as url:
        yield url


@pytest.fixture
def two_admins(race_database_url: URL, monkeypatch: pytest.MonkeyPatch) -> tuple[Actor, Actor]:
    monkeypatch.setenv("DATABASE_URL", race_database_url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    reset_engine()
    with session_scope() as session:
        session.execute(update(User).where(User.role == Role.ADMIN.value).values(is_active=False))
    return make_account(race_database_url, role=Role.ADMIN), make_account(race_database_url, role=Role.ADMIN)


def at_the_same_moment(monkeypatch: pytest.MonkeyPatch, act: Callable[[Actor, Actor], object], a: Actor, b: Actor):
    """Run act(a, b) and act(b, a) in two threads, both past their reads before either writes."""
    barrier = threading.Barrier(2)
    real = core_accounts._existing_user

    def existing_user_then_wait(session, user_id):
        user = real(session, user_id)
        barrier.wait(timeout=10)
        return user

    monkeypatch.setattr(core_accounts, "_existing_user", existing_user_then_wait)
    outcomes: dict[str, str] = {}

    def run(actor: Actor, target: Actor) -> None:
        try:
            act(actor, target)
            outcomes[actor.username] = "ok"
        except Exception as error:  # noqa: BLE001 - reported to the assertions
            outcomes[actor.username] = str(error)

    threads = [threading.Thread(target=run, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def active_admins() -> int:
    with session_scope() as session:
        query = select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.is_active)
        return session.scalar(query)


def test_two_admins_demoting_each_other_leave_one(two_admins, monkeypatch):
    a, b = two_admins
    outcomes = at_the_same_moment(
        monkeypatch, lambda actor, target: accounts.change_role(actor, user_id=target.user_id, role=Role.ANALYST), a, b
    )
    assert sorted(outcomes.values()) == ["The last active admin cannot be demoted: make another user admin first", "ok"]
    assert active_admins() == 1


def test_two_admins_deactivating_each_other_leave_one(two_admins, monkeypatch):
    a, b = two_admins
    outcomes = at_the_same_moment(
        monkeypatch, lambda actor, target: accounts.set_active(actor, user_id=target.user_id, active=False), a, b
    )
    assert sorted(outcomes.values()) == [
        "The last active admin cannot be deactivated: make another user admin first",
        "ok",
    ]
    assert active_admins() == 1
