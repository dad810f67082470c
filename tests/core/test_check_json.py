"""`python -m core check --json`: a scheduler reads success from the document as from the exit code."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import URL

from core.__main__ import main as core_main
from db.__main__ import main as db_main
from tests.process_state import reset_process_state
from tests.servers import fresh_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path, monkeypatch):
    """DATABASE_URL pointing at an empty database of each backend."""
    if request.param == "sqlite":
        url = URL.create("sqlite", database=str(tmp_path / "check.db"))
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        yield url
        return
    with fresh_postgres_database() as url:
        monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
        yield url


def check_json(capsys) -> tuple[int, dict]:
    """The exit code and the printed document of one run, as a new process would see its settings."""
    reset_process_state()
    code = core_main(["check", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check_json_says_ok_as_its_exit_code_does(empty_database, monkeypatch, capsys):
    code, status = check_json(capsys)
    assert (code, status["ok"]) == (1, False), "no schema yet"
    reset_process_state()
    assert db_main(["setup"]) == 0
    capsys.readouterr()
    code, status = check_json(capsys)
    assert (code, status["ok"]) == (0, True)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    code, status = check_json(capsys)
    assert status["database"]["health"]["ok"] is True
    assert (code, status["ok"]) == (1, False), "the database is fine, but the configured Redis does not answer"
