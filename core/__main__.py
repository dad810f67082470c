"""Command line for scheduled jobs: python -m core fetch | import-csv | load-sample."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from core.config import ConfigError, get_settings
from core.data.service import fetch_tickers, import_prices, load_sample
from core.data.tickers import parse_ticker_text
from core.logging import configure_logging
from db.engine import get_sessionmaker, session_scope
from db.repositories.actor import Actor
from db.repositories.users import get_user_by_username

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-01-31") from None


def cmd_fetch(args: argparse.Namespace) -> int:
    tickers, problems = parse_ticker_text(" ".join(args.tickers))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    run = fetch_tickers(
        sessions=get_sessionmaker(),
        actor=None,
        tickers=tickers,
        start=args.start,
        end=args.end or date.today(),
        settings=get_settings(),
        throttle=None,
        refresh=args.refresh,
        on_progress=lambda done, total, o: print(
            f"[{done}/{total}] {o.ticker}: {o.status} {o.rows or ''} {o.message}"
        ),
    )
    return EXIT_FAILED if any(o.status == "error" for o in run.outcomes) else EXIT_OK


def cmd_import_csv(args: argparse.Namespace) -> int:
    owner = None
    with session_scope(action="import-csv") as session:
        if args.owner:
            user = get_user_by_username(session=session, username=args.owner)
            if user is None:
                print(f"error: --owner: no user {args.owner!r}", file=sys.stderr)
                return EXIT_USAGE
            owner = Actor.of(user)
        result = import_prices(
            session=session,
            data=args.file.read_bytes(),
            ticker=args.ticker,
            date_format=args.date_format,
            skip_bad_rows=args.skip_bad_rows,
            owner=owner,
        )
    if not result.accepted:
        print(result.message(), file=sys.stderr)
        if result.report:
            for line in result.report.lines()[1:]:
                print(line, file=sys.stderr)
        return EXIT_FAILED
    print(result.message())
    if result.status == "partial":
        for line in result.report.lines():
            print(line, file=sys.stderr)
    return EXIT_OK


def cmd_load_sample(_: argparse.Namespace) -> int:
    with session_scope(action="load-sample") as session:
        written = load_sample(session=session, actor=None)
    print(f"loaded {written} rows of the S&P 500 sample (^GSPC)")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="fetch daily prices from Yahoo Finance into the shared cache")
    fetch.add_argument("tickers", nargs="+", metavar="TICKER")
    fetch.add_argument("--start", type=_date, help="first day (default: five years ago)")
    fetch.add_argument("--end", type=_date, help="last day (default: today)")
    fetch.add_argument("--refresh", action="store_true", help="only the days after the last cached one")
    fetch.set_defaults(run=cmd_fetch)

    imports = commands.add_parser("import-csv", help="import a price CSV (all rows or none)")
    imports.add_argument("file", type=Path)
    imports.add_argument("--ticker", help="the ticker of every row (else the file's Ticker column)")
    imports.add_argument("--date-format", help="strptime format of the dates, e.g. %%d/%%m/%%Y (default ISO)")
    imports.add_argument("--skip-bad-rows", action="store_true", help="store the valid rows, report the rest")
    imports.add_argument("--owner", help="username whose private prices these are (default: shared)")
    imports.set_defaults(run=cmd_import_csv)

    sample = commands.add_parser("load-sample", help="load the bundled S&P 500 sample (^GSPC 1999-2018)")
    sample.set_defaults(run=cmd_load_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_path, settings.log_level, console=False)
    if getattr(args, "file", None) is not None and not args.file.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return EXIT_USAGE
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
