"""Expected refusals log one INFO line; their audit rows survive the rollback; faults still log a traceback."""

import logging

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from core.auth import AccountError, change_password, register
from core.throttle import Throttle
from db.engine import session_scope
from db.models import AuditLog, User
from db.repositories.actor import Actor
from tests.accounts import DEFAULT_PASSWORD, make_account, unique_name


def sign_up(factory, **fields):
    name = unique_name("ref")
    values = {
        "username": name,
        "email": f"{name}@example.com",
        "password": "long enough pw",
        "password_repeat": "long enough pw",
        "full_name": None,
        "invite_only": False,
        "client_ip": "203.0.113.77",
        "throttle": Throttle(MemoryStorage()),
    } | fields
    with session_scope(factory, action="registration") as session:
        return register(session=session, **values)


@pytest.mark.parametrize(
    "fields",
    [{"password": "short", "password_repeat": "short"}, {"password_repeat": "something else"}, {"username": "x"}],
)
def test_a_refused_registration_logs_one_info_line_without_traceback(engine, caplog, fields):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with caplog.at_level(logging.DEBUG, logger="candlecast"), pytest.raises(AccountError):
        sign_up(factory, **fields)
    lines = [r for r in caplog.records if r.name.startswith("candlecast") and r.levelno >= logging.INFO]
    assert [(r.levelno, r.exc_info) for r in lines] == [(logging.INFO, None)]
    assert "action=register status=failed" in lines[0].getMessage()


def test_an_unaudited_refusal_still_gets_its_line(engine, caplog):
    from common.errors import Refusal

    with (
        caplog.at_level(logging.DEBUG, logger="candlecast"),
        pytest.raises(Refusal),
        session_scope(sessionmaker(bind=engine), action="something"),
    ):
        raise Refusal("not allowed")
    lines = [r for r in caplog.records if r.name.startswith("candlecast")]
    assert [(r.levelno, r.getMessage(), r.exc_info) for r in lines] == [
        (logging.INFO, "refused during something: not allowed", None)
    ]


def test_a_taken_username_is_a_refusal_too(engine, caplog):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    taken = sign_up(factory).username
    with caplog.at_level(logging.DEBUG, logger="candlecast"), pytest.raises(AccountError, match="is taken"):
        sign_up(factory, username=taken)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_an_unexpected_error_is_logged_once_with_its_traceback(engine, caplog):
    factory = sessionmaker(bind=engine)
    with (
        caplog.at_level(logging.DEBUG, logger="candlecast"),
        pytest.raises(ZeroDivisionError),
        session_scope(factory, action="arithmetic"),
    ):
        _ = 1 / 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_an_error_through_nested_scopes_is_logged_once(engine, caplog):
    factory = sessionmaker(bind=engine)
    with (
        caplog.at_level(logging.DEBUG, logger="candlecast"),
        pytest.raises(KeyError),
        session_scope(factory, action="outer"),
        session_scope(factory, action="inner"),
    ):
        raise KeyError("missing")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["database transaction rolled back during inner"]


def test_a_refused_registration_is_audited_after_the_rollback(engine):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    address = f"203.0.113.{len(unique_name()) + 100}"
    with pytest.raises(AccountError):
        sign_up(factory, password="short", password_repeat="short", client_ip=address)
    with session_scope(factory) as session:
        events = session.scalars(select(AuditLog).where(AuditLog.ip == address)).all()
        assert [(e.action, e.status, e.detail) for e in events] == [("register", "failed", "password policy")]


@pytest.mark.parametrize(
    ("current", "new", "repeat", "reason"),
    [
        ("not my password", "a brand new one", "a brand new one", "wrong current password"),
        (DEFAULT_PASSWORD, "a brand new one", "another one", "new passwords differ"),
        (DEFAULT_PASSWORD, "short", "short", "password policy"),
    ],
)
def test_a_refused_password_change_is_audited_after_the_rollback(engine, database_url, current, new, repeat, reason):
    actor: Actor = make_account(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with pytest.raises(AccountError), session_scope(factory, action="password change") as session:
        change_password(
            session=session,
            actor=actor,
            current=current,
            new=new,
            new_repeat=repeat,
            client_ip="192.0.2.9",
            throttle=Throttle(MemoryStorage()),
        )
    with session_scope(factory) as session:
        events = session.scalars(
            select(AuditLog).where(AuditLog.user_id == actor.user_id, AuditLog.action == "password change")
        ).all()
        assert [(e.status, e.detail, e.ip) for e in events] == [("failed", reason, "192.0.2.9")]
        # The refusal changed nothing else.
        assert session.get(User, actor.user_id).logged_out_at is None
