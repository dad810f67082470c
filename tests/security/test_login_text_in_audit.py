"""What a visitor types at login never lands verbatim in the audit log, app.log, or anything exportable."""

import logging

import pandas as pd
import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common.config import load_settings
from common.logging import ROOT_LOGGER_NAME, configure_logging
from core.auth import LOGIN_REFUSED, authenticate
from core.data.export import FORMULA_TRIGGERS, to_safe_csv
from core.throttle import Throttle
from db.engine import create_engine_from_settings, session_scope
from db.models import AuditLog
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account
from tests.app_pages.test_auth_flow import log_in, visit

HOSTILE = '=hyperlink("http://evil.example/","click")'
PASSWORD_IN_THE_WRONG_FIELD = "Tr0ub4dor&3-typed-as-a-name"


def audit_text(session) -> str:
    rows = session.execute(select(AuditLog.username, AuditLog.detail, AuditLog.action)).all()
    return " ".join(str(value) for row in rows for value in row)


def flush_logs() -> None:
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()


@pytest.mark.parametrize("typed", [HOSTILE, PASSWORD_IN_THE_WRONG_FIELD])
def test_an_unknown_username_is_audited_without_its_text(session, tmp_path, typed):
    configure_logging(tmp_path, "DEBUG", console=False)
    outcome = authenticate(
        session=session, username=typed, password="whatever", client_ip="192.0.2.1", throttle=Throttle(MemoryStorage())
    )
    assert outcome.message == LOGIN_REFUSED
    event = session.scalars(select(AuditLog).where(AuditLog.ip == "192.0.2.1")).one()
    assert (event.action, event.status, event.detail, event.username) == ("login", "failed", "unknown username", None)
    assert typed.lower() not in audit_text(session).lower()
    flush_logs()
    assert typed.lower() not in (tmp_path / "app.log").read_text().lower()


def test_a_formula_login_reaches_no_exportable_cell(monkeypatch, sqlite_database_url):
    """End to end: the login form, then the admin's audit table and a CSV export of it."""
    monkeypatch.setenv("DATABASE_URL", sqlite_database_url.render_as_string(hide_password=False))
    at = log_in(visit(), HOSTILE, "a guess at a password")
    assert [error.value for error in at.error] == [LOGIN_REFUSED]

    admin = make_account(sqlite_database_url, role=Role.ADMIN)
    page = logged_in_app("app_pages/account.py", admin).run()
    assert not page.exception
    cells = [str(cell) for table in page.dataframe for cell in table.value.to_numpy().ravel()]
    assert cells
    assert not any(HOSTILE.lower() in cell.lower() for cell in cells)
    assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in cells)

    engine = create_engine_from_settings(load_settings(), sqlite_database_url)
    with session_scope(sessionmaker(bind=engine)) as session:
        frame = pd.DataFrame(session.execute(select(AuditLog.username, AuditLog.detail)).all())
    engine.dispose()
    assert HOSTILE.lower() not in to_safe_csv(frame).decode().lower()


def test_user_text_in_audit_details_is_neutralised_in_the_admin_table(monkeypatch, sqlite_database_url):
    """Other rows do carry user text (an upload's file name): the admin's table neutralises it."""
    monkeypatch.setenv("DATABASE_URL", sqlite_database_url.render_as_string(hide_password=False))
    engine = create_engine_from_settings(load_settings(), sqlite_database_url)
    with session_scope(sessionmaker(bind=engine)) as session:
        session.add(AuditLog(action="upload", status="failed", detail=HOSTILE))
    engine.dispose()
    admin = make_account(sqlite_database_url, role=Role.ADMIN)
    page = logged_in_app("app_pages/account.py", admin).run()
    audit = page.dataframe[-1].value
    assert "'" + HOSTILE in set(audit["Detail"])
    assert HOSTILE not in set(audit["Detail"])
