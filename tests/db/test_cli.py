"""The operator's commands against real databases: python -m db setup | reset, python -m core check | create-admin."""

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import suppress

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from common.config import PROJECT_ROOT
from core.__main__ import main as core_main
from db.__main__ import main as db_main
from db.migrate import head_revision
from db.models import User
from db.repositories.users import get_user_by_username
from tests.process_state import reset_process_state
from tests.servers import fresh_postgres_database

PASSWORD = "a-long-enough-pässword"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path, monkeypatch):
    """DATABASE_URL pointing at an empty database of each backend."""
    if request.param == "sqlite":
        url = URL.create("sqlite", database=str(tmp_path / "cli.db"))
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        yield url
        return
    with fresh_postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        yield url


def main(argv: list[str]) -> int:
    """Run the command as a new process would (settings read afresh), with the module that owns it."""
    reset_process_state()
    return (core_main if argv[0] in ("check", "create-admin") else db_main)(argv)


def count_users(url: URL) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(User))
    engine.dispose()
    return found


def test_check_fails_before_setup_and_passes_after(empty_database, capsys):
    assert main(["check"]) == 1
    assert "no schema yet" in capsys.readouterr().out
    assert main(["setup"]) == 0
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "up to date" in out
    assert f"database:  {empty_database.get_backend_name()}" in out
    assert "pool:    QueuePool size=5 checked_out=0 overflow=0" in out


def test_check_json_says_ok_as_its_exit_code_does(empty_database, monkeypatch, capsys):
    # A scheduler reads success from the document as from the exit code, not from every check's fields.
    def check_json() -> tuple[int, dict]:
        code = main(["check", "--json"])
        return code, json.loads(capsys.readouterr().out)

    code, status = check_json()
    assert (code, status["ok"]) == (1, False), "no schema yet"
    assert main(["setup"]) == 0
    capsys.readouterr()
    code, status = check_json()
    assert (code, status["ok"]) == (0, True)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    code, status = check_json()
    assert status["database"]["health"]["ok"] is True
    assert (code, status["ok"]) == (1, False), "the database is fine, but the configured Redis does not answer"


def test_check_fails_when_configured_redis_is_unreachable(empty_database, monkeypatch, capsys):
    main(["setup"])
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert main(["check"]) == 1
    assert "Redis does not answer" in capsys.readouterr().out


def test_check_says_the_app_runs_jobs_itself_without_redis(empty_database, capsys):
    main(["setup"])
    assert main(["check"]) == 0
    assert "jobs:      jobs run one at a time per app process, each in a process of its own on the app's machine" in (
        capsys.readouterr().out.splitlines()
    )


@pytest.mark.redis
def test_check_fails_while_no_worker_listens_on_the_queue(empty_database, monkeypatch, capsys, redis_url):
    from rq import SimpleWorker

    from core.redis_client import require_redis

    queue = f"candlecast-test-{uuid.uuid4().hex[:8]}"
    main(["setup"])
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("TRAINING_QUEUE", queue)
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"jobs:      queue {queue!r}: 0 workers listening, 0 busy" in lines
    assert (
        f"problem:   no worker is listening on the queue {queue!r}: queued jobs wait until one starts "
        "(`make worker`, or `python -m core.worker`)"
    ) in lines
    worker = SimpleWorker([queue], connection=require_redis())
    worker.register_birth()
    try:
        assert main(["check"]) == 0
    finally:
        worker.register_death()
    out = capsys.readouterr().out
    assert f"jobs:      queue {queue!r}: 1 worker listening, 0 busy, last heartbeat " in out
    assert "problem:" not in out


