"""User A never reads user B's rows through a repository function; an admin sees across users."""

import pytest

from core.audit import record_event
from core.auth import create_api_key
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.api_keys import list_api_keys, revoke_api_key
from db.repositories.audit import list_audit_events
from db.repositories.preferences import get_preferences, update_preferences
from db.repositories.usage import count_action, list_usage
from db.repositories.users import create_user, list_users


@pytest.fixture
def people(session):
    def make(name, role=Role.ANALYST):
        return Actor.of(
            create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x", role=role)
        )

    return make("alice"), make("bob"), make("carol", Role.ADMIN)


@pytest.fixture
def bobs_rows(session, people):
    _, bob, _ = people
    key = create_api_key(session=session, actor=bob, name="bob's key", expires_in_days=None)
    update_preferences(session=session, actor=bob, default_tickers=["BOB"])
    record_event(session=session, action="login", status="ok", actor=bob)
    count_action(session=session, actor=bob, endpoint="fetch")
    return key


def test_alice_sees_none_of_bobs_rows(session, people, bobs_rows):
    alice, _, _ = people
    assert list_api_keys(session=session, actor=alice) == []
    assert not revoke_api_key(session=session, actor=alice, key_id=bobs_rows.record.id)
    assert get_preferences(session=session, actor=alice).default_tickers == []
    assert all(event.user_id == alice.user_id for event in list_audit_events(session=session, actor=alice))
    assert list_usage(session=session, actor=alice) == []
    assert [user.username for user in list_users(session=session, actor=alice)] == ["alice"]
    assert bobs_rows.record.is_active


def test_bob_sees_his_own(session, people, bobs_rows):
    _, bob, _ = people
    assert [key.name for key in list_api_keys(session=session, actor=bob)] == ["bob's key"]
    assert get_preferences(session=session, actor=bob).default_tickers == ["BOB"]
    assert [row.endpoint for row in list_usage(session=session, actor=bob)] == ["fetch"]


def test_an_admin_reads_the_audit_log_and_users_but_not_another_user_s_keys(session, people, bobs_rows):
    _, bob, carol = people
    assert bob.username in {event.username for event in list_audit_events(session=session, actor=carol, username="bob")}
    assert {"alice", "bob", "carol"} <= {user.username for user in list_users(session=session, actor=carol)}
    # Keys and preferences are personal: not even an admin lists or revokes another user's.
    assert not revoke_api_key(session=session, actor=carol, key_id=bobs_rows.record.id)
    assert list_api_keys(session=session, actor=carol) == []
    assert get_preferences(session=session, actor=carol).default_tickers == []
