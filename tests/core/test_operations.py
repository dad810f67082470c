"""python -m core create-admin says an account was created only once it is stored, and a failed store in one line."""

import io
import sys

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from core.__main__ import main as core_main
from db.migrate import upgrade_to_head
from db.models import User
from tests.process_state import reset_process_state
from tests.servers import fresh_postgres_database

PASSWORD = "a-long-enough-pässword"

# Each backend takes the account's row and refuses it only as the transaction commits, as a server that
# fails at that moment (a lost connection, a full disk, a deferred check) does.
REFUSE_AT_COMMIT = {
    "sqlite": [
        "CREATE TABLE commit_guard_target (id INTEGER PRIMARY KEY)",
        "CREATE TABLE commit_guard (target INTEGER REFERENCES commit_guard_target (id) DEFERRABLE INITIALLY DEFERRED)",
        "CREATE TRIGGER guard_users AFTER INSERT ON users BEGIN INSERT INTO commit_guard VALUES (1); END",
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_account() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the account store is closed'; END $$",
        "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON users DEFERRABLE INITIALLY DEFERRED "
        "FOR EACH ROW EXECUTE FUNCTION refuse_account()",
    ],
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def refusing_database(request, tmp_path, monkeypatch):
    """DATABASE_URL at a migrated database of each backend whose commit of a new user fails."""
    if request.param == "sqlite":
        url = URL.create("sqlite", database=str(tmp_path / "refusing.db"))
        upgrade_to_head(url)
        yield _refusing(url, request.param, monkeypatch)
        return
    with fresh_postgres_database(migrated=True) as url:
        yield _refusing(url, request.param, monkeypatch)


def _refusing(url: URL, backend: str, monkeypatch) -> URL:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        for statement in REFUSE_AT_COMMIT[backend]:
            connection.execute(text(statement))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def users(url: URL) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(User))
    engine.dispose()
    return found


def create_admin(monkeypatch, username: str) -> int:
    reset_process_state()
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    return core_main(["create-admin", "--username", username, "--email", f"{username}@example.com", "--password-stdin"])


def test_an_account_the_database_refuses_at_commit_is_not_said_to_be_created(refusing_database, monkeypatch, capsys):
    # It printed "admin 'ghost' created", then a traceback, and exited 1 with no user stored.
    assert create_admin(monkeypatch, "ghost") == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("error: could not store the account: ")
    assert printed.err.count("\n") == 1, printed.err
    assert PASSWORD not in printed.err
    assert "INSERT" not in printed.err, "not the statement"
    assert "$argon2" not in printed.err, "nor its parameters"
    assert users(refusing_database) == 0


def test_a_database_not_set_up_says_how_to_set_it_up(tmp_path, monkeypatch, capsys):
    url = URL.create("sqlite", database=str(tmp_path / "empty.db"))
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert create_admin(monkeypatch, "root") == 1
    printed = capsys.readouterr()
    assert (printed.out, printed.err) == (
        "",
        "error: could not store the account: database has no schema yet: run `python -m db setup`\n",
    )
