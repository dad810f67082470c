"""app.log's audit lines name what the audit table holds: written once the transaction commits, never for a
transaction rolled back, and once for a refusal whose row is written again after the rollback it causes."""

import logging
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from common.errors import Refusal
from core.audit import record_event, refusals_audited
from db.engine import create_engine_from_settings, session_scope
from db.models import AuditLog, User


@pytest.fixture
def sessions(committing_database_url):
    engine = create_engine_from_settings(load_settings(), committing_database_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="candlecast")

    def lines(marker: str) -> list[str]:
        messages = [record.getMessage() for record in caplog.records]
        return [message for message in messages if message.startswith("audit ") and marker in message]

    return lines


def a_user(name: str) -> User:
    return User(username=name, email=f"{name}@example.com", password_hash="x", role="analyst", subscription_tier="free")


def stored(sessions, marker: str) -> list[tuple[str, str]]:
    with session_scope(sessions) as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.detail.contains(marker))).all()
        return [(row.action, row.status) for row in rows]


def test_an_event_is_logged_once_its_transaction_commits(sessions, audit_lines):
    marker = uuid.uuid4().hex
    with session_scope(sessions, action="train") as session:
        record_event(session=session, action="train", status="ok", username="ann", detail=f"SPX v3 {marker}")
        assert audit_lines(marker) == [], "not before the commit: the version may never exist"
    assert len(audit_lines(marker)) == 1
    assert "audit action=train status=ok user=ann" in audit_lines(marker)[0]
    assert stored(sessions, marker) == [("train", "ok")]


def test_an_event_whose_commit_fails_is_not_logged(sessions, audit_lines):
    # "audit action=train status=ok ... v3" stayed in app.log for a version that was never saved.
    taken = uuid.uuid4().hex[:12]
    with session_scope(sessions) as session:
        session.add(a_user(taken))
    marker = uuid.uuid4().hex

    def save_version() -> None:
        with session_scope(sessions, action="save trained model") as session:
            record_event(session=session, action="train", status="ok", username="ann", detail=f"SPX v3 {marker}")
            session.add(a_user(taken))  # refused by the database only as the transaction commits

    with pytest.raises(IntegrityError):
        save_version()
    assert stored(sessions, marker) == []
    assert audit_lines(marker) == []


def test_an_event_rolled_back_by_hand_is_not_logged_even_after_a_later_commit(sessions, audit_lines):
    marker = uuid.uuid4().hex
    session = sessions()
    try:
        record_event(session=session, action="upload", status="ok", username="ann", detail=f"gone {marker}")
        session.rollback()
        record_event(session=session, action="upload", status="ok", username="ann", detail=f"kept {marker}")
        session.commit()
    finally:
        session.close()
    assert [line.rsplit("detail=", 1)[1] for line in audit_lines(marker)] == [f"kept {marker}"]


def test_a_refusal_kept_after_its_rollback_is_logged_once_and_the_undone_event_not_at_all(sessions, audit_lines):
    marker = uuid.uuid4().hex

    def change_role() -> None:
        with (
            session_scope(sessions, action="role change") as session,
            refusals_audited(session=session, action="role change", ip="192.0.2.9"),
        ):
            record_event(session=session, action="role change", status="ok", username="ann", detail=f"undone {marker}")
            raise Refusal(f"refused {marker}")

    with pytest.raises(Refusal):
        change_role()
    lines = audit_lines(marker)
    assert len(lines) == 1
    assert "action=role change status=failed" in lines[0]
    assert lines[0].endswith(f"detail=refused {marker}")
    assert stored(sessions, marker) == [("role change", "failed")]


def test_a_row_kept_after_a_failed_commit_is_logged_once(sessions, audit_lines):
    taken = uuid.uuid4().hex[:12]
    with session_scope(sessions) as session:
        session.add(a_user(taken))
    marker = uuid.uuid4().hex

    def register() -> None:
        with session_scope(sessions, action="register") as session:
            record_event(session=session, action="register", status="failed", detail=marker, survive_rollback=True)
            session.add(a_user(taken))
            session.flush()

    with pytest.raises(IntegrityError):
        register()
    assert stored(sessions, marker) == [("register", "failed")], "the kept row is written after the rollback"
    assert len(audit_lines(marker)) == 1


def test_a_refusal_audited_in_a_fresh_transaction_after_a_rollback_is_logged_once(sessions, audit_lines):
    # As a failed fetch does: its transaction rolled back, its audit row written in one of its own.
    marker = uuid.uuid4().hex

    def store_fetched() -> None:
        with session_scope(sessions, action="fetch SPX") as session:
            record_event(session=session, action="fetch", status="ok", detail=f"undone {marker}")
            raise Refusal("the source refused")

    with pytest.raises(Refusal):
        store_fetched()
    with session_scope(sessions, action="fetch SPX: audit") as session:
        record_event(session=session, action="fetch", status="failed", detail=f"refused {marker}")
    assert [line.rsplit("detail=", 1)[1] for line in audit_lines(marker)] == [f"refused {marker}"]


def test_a_savepoint_rolled_back_drops_its_events_and_one_released_waits_for_the_commit(sessions, audit_lines):
    marker = uuid.uuid4().hex
    with session_scope(sessions) as session:
        record_event(session=session, action="x", status="ok", detail=f"before {marker}")
        try:
            with session.begin_nested():
                record_event(session=session, action="x", status="ok", detail=f"undone {marker}")
                raise KeyError("lost a race")
        except KeyError:
            pass
        with session.begin_nested():
            record_event(session=session, action="x", status="ok", detail=f"released {marker}")
        assert audit_lines(marker) == [], "a released savepoint is not a commit"
    details = [line.rsplit("detail=", 1)[1] for line in audit_lines(marker)]
    assert details == [f"before {marker}", f"released {marker}"]
    assert sorted(status for _, status in stored(sessions, marker)) == ["ok", "ok"]
