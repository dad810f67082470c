"""Over-long fields are refused before the database sees them; database errors never log parameters."""

import logging

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker

from common.logging import ROOT_LOGGER_NAME, configure_logging
from core.auth import AccountError, authenticate, register
from core.auth.accounts import USERNAME_TOO_LONG
from core.throttle import Throttle
from db.engine import DATABASE_NOT_ANSWERING, DATABASE_REFUSED, database_error_message, session_scope
from db.models import AuditLog, User
from tests.accounts import unique_name

PASSWORD = "a perfectly fine password"


@pytest.fixture
def logs(tmp_path):
    configure_logging(tmp_path, "DEBUG", console=False)

    def text() -> str:
        for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
            handler.flush()
        return "".join(path.read_text() for path in sorted(tmp_path.glob("*.log")))

    return text


def register_with_name(factory, *, first_name: str, email: str):
    with session_scope(factory, action="registration") as session:
        return register(
            session=session,
            username=unique_name("long"),
            email=email,
            password=PASSWORD,
            password_repeat=PASSWORD,
            full_name=first_name,
            invite_only=False,
            client_ip="198.51.100.4",
            throttle=Throttle(MemoryStorage()),
        )


def test_a_251_character_name_is_refused_audited_and_logs_no_secret(engine, logs):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    email = f"{unique_name('secret')}@example.com"
    with pytest.raises(AccountError, match="full name: at most 200 characters"):
        register_with_name(factory, first_name="N" * 251, email=email)
    with session_scope(factory) as session:
        assert session.scalar(select(User).where(User.email == email)) is None
        refused = session.scalars(
            select(AuditLog).where(AuditLog.action == "register", AuditLog.ip == "198.51.100.4")
        ).all()
        assert [(event.status, event.detail) for event in refused][-1] == ("failed", "full name: refused")
    written = logs()
    assert email not in written
    assert "$argon2" not in written


@pytest.mark.postgres
def test_a_database_error_logs_neither_the_email_nor_the_hash(postgres_database_url, logs):
    """Should a value slip past the checks, PostgreSQL's DataError is logged without its parameters."""
    from common.config import load_settings
    from db.engine import create_engine_from_settings

    engine = create_engine_from_settings(load_settings(), postgres_database_url)
    email = f"{unique_name('leak')}@example.com"
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    try:
        with pytest.raises(DBAPIError) as raised, session_scope(sessionmaker(bind=engine), action="registration") as s:
            s.add(User(username=unique_name("x"), email=email, password_hash=hashed, full_name="N" * 251))
        assert database_error_message(raised.value) == DATABASE_REFUSED
    finally:
        engine.dispose()
    written = logs()
    assert "rolled back during registration" in written
    assert email not in written
    assert hashed not in written
    assert email not in str(raised.value)


def test_a_300_character_username_gets_a_message_and_is_audited(session):
    throttle = Throttle(MemoryStorage())
    name = "u" * 300
    outcome = authenticate(session=session, username=name, password=PASSWORD, client_ip="192.0.2.30", throttle=throttle)
    assert outcome.message == USERNAME_TOO_LONG
    event = session.scalars(select(AuditLog).where(AuditLog.ip == "192.0.2.30")).one()
    assert (event.status, event.detail, event.username) == ("failed", "username longer than 64 characters", None)


def test_an_unreachable_database_reads_as_not_answering():
    assert database_error_message(OperationalError("SELECT 1", {}, Exception("timeout"))) == DATABASE_NOT_ANSWERING
