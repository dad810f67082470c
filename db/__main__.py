"""Database command line: python -m db setup | reset (checks and admins: python -m core check | create-admin)."""

from __future__ import annotations

import argparse
import sys

from common.config import ConfigError, get_settings
from common.logging import configure_logging
from db.engine import get_engine
from db.migrate import downgrade_to_base, head_revision, upgrade_to_head

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


def cmd_setup(_: argparse.Namespace) -> int:
    upgrade_to_head()
    print(f"database migrated to revision {head_revision()} ({get_engine().url.render_as_string()})")
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


if __name__ == "__main__":
    sys.exit(main())
