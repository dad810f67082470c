"""Repositories for users and preferences."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session

from common.config import load_settings
from db.engine import create_engine_from_settings
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.preferences import get_preferences, update_preferences
from db.repositories.users import (
    UserInputError,
    create_user,
    deactivate_user,
    get_user_by_email,
    get_user_by_username,
    list_users,
    lock_active_admins,
    record_login,
    set_role,
)
from tests.servers import fresh_postgres_database


def test_create_user_normalises_and_finds_case_insensitively(session):
    user = create_user(session=session, username="  Alice ", email="Alice@Example.COM", password_hash="h")
    assert (user.username, user.email, user.role) == ("alice", "alice@example.com", "analyst")
    assert get_user_by_username(session=session, username="ALICE") is user
    assert get_user_by_email(session=session, email="alice@example.com") is user


@pytest.mark.parametrize(
    ("username", "email", "message"),
    [
        ("al", "al@example.com", "username: 3-64 characters"),
        ("bad name", "b@example.com", "username: 3-64 characters"),
        ("carol", "not-an-email", "email: not an e-mail address"),
    ],
)
def test_malformed_fields_are_named(session, username, email, message):
    with pytest.raises(UserInputError, match=message):
        create_user(session=session, username=username, email=email, password_hash="h")


def test_taken_username_and_email_are_refused(session):
    create_user(session=session, username="dave", email="dave@example.com", password_hash="h")
    with pytest.raises(UserInputError, match="username: 'dave' is taken"):
        create_user(session=session, username="DAVE", email="other@example.com", password_hash="h")
    with pytest.raises(UserInputError, match="email: this address is already registered"):
        create_user(session=session, username="dave2", email="Dave@example.com", password_hash="h")


def test_roles_admins_and_deactivation(session):
    erin = create_user(session=session, username="erin", email="erin@example.com", password_hash="h")
    admins_before = lock_active_admins(session=session)
    set_role(session=session, user=erin, role=Role.ADMIN)
    assert lock_active_admins(session=session) == admins_before | {erin.id}
    deactivate_user(session=session, user=erin)
    assert lock_active_admins(session=session) == admins_before


def test_only_admins_list_other_users(session):
    erin = create_user(session=session, username="erin", email="erin@example.com", password_hash="h")
    fred = create_user(session=session, username="fred", email="fred@example.com", password_hash="h")
    assert [u.username for u in list_users(session=session, actor=Actor.of(erin))] == ["erin"]
    set_role(session=session, user=fred, role=Role.ADMIN)
    assert {"erin", "fred"} <= {u.username for u in list_users(session=session, actor=Actor.of(fred))}


def test_record_login_sets_an_aware_time(session):
    user = create_user(session=session, username="frank", email="frank@example.com", password_hash="h")
    record_login(session=session, user=user)
    assert user.last_login is not None
    assert user.last_login.tzinfo is not None


def test_preferences_default_then_merge(session):
    user = create_user(session=session, username="gina", email="gina@example.com", password_hash="h")
    actor = Actor.of(user)
    defaults = get_preferences(session=session, actor=actor)
    assert (defaults.default_tickers, defaults.ui_preferences) == ([], {})
    update_preferences(
        session=session,
        actor=actor,
        default_tickers=["MSFT", "AAPL", "MSFT"],
        ui_preferences={"theme": "dark"},
    )
    update_preferences(session=session, actor=actor, ui_preferences={"range": "1Y"})
    session.expire_all()
    saved = get_preferences(session=session, actor=actor)
    assert saved.default_tickers == ["MSFT", "AAPL"]
    assert saved.ui_preferences == {"theme": "dark", "range": "1Y"}


@pytest.mark.postgres
def test_two_first_saves_of_preferences_at_once_both_land():
    """Two tabs on Home save a first preference at once: neither fails, neither part is lost."""
    with fresh_postgres_database(migrated=True) as url:
        engine = create_engine_from_settings(load_settings(), url)
        try:
            with Session(engine) as setup:
                user = create_user(session=setup, username="hana", email="hana@example.com", password_hash="h")
                actor = Actor.of(user)
                setup.commit()

            def second_tab() -> None:
                with Session(engine) as second:
                    update_preferences(session=second, actor=actor, ui_preferences={"seen": "second"})
                    second.commit()

            with Session(engine) as first, ThreadPoolExecutor(1) as pool:
                update_preferences(session=first, actor=actor, ui_preferences={"theme": "dark"})
                waiting = pool.submit(second_tab)  # its insert waits on the first tab's uncommitted row
                time.sleep(0.5)
                first.commit()
                waiting.result(timeout=30)
            with Session(engine) as check:
                assert get_preferences(session=check, actor=actor).ui_preferences == {"theme": "dark", "seen": "second"}
        finally:
            engine.dispose()
