"""An admin's password reset: a temporary password, the user's sessions ended and their working API keys revoked."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.auth import PermissionDeniedError, create_api_key, reset_password_by_admin, revoke_key, verify_api_key
from core.auth.api_keys import KeyStatus, key_status
from core.passwords import verify_password
from db.models import AuditLog, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user
from db.types import utc_now


def account(session, name: str, role: Role = Role.ANALYST) -> Actor:
    return Actor.of(
        create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x", role=role)
    )


@pytest.fixture
def admin(session) -> Actor:
    return account(session, "root", Role.ADMIN)


def key(session, owner: Actor, name: str, **fields):
    created = create_api_key(session=session, actor=owner, name=name, expires_in_days=None)
    for field, value in fields.items():
        setattr(created.record, field, value)
    session.flush()
    return created


def test_a_reset_revokes_the_keys_that_worked_and_counts_them(session, admin, caplog):
    user, bystander = account(session, "kim"), account(session, "lee")
    nightly, notebook = key(session, user, "nightly"), key(session, user, "notebook")
    expired = key(session, user, "old", expires_at=utc_now() - timedelta(days=1))
    revoked = key(session, user, "dropped")
    assert revoke_key(session=session, actor=user, key_id=revoked.record.id)
    theirs = key(session, bystander, "theirs")

    with caplog.at_level("DEBUG"):
        reset = reset_password_by_admin(session=session, actor=admin, user_id=user.user_id)

    assert verify_api_key(session, nightly.secret) is None
    assert verify_api_key(session, notebook.secret) is None
    assert reset.revoked_keys == 2, "only the keys that still authenticated"
    assert key_status(expired.record) is KeyStatus.EXPIRED, "an expired key keeps saying why it stopped"
    assert verify_api_key(session, theirs.secret) is not None, "another user's keys are not touched"
    assert verify_password(reset.temporary_password, session.get(User, user.user_id).password_hash)
    details = session.scalars(
        select(AuditLog.detail).where(AuditLog.user_id == admin.user_id, AuditLog.action == "password reset")
    ).all()
    assert details == ["kim: 2 API keys revoked"]
    assert "password reset" in caplog.text
    for created in (nightly, notebook):
        assert created.secret not in caplog.text
        assert created.record.prefix not in caplog.text, "not even the part the owner sees"
    assert reset.temporary_password not in caplog.text


def test_a_reset_of_a_user_without_keys_says_none_were_revoked(session, admin):
    user = account(session, "kim")
    assert reset_password_by_admin(session=session, actor=admin, user_id=user.user_id).revoked_keys == 0
    detail = session.scalar(select(AuditLog.detail).where(AuditLog.action == "password reset"))
    assert detail == "kim: 0 API keys revoked"


def test_a_refused_reset_leaves_the_keys_working(session):
    user, colleague = account(session, "kim"), account(session, "lee")
    working = key(session, user, "nightly")
    with pytest.raises(PermissionDeniedError):
        reset_password_by_admin(session=session, actor=colleague, user_id=user.user_id)
    assert verify_api_key(session, working.secret) is not None
