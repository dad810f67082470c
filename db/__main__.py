"""Database command line: python -m db setup | reset (checks and admins: python -m core check | create-admin)."""

from __future__ import annotations

import argparse
import sys

from alembic.util.exc import CommandError
from sqlalchemy.exc import SQLAlchemyError

from common.config import ConfigError, get_settings
from common.logging import configure_logging, get_logger, stack_only
from db.engine import DatabaseFileError, get_engine, one_line, url_for_people
from db.migrate import current_revision, downgrade_to_base, head_revision, newer_revision_problem, upgrade_to_head

log = get_logger("db")

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def cmd_setup(_: argparse.Namespace) -> int:
    upgrade_to_head()
    print(f"database migrated to revision {head_revision()} ({url_for_people(get_engine().url)})")
    return EXIT_OK


def cmd_reset(args: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.is_production and not args.force:
        print("refusing to reset a production database without --force", file=sys.stderr)
        return EXIT_USAGE
    target = url_for_people(get_engine().url)
    if not args.yes:
        try:
            answer = input(f"This deletes every row in {target}. Type 'reset' to go on: ")
        except (EOFError, KeyboardInterrupt):
            # Under cron or a CI runner nobody can answer; --yes is the way to say it beforehand.
            print("\nerror: no terminal to ask on: use --yes", file=sys.stderr)
            return EXIT_USAGE
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
    except DatabaseFileError as error:
        log.error("python -m db %s failed: %s", args.command, error)
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    except (SQLAlchemyError, CommandError) as error:
        # One line for the operator; the stack (never a driver's whole message) goes to error.log.
        problem = _problem(error)
        log.error("python -m db %s failed: %s", args.command, problem, exc_info=stack_only(error))
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_PROBLEM


def _problem(error: SQLAlchemyError | CommandError) -> str:
    """The failure in one line an operator can act on; the URL shown without its password."""
    if isinstance(error, CommandError):
        try:
            newer = newer_revision_problem(current_revision(get_engine()))
        except SQLAlchemyError:
            newer = None
        return newer or one_line(error).removeprefix("CommandError: ")
    return f"database {url_for_people(get_engine().url)}: {one_line(error)}"


if __name__ == "__main__":
    sys.exit(main())
