"""Logging: two rotating files shared by processes, component loggers, no double handlers, one line a record."""

import logging
import os
import stat
import subprocess
import sys

import pytest

from common.config import PROJECT_ROOT, ConfigError
from common.logging import BACKUP_COUNT, MAX_LOG_BYTES, ROOT_LOGGER_NAME, configure_logging, get_logger


def test_info_goes_to_app_log_and_errors_to_both(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("data").info("fetched 20 rows of MSFT")
    get_logger("jobs").error("job 7 failed")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    app_log = (tmp_path / "app.log").read_text()
    error_log = (tmp_path / "error.log").read_text()
    assert "candlecast.data" in app_log
    assert "fetched 20 rows of MSFT" in app_log
    assert "job 7 failed" in app_log
    assert "job 7 failed" in error_log
    assert "MSFT" not in error_log


def test_debug_is_dropped_at_info_level(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("model").debug("tensor shapes")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    assert "tensor shapes" not in (tmp_path / "app.log").read_text()


def test_files_rotate_at_ten_megabytes_with_five_backups(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    handlers = [h for h in logging.getLogger(ROOT_LOGGER_NAME).handlers if hasattr(h, "maxBytes")]
    assert len(handlers) == 2
    assert {(h.maxBytes, h.backupCount) for h in handlers} == {(MAX_LOG_BYTES, BACKUP_COUNT)}
    assert MAX_LOG_BYTES == 10 * 1024 * 1024


def test_configuring_twice_does_not_duplicate_lines(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("auth").warning("once")
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    assert (tmp_path / "app.log").read_text().count("once") == 1


def test_unknown_component_is_refused():
    with pytest.raises(ValueError, match="unknown log component 'billing'"):
        get_logger("billing")


FORGED = "\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE"


def flushed_lines(log_dir, name="app.log"):
    for handler in logging.getLogger(ROOT_LOGGER_NAME).handlers:
        handler.flush()
    return (log_dir / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    "control", ["\n", "\r", "\r\n", "\x1b[2K\r", "\x00", "\x7f", "\x85", "\u2028", "\u2029", "\t", "\x0b", "\x0c"]
)
def test_control_characters_in_a_message_cannot_start_a_line(tmp_path, capsys, control):
    configure_logging(tmp_path, "INFO", console=True)
    get_logger("api").error("audit detail=%s", f"p.csv{control}2026-12-07 ERROR forged")
    for name in ("app.log", "error.log"):
        text = "\n".join(flushed_lines(tmp_path, name))
        assert text.count("\n") == 0, f"{name}: {text!r}"
        assert control not in text
        assert "p.csv\\" in text
    console = capsys.readouterr().err
    assert console.count("\n") == 1
    assert control not in console.rstrip("\n")


def test_line_breaks_read_as_escapes(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("api").info("detail=%s", f"p.csv{FORGED}\r\x1b[0m\u2028")
    (line,) = flushed_lines(tmp_path)
    assert line.endswith("detail=p.csv\\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE\\r\\x1b[0m\\u2028")


def test_a_traceback_stays_on_lines_of_its_own_below_the_escaped_message(tmp_path):
    configure_logging(tmp_path, "INFO", console=False)
    try:
        raise ValueError("the cause")
    except ValueError:
        get_logger("jobs").exception("job failed for %s", f"bob{FORGED}")
    lines = flushed_lines(tmp_path)
    assert lines[0].endswith("job failed for bob\\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE")
    assert lines[1] == "Traceback (most recent call last):"
    assert any(line.startswith('  File "') for line in lines)
    assert lines[-1] == "ValueError: the cause"
    assert not any(line.startswith("2026-12-07 07:30:00,000 ERROR") for line in lines)


def test_an_errors_message_cannot_forge_a_line_below_its_traceback(tmp_path):
    # An error's message may quote what a user typed or a file held; its traceback is ours.
    configure_logging(tmp_path, "INFO", console=False)
    try:
        try:
            raise KeyError(f"cause{FORGED}")
        except KeyError as cause:
            error = ValueError(f"bad cell{FORGED}\r\x1b[2K")
            error.add_note(f"note{FORGED}")
            raise error from cause
    except ValueError:
        get_logger("data").exception("upload failed")
    lines = flushed_lines(tmp_path)
    assert not any(line.startswith("2026-12-07 07:30:00,000 ERROR") for line in lines), lines
    forged = "\\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE"
    assert lines[-1] == f"ValueError: bad cell{forged}\\r\\x1b[2K\\nnote{forged}", "the message and its note, escaped"
    assert f"KeyError: 'cause{forged}'" in lines, "a chained error's message too"
    assert "The above exception was the direct cause of the following exception:" in lines
    assert sum(line == "Traceback (most recent call last):" for line in lines) == 2
    assert sum(line.startswith('  File "') for line in lines) == 2


def test_a_stack_without_the_errors_message_stays_multi_line(tmp_path):
    from common.logging import stack_only

    configure_logging(tmp_path, "INFO", console=False)
    driver_message = "duplicate key\nDETAIL: Key (email)=(someone@example.com) already exists"
    try:
        try:
            raise KeyError("the cause, naming someone@example.com too")
        except KeyError as cause:
            raise ValueError(driver_message) from cause
    except ValueError as error:
        get_logger("db").error("rolled back: %s", f"x{FORGED}", exc_info=stack_only(error))
    lines = flushed_lines(tmp_path)
    assert lines[0].endswith("rolled back: x\\n2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[2].startswith('  File "')
    assert lines[-1] == "common.logging.FirstLineOnly: ValueError: duplicate key"
    assert "someone@example.com" not in "\n".join(lines), "the stack and the first line, never the error's data"


def test_an_audited_detail_cannot_forge_a_line(tmp_path, session):
    from core.audit import record_event

    configure_logging(tmp_path, "INFO", console=False)
    record_event(session=session, action="upload", status="ok", username="alice", detail=f"p.csv{FORGED}")
    session.commit()  # an audit line is written once its row is committed
    lines = flushed_lines(tmp_path)
    assert len(lines) == 1
    assert "detail=p.csv\\n2026-12-07" in lines[0]


def test_an_upload_is_recorded_under_its_file_name_without_control_characters(tmp_path, session):
    from limits.storage import MemoryStorage
    from sqlalchemy import select

    from common.config import load_settings
    from core.data.service import upload_prices
    from core.throttle import Throttle
    from db.models import AuditLog, DataUpload
    from db.repositories.actor import Actor
    from db.repositories.users import create_user
    from tests.fixtures import gspc_2018_bytes

    configure_logging(tmp_path, "INFO", console=False)
    actor = Actor.of(create_user(session=session, username="ida", email="ida@example.com", password_hash="x"))
    upload_prices(
        session=session,
        actor=actor,
        settings=load_settings(),
        throttle=Throttle(MemoryStorage()),
        data=gspc_2018_bytes(),
        filename=f"p{FORGED}\r\x1b[31m\u2028.csv",
        ticker="SPX",
    )
    stored = session.scalar(select(DataUpload.filename).where(DataUpload.user_id == actor.user_id))
    assert stored == "p2026-12-07 07:30:00,000 ERROR    candlecast.db FORGED LINE[31m.csv"
    detail = session.scalar(select(AuditLog.detail).where(AuditLog.action == "upload", AuditLog.username == "ida"))
    assert detail.startswith(stored + ": ")
    assert not any(line.startswith("2026-12-07 07:30:00,000") for line in flushed_lines(tmp_path))


WRITER = """
import sys
from pathlib import Path

import common.logging as L

L.MAX_LOG_BYTES = 20_000
L.BACKUP_COUNT = 200
L.configure_logging(Path(sys.argv[1]), "INFO", console=False)
log = L.get_logger("jobs")
for i in range(int(sys.argv[3])):
    log.info("proc=%s line=%05d %s", sys.argv[2], i, "x" * 80)
"""


def test_processes_writing_one_log_lose_no_line_across_rotations(tmp_path):
    writers, lines_each = 4, 1500
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n), str(lines_each)], cwd=PROJECT_ROOT)
        for n in range(writers)
    ]
    assert all(process.wait(timeout=60) == 0 for process in processes)
    files = sorted(tmp_path.glob("app.log*"))
    written = [line for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(written) == writers * lines_each
    assert len({line.rsplit(" proc=", 1)[1] for line in written}) == writers * lines_each, "each line once"
    assert len(files) > 10, "the files rotated"
    record = max(len(line) + 1 for line in written)
    assert max(path.stat().st_size for path in files) <= 20_000 + record


def test_log_files_are_not_readable_by_others(tmp_path):
    previous = os.umask(0o022)
    try:
        configure_logging(tmp_path / "logs", "INFO", console=False)
        get_logger("auth").error("one line in each file")
        flushed_lines(tmp_path / "logs")
    finally:
        os.umask(previous)
    for name in ("app.log", "error.log"):
        assert stat.S_IMODE((tmp_path / "logs" / name).stat().st_mode) & 0o077 in (0, 0o040), name


def test_a_log_file_rotated_in_is_not_readable_by_others_either(tmp_path, monkeypatch):
    import common.logging as app_logging

    monkeypatch.setattr(app_logging, "MAX_LOG_BYTES", 1_000)
    previous = os.umask(0o022)
    try:
        configure_logging(tmp_path, "INFO", console=False)
        for _ in range(30):
            get_logger("jobs").info("%s", "x" * 100)
        flushed_lines(tmp_path)
    finally:
        os.umask(previous)
    assert (tmp_path / "app.log.1").exists()
    for path in tmp_path.glob("app.log*"):
        assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0, path.name


def test_a_log_file_someone_made_keeps_its_mode(tmp_path):
    made = tmp_path / "app.log"
    made.touch()
    made.chmod(0o644)
    configure_logging(tmp_path, "INFO", console=False)
    get_logger("jobs").info("appended")
    assert flushed_lines(tmp_path)[-1].endswith("appended")
    assert stat.S_IMODE(made.stat().st_mode) == 0o644


@pytest.mark.parametrize("where", ["a-file", "a-file/below"], ids=["a-file", "below-a-file"])
def test_a_log_dir_that_cannot_be_created_is_a_config_error_naming_log_dir(tmp_path, where):
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(ConfigError, match=r"^LOG_DIR: cannot create or write .*a-file"):
        configure_logging(tmp_path / where, "INFO", console=False)


@pytest.mark.parametrize(
    "command", [["core", "check"], ["db", "setup"], ["api", "--port", "1"], ["core.worker", "--burst"]]
)
def test_every_entry_point_names_a_bad_log_dir_in_one_line_and_exits_2(tmp_path, command):
    env = os.environ | {"LOG_DIR": "/proc/nope", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    finished = subprocess.run(
        [sys.executable, "-m", *command], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().splitlines() == [finished.stderr.strip()], finished.stderr
    assert "LOG_DIR: cannot create or write /proc/nope" in finished.stderr
