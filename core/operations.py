"""Operator commands that need the whole app: `python -m core check` and `python -m core create-admin`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from typing import TextIO

from sqlalchemy.exc import SQLAlchemyError

from common.errors import BadInput
from common.words import plural
from core.passwords import PasswordPolicyError, check_password_policy, hash_password
from core.redis_client import RedisState
from core.status import SystemStatus, database_status, system_status
from db.engine import DatabaseFileError, one_line, session_scope
from db.models.accounts import Role
from db.repositories.users import create_user

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def format_status(status: SystemStatus) -> str:
    db, rd = status.database, status.redis
    pool = db.pool
    lines = [
        f"database:  {db.backend} {db.url}",
        f"  health:  {'ok' if db.health.ok else 'FAILED'} ({db.health.latency_ms:.1f} ms)"
        + (f" {db.health.error}" if db.health.error else ""),
        f"  schema:  revision {db.revision or 'none'}, head {db.head}"
        + (" (up to date)" if db.migrated else " (NOT up to date)"),
        f"  pool:    {pool.kind} size={pool.size} checked_out={pool.checked_out} overflow={pool.overflow}",
        f"redis:     {rd.state.value}"
        + (f" ({rd.latency_ms:.1f} ms)" if rd.latency_ms is not None else "")
        + (f" {rd.detail}" if rd.detail else ""),
        f"jobs:      {_runner_line(status)}",
    ]
    if db.problem:
        lines.append(f"problem:   {db.problem}")
    if rd.state == RedisState.UNREACHABLE:
        lines.append("problem:   REDIS_URL is set but Redis does not answer")
    if status.runner_problem:
        lines.append(f"problem:   {status.runner_problem}")
    return "\n".join(lines)


def _runner_line(status: SystemStatus) -> str:
    runner = status.runner
    if runner.local or runner.workers is None:
        return runner.summary() if runner.local else f"queue {runner.queue!r}, workers unknown (Redis down)"
    beat = f", last heartbeat {runner.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC" if runner.last_heartbeat else ""
    return f"queue {runner.queue!r}: {plural(runner.workers, 'worker')} listening, {runner.busy} busy{beat}"


def cmd_check(args: argparse.Namespace) -> int:
    try:
        status = system_status()
    except DatabaseFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    if args.json:
        # "ok" first, and the exit code's own rule: a scheduler reads one field, not every check's.
        print(json.dumps({"ok": status.ok} | asdict(status), default=str, indent=2))
    else:
        print(format_status(status))
    return EXIT_OK if status.ok else EXIT_PROBLEM


class NoTerminalError(Exception):
    """Nobody can answer the password prompt: the process has no terminal on its standard input."""


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    if not stdin.isatty():
        # Else getpass, finding no terminal, reads a pipe's first line as the password (only warning it may be
        # echoed): what the pipe holds was never typed at a prompt, so the option that says so must be asked for.
        raise NoTerminalError
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise PasswordPolicyError("the two passwords differ")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    # Ctrl-C at the prompt is main's to say, as an interruption like any other.
    try:
        password = _read_password(args, sys.stdin)
    except (NoTerminalError, EOFError) as error:
        # Under cron or a CI runner nobody can answer the prompt; the option that needs no one is the way.
        # After a prompt that got no answer, the message starts on a line of its own.
        after_prompt = "\n" if isinstance(error, EOFError) else ""
        print(f"{after_prompt}error: no terminal to ask on: use --password-stdin", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_password_policy(password, username=args.username, email=args.email)
        with session_scope(action="create-admin") as session:
            user = create_user(
                session=session,
                username=args.username,
                email=args.email,
                password_hash=hash_password(password),
                role=Role.ADMIN,
            )
            username = user.username
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    except SQLAlchemyError as error:
        print(f"error: {_store_problem(error)}", file=sys.stderr)
        return EXIT_PROBLEM
    # Only now: said inside the block, "created" came before a commit that could still fail and store nothing.
    args.done = f"admin {username!r} created"
    print(args.done)
    return EXIT_OK


def _store_problem(error: SQLAlchemyError) -> str:
    """Why the account was not stored, in one line: what is wrong with the database where `check` would say
    (unreachable, no schema yet: how to set it up), else the driver's first line; never the statement or its
    parameters, the password's hash among them."""
    problem = database_status().problem or one_line(getattr(error, "orig", None) or error)
    return f"could not store the account: {problem}"


def add_operations_commands(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="connectivity, migration revision, pool, Redis and job runners")
    check.add_argument("--json", action="store_true", help="print the status as JSON")
    check.set_defaults(run=cmd_check)

    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(run=cmd_create_admin)
