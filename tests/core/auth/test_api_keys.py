"""API keys: shown once, stored as a hash, verified, expiring, revoked at once."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.auth import ApiKeyError, create_api_key, list_keys, revoke_key, set_active, verify_api_key
from core.auth.api_keys import MAX_ACTIVE_KEYS_PER_USER, KeyStatus, key_status
from db.models import ApiKey
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user
from db.types import utc_now


@pytest.fixture
def owner(session):
    return Actor.of(create_user(session=session, username="kim", email="kim@example.com", password_hash="x"))


def test_the_key_is_stored_only_as_its_sha256(session, owner):
    created = create_api_key(session=session, actor=owner, name="nightly fetch", expires_in_days=30)
    row = session.scalar(select(ApiKey).where(ApiKey.id == created.record.id))
    assert row.key_hash == hashlib.sha256(created.secret.encode()).hexdigest()
    columns = [getattr(row, column.key) for column in ApiKey.__table__.columns]
    assert all(created.secret not in str(value) for value in columns)
    assert created.secret.startswith(row.prefix)
    assert len(row.prefix) < len(created.secret) // 3


def test_keys_carry_at_least_128_random_bits(session, owner):
    secrets = {
        create_api_key(session=session, actor=owner, name=f"k{i}", expires_in_days=None).secret for i in range(5)
    }
    assert len(secrets) == 5
    for secret in secrets:
        random_part = secret.removeprefix("cc_")
        assert len(random_part) * 6 >= 128  # url-safe base64: 6 bits a character


def test_verify_returns_the_owner_and_marks_last_use(session, owner):
    created = create_api_key(session=session, actor=owner, name="ci", expires_in_days=None)
    assert created.record.last_used is None
    assert verify_api_key(session, created.secret)[1].id == owner.user_id
    assert created.record.last_used is not None


def test_revocation_takes_effect_at_once(session, owner):
    created = create_api_key(session=session, actor=owner, name="ci", expires_in_days=None)
    assert revoke_key(session=session, actor=owner, key_id=created.record.id)
    assert verify_api_key(session, created.secret) is None


def test_expired_unknown_and_malformed_keys_are_refused(session, owner):
    created = create_api_key(session=session, actor=owner, name="old", expires_in_days=1)
    created.record.expires_at = utc_now() - timedelta(seconds=1)
    session.flush()
    assert verify_api_key(session, created.secret) is None
    assert verify_api_key(session, "cc_" + "A" * 43) is None
    assert verify_api_key(session, "not-a-key") is None
    assert verify_api_key(session, "") is None


def test_a_deactivated_owner_makes_the_key_useless(session, owner):
    admin = Actor.of(
        create_user(session=session, username="boss", email="boss@example.com", password_hash="x", role=Role.ADMIN)
    )
    created = create_api_key(session=session, actor=owner, name="ci", expires_in_days=None)
    set_active(session=session, actor=admin, user_id=owner.user_id, active=False, client_ip=None)
    assert verify_api_key(session, created.secret) is None


def test_listing_shows_only_ones_own_keys(session, owner):
    other = Actor.of(create_user(session=session, username="lou", email="lou@example.com", password_hash="x"))
    create_api_key(session=session, actor=owner, name="mine", expires_in_days=None)
    theirs = create_api_key(session=session, actor=other, name="theirs", expires_in_days=None)
    assert [key.name for key in list_keys(session=session, actor=owner)] == ["mine"]
    assert not revoke_key(session=session, actor=owner, key_id=theirs.record.id)
    assert verify_api_key(session, theirs.secret) is not None


@pytest.mark.parametrize(
    ("name", "days", "message"), [("", 30, "name: 1-100"), ("x" * 101, 30, "name"), ("ok", 0, "expires")]
)
def test_bad_requests_are_named(session, owner, name, days, message):
    with pytest.raises(ApiKeyError, match=message):
        create_api_key(session=session, actor=owner, name=name, expires_in_days=days)


@pytest.mark.parametrize(
    "name", ["nightly\n2026-12-07 ERROR forged", "tab\there", "bell\x07", "nel\x85next", "line\u2028separator"]
)
def test_a_name_with_control_characters_is_refused_naming_the_problem(session, owner, name):
    with pytest.raises(ApiKeyError, match="name: no control characters"):
        create_api_key(session=session, actor=owner, name=name, expires_in_days=None)
    assert list_keys(session=session, actor=owner) == []


def test_a_key_has_one_status_by_the_rule_that_verifies_it(session, owner):
    live = create_api_key(session=session, actor=owner, name="live", expires_in_days=30)
    expired = create_api_key(session=session, actor=owner, name="old", expires_in_days=1)
    revoked = create_api_key(session=session, actor=owner, name="gone", expires_in_days=None)
    expired.record.expires_at = utc_now() - timedelta(seconds=1)
    revoke_key(session=session, actor=owner, key_id=revoked.record.id)
    statuses = {key.name: key_status(key) for key in list_keys(session=session, actor=owner)}
    assert statuses == {"live": KeyStatus.ACTIVE, "old": KeyStatus.EXPIRED, "gone": KeyStatus.REVOKED}
    for created in (live, expired, revoked):
        assert (verify_api_key(session, created.secret) is not None) == (key_status(created.record) == "active")


def test_an_account_holds_at_most_a_few_active_keys(session, owner):
    keys = [
        create_api_key(session=session, actor=owner, name=f"k{i}", expires_in_days=1)
        for i in range(MAX_ACTIVE_KEYS_PER_USER)
    ]
    with pytest.raises(ApiKeyError, match=f"{MAX_ACTIVE_KEYS_PER_USER} active API keys.*revoke one"):
        create_api_key(session=session, actor=owner, name="one too many", expires_in_days=1)
    assert len(list_keys(session=session, actor=owner)) == MAX_ACTIVE_KEYS_PER_USER
    # Revoked and expired keys make room: they authenticate nothing.
    revoke_key(session=session, actor=owner, key_id=keys[0].record.id)
    create_api_key(session=session, actor=owner, name="after a revocation", expires_in_days=1)
    keys[1].record.expires_at = utc_now() - timedelta(seconds=1)
    session.flush()
    create_api_key(session=session, actor=owner, name="after an expiry", expires_in_days=1)
    with pytest.raises(ApiKeyError, match="revoke one"):
        create_api_key(session=session, actor=owner, name="one too many", expires_in_days=1)


def test_the_cap_is_per_account(session, owner):
    other = Actor.of(create_user(session=session, username="lou", email="lou@example.com", password_hash="x"))
    for i in range(MAX_ACTIVE_KEYS_PER_USER):
        create_api_key(session=session, actor=owner, name=f"k{i}", expires_in_days=None)
    assert create_api_key(session=session, actor=other, name="mine", expires_in_days=None).secret


def test_a_second_revocation_is_refused_and_audited_as_failed(session, owner):
    from db.models import AuditLog

    created = create_api_key(session=session, actor=owner, name="ci", expires_in_days=None)
    assert revoke_key(session=session, actor=owner, key_id=created.record.id)
    assert not revoke_key(session=session, actor=owner, key_id=created.record.id)
    statuses = session.scalars(
        select(AuditLog.status).where(AuditLog.action == "api key revoke", AuditLog.user_id == owner.user_id)
    ).all()
    assert sorted(statuses) == ["failed", "ok"]


def test_an_admin_cannot_revoke_someone_else_s_key(session, owner):
    admin = Actor.of(
        create_user(session=session, username="boss", email="boss@example.com", password_hash="x", role=Role.ADMIN)
    )
    created = create_api_key(session=session, actor=owner, name="ci", expires_in_days=None)
    assert not revoke_key(session=session, actor=admin, key_id=created.record.id)
    assert verify_api_key(session, created.secret) is not None, "the owner's key still works"


def test_a_revocation_is_audited_under_the_key_s_name_and_creation_never_its_secret(session, owner):
    # The revoke row said only the key's id, which no page shows: two keys named alike could not be told apart.
    from db.models import AuditLog

    created = create_api_key(session=session, actor=owner, name="nightly job", expires_in_days=None)
    assert revoke_key(session=session, actor=owner, key_id=created.record.id)
    [row] = session.scalars(select(AuditLog).where(AuditLog.action == "api key revoke")).all()
    assert row.detail == f"nightly job (created {created.record.created_at:%Y-%m-%d %H:%M} UTC)"
    assert created.record.prefix not in row.detail
