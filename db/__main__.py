"""Database command line: python -m db setup | check | create-admin | reset."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from dataclasses import asdict
from typing import TextIO

from common.config import ConfigError, get_settings
from common.logging import configure_logging
from core.passwords import PasswordPolicyError, check_password_policy, hash_password
from core.redis_client import RedisState
from core.status import SystemStatus, system_status
from db.engine import get_engine, session_scope
from db.migrate import downgrade_to_base, head_revision, upgrade_to_head
from db.models.accounts import Role
from db.repositories.users import UserInputError, create_user

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def cmd_setup(_: argparse.Namespace) -> int:
    upgrade_to_head()
    print(f"database migrated to revision {head_revision()} ({get_engine().url.render_as_string()})")
    return EXIT_OK


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
    return f"queue {runner.queue!r}: {runner.workers} worker(s) listening, {runner.busy} busy{beat}"


def cmd_check(args: argparse.Namespace) -> int:
    status = system_status()
    if args.json:
        print(json.dumps(asdict(status), default=str, indent=2))
    else:
        print(format_status(status))
    return EXIT_OK if status.ok else EXIT_PROBLEM


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise PasswordPolicyError("the two passwords differ")
    return first


def cmd_create_admin(args: argparse.Namespace) -> int:
    password = _read_password(args, sys.stdin)
    check_password_policy(password, username=args.username, email=args.email)
    with session_scope(action="create-admin") as session:
        user = create_user(
            session=session,
            username=args.username,
            email=args.email,
            password_hash=hash_password(password),
            role=Role.ADMIN,
        )
        print(f"admin {user.username!r} created")
    return EXIT_OK


def cmd_reset(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.is_production and not args.force:
        print("refusing to reset a production database without --force", file=sys.stderr)
        return EXIT_USAGE
    target = get_engine().url.render_as_string()
    if not args.yes:
        answer = input(f"This deletes every row in {target}. Type 'reset' to go on: ")
        if answer.strip() != "reset":
            print("nothing changed", file=sys.stderr)
            return EXIT_PROBLEM
    downgrade_to_base()
    upgrade_to_head()
    print(f"database {target} reset to an empty schema at revision {head_revision()}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m db", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("setup", help="apply every migration").set_defaults(run=cmd_setup)

    check = commands.add_parser("check", help="connectivity, migration revision, pool and Redis status")
    check.add_argument("--json", action="store_true", help="print the status as JSON")
    check.set_defaults(run=cmd_check)

    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    admin.set_defaults(run=cmd_create_admin)

    reset = commands.add_parser("reset", help="drop every table and migrate again (asks first)")
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    reset.add_argument("--force", action="store_true", help="allow a reset when APP_ENV=production")
    reset.set_defaults(run=cmd_reset)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_path, settings.log_level, console=False)
        return args.run(args)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    except (UserInputError, PasswordPolicyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
