"""Account services on both backends: each owns its transaction, checks the role, and audits refusals too."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from common.errors import NotAllowed, NotFound
from core.auth.accounts import AccountError
from core.preferences import PreferencesError
from core.services import accounts
from db.engine import session_scope
from db.models import AuditLog, Invitation, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from tests.accounts import DEFAULT_PASSWORD, make_account, unique_name


@pytest.fixture
def database(committing_database: URL) -> URL:
    """A database that commits, on each backend: the services own their transactions."""
    return committing_database


def audit_rows(actor: Actor, action: str) -> list[tuple[str, str | None]]:
    with session_scope() as session:
        query = select(AuditLog.status, AuditLog.detail).where(
            AuditLog.user_id == actor.user_id, AuditLog.action == action
        )
        return [tuple(row) for row in session.execute(query.order_by(AuditLog.at))]


def test_a_refused_password_change_is_audited_after_its_rollback(database):
    actor = make_account(database)
    with pytest.raises(AccountError, match="current password is wrong"):
        accounts.change_password(actor, current="not mine", new="a new passphrase", new_repeat="a new passphrase")
    assert audit_rows(actor, "password change") == [("failed", "wrong current password")]
    # The refusal changed nothing: the old password still logs in.
    assert accounts.log_in(username=actor.username, password=DEFAULT_PASSWORD).ok


def test_a_password_change_is_stored_and_audited(database):
    actor = make_account(database)
    accounts.change_password(actor, current=DEFAULT_PASSWORD, new="a new passphrase", new_repeat="a new passphrase")
    assert audit_rows(actor, "password change") == [("ok", None)]
    assert accounts.log_in(username=actor.username, password="a new passphrase").ok


def test_only_an_admin_invites_and_every_attempt_is_audited(database):
    analyst = make_account(database)
    admin = make_account(database, role=Role.ADMIN)
    email = f"{unique_name('friend')}@example.com"
    with pytest.raises(NotAllowed, match="analyst role cannot manage users"):
        accounts.invite(analyst, email=email)
    assert audit_rows(analyst, "invite") == [("failed", "the analyst role cannot manage users")]
    accounts.invite(admin, email=email.upper())
    with pytest.raises(AccountError, match="already invited"):
        accounts.invite(admin, email=email)
    assert [status for status, _ in audit_rows(admin, "invite")] == ["ok", "failed"]
    with session_scope() as session:
        assert session.scalars(select(Invitation.email).where(Invitation.email == email)).all() == [email]


def test_an_analyst_cannot_change_roles_and_the_refusal_is_audited(database):
    analyst = make_account(database)
    other = make_account(database)
    with pytest.raises(NotAllowed):
        accounts.change_role(analyst, user_id=other.user_id, role=Role.ADMIN)
    assert audit_rows(analyst, "role change") == [("failed", "the analyst role cannot manage users")]
    with session_scope() as session:
        assert session.get(User, other.user_id).role == Role.ANALYST.value


def test_an_admin_deactivates_a_user_whose_logins_then_fail(database):
    admin = make_account(database, role=Role.ADMIN)
    other = make_account(database)
    accounts.set_active(admin, user_id=other.user_id, active=False)
    assert not accounts.log_in(username=other.username, password=DEFAULT_PASSWORD).ok
    with pytest.raises(AccountError, match="cannot deactivate yourself"):
        accounts.set_active(admin, user_id=admin.user_id, active=False)
    assert [status for status, _ in audit_rows(admin, "deactivate")] == ["ok", "failed"]


def test_a_refused_preference_is_audited_without_what_was_typed(database):
    actor = make_account(database)
    with pytest.raises(PreferencesError, match="chart theme"):
        accounts.save_preferences(
            actor, tickers_text="AAPL", chart_theme="<b>neon</b>", default_range="1Y", notifications={}
        )
    assert audit_rows(actor, "save preferences") == [("failed", "chart theme: refused")]
    assert accounts.read_preferences(actor).default_tickers == []


def test_revoking_someone_elses_key_is_refused_as_unknown(database):
    owner, stranger = make_account(database), make_account(database)
    created = accounts.create_api_key(owner, name="nightly", expires_in_days=30)
    with pytest.raises(NotFound):
        accounts.revoke_api_key(stranger, key_id=created.record.id)
    assert [key.is_active for key in accounts.list_api_keys(owner)] == [True]
    assert [status for status, _ in audit_rows(stranger, "api key revoke")] == ["failed"]
    accounts.revoke_api_key(owner, key_id=created.record.id)
    assert [key.is_active for key in accounts.list_api_keys(owner)] == [False]


def test_reading_the_audit_log_and_invitations_is_for_admins(database):
    analyst = make_account(database)
    with pytest.raises(NotAllowed):
        accounts.audit_log(analyst)
    with pytest.raises(NotAllowed):
        accounts.list_invitations(analyst)


@pytest.mark.parametrize("committing_database_url", ["sqlite"], indirect=True)
def test_a_new_tab_checks_its_cookie_while_a_job_holds_the_write_lock(database):
    """The embedded database has one writer at a time; a cookie check must not wait for it."""
    import sqlite3
    import threading
    import time

    actor = make_account(database)
    token = accounts.session_cookie(user_id=actor.user_id, lifetime_seconds=3600, now=time.time())
    job = sqlite3.connect(database.database, isolation_level=None)
    job.execute("BEGIN IMMEDIATE")  # a training job in the middle of recording its progress
    resumed: list[object] = []
    tab = threading.Thread(target=lambda: resumed.append(accounts.resume_cookie(token=token)), daemon=True)
    try:
        tab.start()
        tab.join(timeout=5)
        assert resumed, "the cookie check waited for the writer"
        assert resumed[0][0].id == actor.user_id
    finally:
        job.rollback()
        job.close()
        tab.join(timeout=60)