def test_check_fails_when_the_database_is_unreachable(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    assert main(["check"]) == 1
    assert "database unreachable" in capsys.readouterr().out


def test_bad_setting_exits_2_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("DB_PORT", "abc")
    assert main(["check"]) == 2
    assert "DB_PORT" in capsys.readouterr().err


def test_create_admin_reads_the_password_from_stdin_and_never_prints_it(empty_database, monkeypatch, capsys):
    main(["setup"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["create-admin", "--username", "Root", "--email", "root@example.com", "--password-stdin"]) == 0
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err
    from core.passwords import verify_password
    from db.engine import session_scope

    with session_scope() as session:
        admin = get_user_by_username(session=session, username="root")
        assert admin.role == "admin"
        assert admin.password_hash != PASSWORD
        assert verify_password(PASSWORD, admin.password_hash)


def test_create_admin_refuses_a_weak_password_and_writes_nothing(empty_database, monkeypatch, capsys):
    main(["setup"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("root\n"))
    assert main(["create-admin", "--username", "root", "--email", "root@example.com", "--password-stdin"]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    assert count_users(empty_database) == 0


def test_reset_refuses_production_without_force(empty_database, monkeypatch, capsys):
    main(["setup"])
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("COOKIE_KEY", "k3J9-vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP")
    assert main(["reset", "--yes"]) == 2
    assert "refusing" in capsys.readouterr().err


def test_reset_asks_and_empties_the_tables(empty_database, monkeypatch):
    main(["setup"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    main(["create-admin", "--username", "root", "--email", "root@example.com", "--password-stdin"])
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert main(["reset"]) == 1
    assert count_users(empty_database) == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "reset")
    assert main(["reset"]) == 0
    assert count_users(empty_database) == 0


def test_runs_as_a_module(empty_database):
    result = subprocess.run(
        [sys.executable, "-m", "db", "setup"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "migrated to revision" in result.stdout


@pytest.fixture
def silent_server():
    """A port that accepts connections and never says a word, as a hung database server does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept() -> None:
        with suppress(OSError):
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in accepted:
        connection.close()


def test_setup_gives_up_on_a_server_that_never_answers(silent_server):
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{silent_server}/x",
        "DB_CONNECT_TIMEOUT": "2",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "db", "setup"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_setup_on_an_unreachable_database_says_so_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres:hunter2hunter2@127.0.0.1:1/none")
    assert main(["setup"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("error: ")
    assert "127.0.0.1" in line
    assert "hunter2" not in line


def _move_to_unknown_revision(url: URL) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()


def test_check_says_to_upgrade_the_code_when_the_database_is_newer(empty_database, capsys):
    assert main(["setup"]) == 0
    _move_to_unknown_revision(empty_database)
    capsys.readouterr()
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    expected = f"the database is at revision 9999_from_the_future, newer than this code's head {head_revision()}"
    assert f"{expected}: upgrade the code" in out
    assert "python -m db setup" not in out


def test_setup_on_a_newer_database_says_so_in_one_line(empty_database, capsys):
    assert main(["setup"]) == 0
    _move_to_unknown_revision(empty_database)
    capsys.readouterr()
    assert main(["setup"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        f"error: the database is at revision 9999_from_the_future, newer than this code's head {head_revision()}: "
        "upgrade the code"
    )


@pytest.mark.parametrize("command", ["setup", "check"])
def test_a_database_folder_that_cannot_be_created_is_one_line(command, tmp_path, monkeypatch, capsys):
    # A read-only folder would not do: the tests run as root here, and root writes into a 0555 folder.
    # A regular file where the folder should be refuses everyone.
    in_the_way = tmp_path / "var"
    in_the_way.write_text("not a folder")
    monkeypatch.setenv("SQLITE_PATH", str(in_the_way / "data" / "candlecast.db"))
    assert main([command]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == f"error: cannot create {in_the_way / 'data'}: Not a directory"


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["core", "create-admin", "--username", "admin2", "--email", "a2@example.com"], "--password-stdin"),
        (["db", "reset"], "--yes"),
    ],
    ids=["create-admin", "reset"],
)
def test_a_prompt_with_no_terminal_says_which_option_to_use_and_exits_2(empty_database, command, option):
    subprocess.run([sys.executable, "-m", "db", "setup"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    # A session of its own has no controlling terminal, as under cron or a CI runner.
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"error: no terminal to ask on: use {option}"
    assert count_users(empty_database) == 0


SECRETS_IN_THE_QUERY = "password=Secr3tpw&sslmode=prefer&sslpassword=K3yphrase"


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_check_masks_secrets_given_as_query_parameters(monkeypatch, capsys, json_output):
    # libpq takes the password from the query as readily as before the @; check printed it as given.
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:1/none?{SECRETS_IN_THE_QUERY}")
    assert main(["check", *(["--json"] if json_output else [])]) == 1
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert "Secr3tpw" not in shown
    assert "K3yphrase" not in shown
    url = json.loads(printed.out)["database"]["url"] if json_output else printed.out.splitlines()[0]
    assert url.endswith("postgres@127.0.0.1:1/none?password=***&sslmode=prefer&sslpassword=***")


def test_db_setup_names_the_database_without_the_secrets_of_its_query(monkeypatch, capsys):
    # Its error line (and app.log's) showed ?password= as given, the user:pw@ form alone masked.
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:1/none?{SECRETS_IN_THE_QUERY}")
    reset_process_state()
    assert db_main(["setup"]) == 1
    printed = capsys.readouterr()
    assert "?password=***&sslmode=prefer&sslpassword=***" in printed.err
    assert not [secret for secret in ("Secr3tpw", "K3yphrase") if secret in printed.out + printed.err]


def test_the_worker_names_the_database_without_the_secrets_of_its_query(monkeypatch):
    from core.worker import database_problem

    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres:hunter2hunter2@127.0.0.1:1/none?{SECRETS_IN_THE_QUERY}")
    reset_process_state()
    problem = database_problem()
    assert problem.startswith("DATABASE_URL postgresql+psycopg2://postgres:***@127.0.0.1:1/none?password=***&")
    assert not [secret for secret in ("hunter2", "Secr3tpw", "K3yphrase") if secret in problem]


def test_create_admin_with_a_pipe_and_no_terminal_asks_for_the_option_and_creates_nobody(empty_database):
    # getpass, finding no terminal, read the password from the pipe (saying it might be echoed) and went on.
    subprocess.run([sys.executable, "-m", "db", "setup"], cwd=PROJECT_ROOT, capture_output=True, check=True)
    result = subprocess.run(
        [sys.executable, "-m", "core", "create-admin", "--username", "admin2", "--email", "a2@example.com"],
        cwd=PROJECT_ROOT,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (2, "error: no terminal to ask on: use --password-stdin\n")
    assert count_users(empty_database) == 0


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ctrl_c_at_the_password_prompt_is_an_interruption_not_a_missing_terminal(empty_database, monkeypatch, capsys):
    import getpass

    def interrupted(prompt: str) -> str:
        raise KeyboardInterrupt

    main(["setup"])
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(getpass, "getpass", interrupted)
    assert main(["create-admin", "--username", "root", "--email", "root@example.com"]) == 130
    assert capsys.readouterr().err == "interrupted: nothing unfinished was saved\n"
    assert count_users(empty_database) == 0
