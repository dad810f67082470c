"""Command line: fetch | import-csv | quality | load-sample | train | predict | walkforward | leaderboard,
and the operator's check | create-admin (python -m db does setup and reset)."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy.exc import SQLAlchemyError

from common.config import ConfigError, get_settings
from common.errors import Refusal
from common.logging import configure_logging
from common.words import plural
from core.data.csv_prices import parse_price_csv
from core.data.errors import FileFormatError
from core.data.layouts.mapping import MAPPABLE
from core.data.service import (
    FetchOutcome,
    InvalidRowsError,
    fetch_tickers,
    import_prices,
    load_sample,
    read_price_series,
)
from core.data.table import MAX_BYTES, check_size
from core.data.tickers import TickerError, normalise_ticker, parse_ticker_text
from core.forecasting.config import MAX_FORECAST_DAYS, MODEL_TYPES, WALK_FORWARD_WINDOWS
from core.forecasting.evaluation import MASE_SPEC, figure, json_safe
from core.operations import add_operations_commands
from db.engine import DatabaseFileError, get_sessionmaker, session_scope
from db.repositories.actor import Actor
from db.repositories.users import get_user_by_username

if TYPE_CHECKING:
    import pandas as pd

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as the shell reports a command that Ctrl-C ended
# Fetch outcomes of a ticker whose prices did not come: "skipped" ones were not tried once Yahoo proved unreachable.
NOT_FETCHED = ("error", "skipped")


def _print_json(value: object) -> None:
    """Every --json output: one strict JSON document, a non-finite number (an unbounded interval's bound)
    as null. allow_nan=False makes one that escapes json_safe an error rather than an Infinity no parser takes."""
    print(json.dumps(json_safe(value), allow_nan=False))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-01-31") from None


def _ticker(text: str) -> str:
    """The ticker as stored: the cache is read, and versions saved and looked up, under this spelling."""
    try:
        return normalise_ticker(text)
    except TickerError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _kinds(text: str) -> tuple[str, ...]:
    """Model types named in a comma-separated list: an unknown one is a malformed argument, exit 2."""
    kinds = tuple(kind.strip() for kind in text.split(","))
    for kind in kinds:
        if kind not in MODEL_TYPES:
            raise argparse.ArgumentTypeError(f"unknown model type {kind[:20]!r}; choose from {', '.join(MODEL_TYPES)}")
    return kinds


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of trading days") from None
    if not 1 <= days <= MAX_FORECAST_DAYS:
        raise argparse.ArgumentTypeError(f"1 to {MAX_FORECAST_DAYS}, got {days}")
    return days


class UsageError(Exception):
    """The command cannot run as given: one line naming the option that would do, exit 2."""


class UnreadableFileError(Exception):
    """A file named on the command line that the system will not read: one line naming it and why, exit 1."""


def _file_problem(path: Path) -> str | None:
    """Why a path named on the command line is no file to read, said before anything is read or written."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "no such file"
    except OSError:
        return None  # reading it says why, as that file's failure
    if stat.S_ISDIR(mode):
        return "is a directory"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def _read_input(path: Path) -> bytes:
    """The file's bytes, read only once its size is known to be within what an upload may be.

    Raises FileFormatError, in the upload's own words, for a larger file; UnreadableFileError when it cannot be read.
    """
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            # Never more than one byte past the limit: a file in /proc says it holds 0 bytes, and any file may grow.
            data = file.read(MAX_BYTES + 1) if size <= MAX_BYTES else b""
    except OSError as error:
        raise UnreadableFileError(f"{path}: {error.strerror or error}") from error
    check_size(max(size, len(data)))
    return data


def _valid_prices(path: Path, ticker: str | None) -> pd.DataFrame | None:
    """The rows of a price file of one ticker, or None once what is wrong with it is on stderr."""
    try:
        data = _read_input(path)
    except UnreadableFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    except FileFormatError as error:
        print(f"error: {path.name}: {error}", file=sys.stderr)
        return None
    try:
        return read_price_series(data, ticker=ticker)
    except InvalidRowsError as error:
        print("\n".join(error.report.lines()), file=sys.stderr)
    except FileFormatError as error:
        if ticker is None and _parses_once_a_ticker_is_named(data):
            # The reader's words are the web form's ("type one"); here the way is an option.
            raise UsageError(f"{path.name} has no Ticker column: name the ticker of its rows with --ticker") from None
        print(f"error: {path.name}: {error}", file=sys.stderr)
    return None


def _parses_once_a_ticker_is_named(data: bytes) -> bool:
    """Whether the file's one problem as a price file is that nothing names its ticker."""
    try:
        parse_price_csv(data, ticker="X")
    except FileFormatError:
        return False
    return True


def cmd_fetch(args: argparse.Namespace) -> int:
    from core.services.market import DateRangeError, check_date_range

    tickers, problems = parse_ticker_text(" ".join(args.tickers))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    end = args.end or date.today()
    try:
        check_date_range(args.start, end, first_day="--start")
    except DateRangeError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    fetched = 0

    def say(done: int, total: int, outcome: FetchOutcome) -> None:
        nonlocal fetched
        failed = outcome.status in NOT_FETCHED
        if not failed and outcome.rows:
            fetched += 1
            args.done = f"{plural(fetched, 'ticker')} fetched"
        parts = (f"[{done}/{total}] {outcome.ticker}: {outcome.status}", str(outcome.rows or ""), outcome.message)
        print(" ".join(part for part in parts if part), file=sys.stderr if failed else sys.stdout)

    run = fetch_tickers(
        sessions=get_sessionmaker(),
        actor=None,
        tickers=tickers,
        start=args.start,
        end=end,
        settings=get_settings(),
        throttle=None,
        refresh=args.refresh,
        on_progress=say,
    )
    failed = sum(outcome.status in NOT_FETCHED for outcome in run.outcomes)
    if failed:
        print(f"error: {failed:,} of {plural(len(run.outcomes), 'ticker')} failed", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_import_csv(args: argparse.Namespace) -> int:
    """Each file in a transaction of its own (all its rows or none); the run fails if any file was refused.

    Many files in one run: each process pays seconds of start-up, so a file at a time is ten times slower.
    """
    if args.ticker and len(args.file) > 1:
        print("error: --ticker names the ticker of one file's rows: give one file, or let each file's name or "
              "Ticker column say", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    refused = False
    imported = 0
    for path in args.file:
        # One file is said as before; of several, each line names its file.
        named = f"{path.name}: " if len(args.file) > 1 else ""
        if _import_one_file(args, path, named):
            imported += 1
            args.done = f"{plural(imported, 'file')} imported"
        else:
            refused = True
    return EXIT_FAILED if refused else EXIT_OK


def _import_one_file(args: argparse.Namespace, path: Path, named: str) -> bool:
    """Import one file as the arguments say, reporting on stdout and stderr; whether it was accepted."""
    try:
        data = _read_input(path)
    except UnreadableFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return False
    except FileFormatError as error:
        print(f"{named}Rejected, nothing written: {error}", file=sys.stderr)  # as an import's result says it
        return False
    with session_scope(action="import-csv") as session:
        owner = _named_owner(session, args.owner) if args.owner else None
        result = import_prices(
            session=session,
            data=data,
            ticker=args.ticker,
            date_format=args.date_format,
            skip_bad_rows=args.skip_bad_rows,
            owner=owner,
            filename=path.name,
            sheet=args.sheet,
            mapping=dict(args.map) if args.map else None,
        )
    # How the file was read, as the page shows it: a date read day first or month first is said here alone.
    if result.layout:
        print(f"{named}layout: {result.layout}", file=sys.stderr)
    for note in result.notes:
        print(f"{named}note: {note}", file=sys.stderr)
    if not result.accepted:
        print(f"{named}{result.message()}", file=sys.stderr)
        if result.report:
            for line in result.report.lines()[1:]:
                print(f"{named}{line}", file=sys.stderr)
        if result.needs_mapping:
            print(f"{named}map the columns: {MAP_USAGE} … (fields: {', '.join(MAPPABLE)})", file=sys.stderr)
        if result.other_sheets and not args.sheet:
            print(f"{named}read another sheet: --sheet NAME", file=sys.stderr)
        return False
    print(f"{named}{result.message()}")
    if result.status == "partial":
        for line in result.report.lines():
            print(f"{named}{line}", file=sys.stderr)
    return True


MAP_USAGE = "--map date=COLUMN --map close=COLUMN"


def _field_and_column(text: str) -> tuple[str, str]:
    """--map close='Last price': the field, and the header name of the column holding it."""
    field, equals, column = text.partition("=")
    if not equals or not field.strip() or not column.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not FIELD=COLUMN, e.g. close='Last price'")
    return field.strip().lower(), column.strip()


class OwnerError(Exception):
    """--owner names nobody who may act now: a usage error, said in one line."""


def _named_owner(session, username: str) -> Actor:
    """The user named by --owner, who must exist and still be active: a deactivated account can't sign in,
    and the command line must not act for it either."""
    user = get_user_by_username(session=session, username=username)
    if user is None:
        raise OwnerError(f"no user {username!r}")
    if not user.is_active:
        raise OwnerError(f"{username!r} is deactivated")
    return Actor.of(user)


def _owner(session, username: str | None) -> Actor:
    """The named user, or else the first active administrator: models always belong to someone."""
    from sqlalchemy import select

    from db.models import User

    if username:
        return _named_owner(session, username)
    user = session.scalar(select(User).where(User.role == "admin", User.is_active).order_by(User.created_at))
    if user is None:
        raise OwnerError("no admin yet (python -m core create-admin)")
    return Actor.of(user)


def cmd_train(args: argparse.Namespace) -> int:
    from core.auth.roles import Permission, require
    from core.forecasting.config import ModelSettingsError, parse_config
    from core.forecasting.registry import save_version
    from core.forecasting.training import train_model
    from db.repositories.prices import read_prices

    try:
        config = parse_config(args.config, **({"model_type": args.model_type} if args.model_type else {}))
    except ModelSettingsError as error:
        print(f"error: --config: {error}", file=sys.stderr)
        return EXIT_USAGE
    ticker = args.ticker
    with session_scope(action="train from the command line") as session:
        owner = _owner(session, args.owner)
        require(owner, Permission.TRAIN)
        if args.csv:
            prices = _valid_prices(args.csv, ticker)
            if prices is None:
                return EXIT_FAILED
        else:
            prices = read_prices(session=session, actor=owner, ticker=ticker)
            if prices.empty:
                print(f"error: no cached prices of {ticker}: fetch, import or pass --csv", file=sys.stderr)
                return EXIT_FAILED
    result = train_model(prices, config, ticker=ticker)
    with session_scope(action="save trained model") as session:
        version = save_version(session=session, actor=owner, ticker=ticker, result=result)
        number = version.version
    args.done = f"v{number} of {ticker} saved"
    metrics = result.metrics
    summary = {
        "ticker": ticker,
        "version": number,
        "owner": owner.username,
        "train_seconds": round(result.train_seconds, 3),
        "model_type": result.model_type,
        "epochs": result.epochs_run,
        "mae": metrics["mae"],
        "naive_mae": metrics["naive_mae"],
        "mase": metrics["mase"],
        "rmse": metrics["rmse"],
        "direction_accuracy": metrics["direction_accuracy"],
        "direction_p_value": metrics["direction_p_value"],
        "coverage": metrics["test_coverage"],
        "test_days": metrics["test_days"],
        "verdict": result.verdict,
    }
    if args.json:
        _print_json(summary)
    else:
        mase = figure(metrics["mase"], MASE_SPEC)
        print(f"{summary['ticker']} v{number} ({result.model_type}): {result.verdict} (MASE {mase})")
    return EXIT_OK


def cmd_predict(args: argparse.Namespace) -> int:
    from core.forecasting.evaluation import stored_verdict
    from core.forecasting.zoo import judged_version, version_name
    from core.predictions import predict
    from core.throttle import get_throttle

    with session_scope(action="predict from the command line") as session:
        owner = _owner(session, args.owner)
        predicted = predict(
            session=session, actor=owner, ticker=args.ticker, days=args.days, settings=get_settings(),
            throttle=get_throttle(),
        )  # fmt: skip
        made = [
            {
                "target_date": row.target_date.isoformat(),
                "predicted": row.predicted_value,
                "lower": row.lower,
                "upper": row.upper,
                "confidence": row.confidence_score,
            }
            for row in predicted.rows
        ]
        version = predicted.version
        summary = {
            "ticker": args.ticker,
            "prediction_date": predicted.rows[0].prediction_date.isoformat(),
            "model": version_name(version.ticker, version.version, version.model_type),
            "verdict": stored_verdict(version.metrics),
            "days": made,
        }
    args.done = f"{plural(len(made), 'forecast')} of {args.ticker} saved in the ledger"
    if args.json:
        _print_json(summary)
    else:
        print(judged_version(version.ticker, version.version, version.model_type, version.metrics))
        for day in made:
            print(f"{day['target_date']}: {day['predicted']:.2f} ({day['lower']:.2f} to {day['upper']:.2f})")
    return EXIT_OK


def cmd_walkforward(args: argparse.Namespace) -> int:
    from core.forecasting.config import ModelSettingsError, parse_config
    from core.forecasting.walkforward import WalkForwardSettings, walk_forward

    try:
        config = parse_config(args.config)
        settings = WalkForwardSettings(windows=args.windows, step=args.step, retrain_every=args.retrain_every)
    except (ModelSettingsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    prices = _valid_prices(args.csv, args.ticker)
    if prices is None:
        return EXIT_FAILED
    result = walk_forward(
        prices,
        config,
        settings,
        on_window=None if args.json else lambda k, n: print(f"window {k} of {n} done", file=sys.stderr),
    )
    summary = {"ticker": prices["ticker"].iloc[0]} | result.metrics | {"seconds": round(result.seconds, 1)}
    if args.json:
        _print_json(summary)
    else:
        print(
            f"{plural(summary['windows'], 'window')}, {summary['days']} days: "
            f"MASE {figure(summary['mase'], MASE_SPEC)}, "
            f"Diebold-Mariano {_p_value(summary['dm_pvalue'])}, "
            f"coverage {figure(summary['coverage'], '.3f')}: {summary['verdict']}"
        )
    return EXIT_OK


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from core.forecasting.engine import LEADERBOARD_KINDS, leaderboard, rows_as_records

    prices = _valid_prices(args.csv, args.ticker)
    if prices is None:
        return EXIT_FAILED
    rows = rows_as_records(leaderboard(prices, kinds=args.kinds or LEADERBOARD_KINDS))
    if args.json:
        _print_json({"ticker": args.ticker, "sorted_by": "validation_mase", "models": rows})
        return EXIT_OK
    print(f"{'model':<16}{'val MASE':>10}{'test MASE':>11}{'DM p':>8}{'direction':>11}{'coverage':>10}{'train s':>9}")
    columns = (  # (key, width, format)
        ("validation_mase", 10, ".4f"),
        ("test_mase", 11, ".4f"),
        ("direction_accuracy", 11, ".1%"),
        ("coverage", 10, ".1%"),
        ("train_seconds", 9, ".2f"),
    )
    for row in rows:
        cells = [f"{figure(row[key], spec):>{width}}" for key, width, spec in columns]
        # The p-value as the verdict beside it writes it: never rounded across 0.05.
        cells.insert(2, f"{_p_value(row['dm_pvalue']).removeprefix('p = ').removeprefix('p '):>8}")
        print(f"{row['kind']:<16}{''.join(cells)}  {row['verdict']}")
    return EXIT_OK


def _p_value(value: object) -> str:
    """'p = 0.0496' as the pages and verdicts write it; 'p —' where no test was made."""
    from core.forecasting.evaluation import stored_number
    from core.forecasting.history import p_value_text

    number = stored_number(value)
    return "p —" if number is None else p_value_text(number)


def cmd_load_sample(args: argparse.Namespace) -> int:
    with session_scope(action="load-sample") as session:
        written = load_sample(session=session, actor=None)
    args.done = f"loaded {written} rows of the S&P 500 sample (^GSPC)"
    print(args.done)
    return EXIT_OK


def cmd_quality(args: argparse.Namespace) -> int:
    import uuid

    from core.data.quality import ticker_quality

    ticker = args.ticker
    with session_scope(action="quality") as session:
        nobody = Actor(uuid.UUID(int=0), "cli", "viewer", "free")  # nobody's own rows: the shared market data only
        actor = _named_owner(session, args.owner) if args.owner else nobody
        report = ticker_quality(session=session, actor=actor, ticker=ticker, today=datetime.now(UTC))
    if report.rows == 0:
        print(f"error: no prices stored of {ticker}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"{ticker} ({report.exchange}): {report.rows:,} days, {report.first_day} to {report.last_day}")
        for problem in report.problems() or ["no problems found"]:
            print(f"  {problem}")
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

    imports = commands.add_parser(
        "import-csv",
        help="import price files, CSV or Excel workbooks (each all rows or none); notes go to stderr",
    )
    imports.add_argument("file", type=Path, nargs="+", help="one or more; each file's name gives its ticker "
                         "where it has no Ticker column (AAPL.csv), unless --ticker names it")  # fmt: skip
    imports.add_argument("--ticker", type=_ticker, help="the ticker of every row (else the file's Ticker column)")
    imports.add_argument(
        "--date-format",
        help="strptime format of the dates, e.g. %%d/%%m/%%Y (default: recognised; a note says how they were read)",
    )
    imports.add_argument("--sheet", help="the workbook's sheet to read (default: the first)")
    imports.add_argument(
        "--map",
        type=_field_and_column,
        action="append",
        metavar="FIELD=COLUMN",
        help=f"the column holding a field, for a layout not recognised; repeat it, e.g. {MAP_USAGE} "
        f"(fields: {', '.join(MAPPABLE)})",
    )
    imports.add_argument("--skip-bad-rows", action="store_true", help="store the valid rows, report the rest")
    imports.add_argument("--owner", help="username whose private prices these are (default: shared)")
    imports.set_defaults(run=cmd_import_csv)

    train = commands.add_parser("train", help="train a forecaster now, in this process, and register the version")
    train.add_argument("--ticker", type=_ticker, required=True)
    train.add_argument("--csv", type=Path, help="train on this price file instead of the cached prices")
    train.add_argument(
        "--model-type", choices=MODEL_TYPES, help="the forecaster (default: auto, the ensemble); overrides --config"
    )
    train.add_argument("--config", help='settings as JSON, e.g. \'{"model_type": "lstm", "epochs": 5}\'')
    train.add_argument("--owner", help="username the version belongs to (default: the first admin)")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(run=cmd_train)

    forecast = commands.add_parser("predict", help="forecast the next trading days with the active model")
    forecast.add_argument("--ticker", type=_ticker, required=True)
    forecast.add_argument(
        "--days", type=_days, default=1, help=f"trading days ahead, 1 to {MAX_FORECAST_DAYS} (default 1)"
    )
    forecast.add_argument("--owner", help="whose active model and ledger (default: the first admin)")
    forecast.add_argument("--json", action="store_true", help="print one JSON object")
    forecast.set_defaults(run=cmd_predict)

    walk = commands.add_parser("walkforward", help="rolling-origin evaluation of the model on a price file")
    walk.add_argument("--csv", type=Path, required=True)
    walk.add_argument("--ticker", type=_ticker, help="the ticker of the file's rows (else its Ticker column)")
    walk.add_argument(
        "--windows", type=int, default=WALK_FORWARD_WINDOWS, help=f"rolling origins (default {WALK_FORWARD_WINDOWS})"
    )
    walk.add_argument("--step", type=int, help="trading days per window (default: the last 20 %% split evenly)")
    walk.add_argument("--retrain-every", type=int, default=1, help="retrain at every n-th origin (default 1)")
    walk.add_argument("--config", help="training settings as JSON")
    walk.add_argument("--json", action="store_true", help="print one JSON object")
    walk.set_defaults(run=cmd_walkforward)

    quality = commands.add_parser("quality", help="data-quality report of a ticker's cached prices")
    quality.add_argument("ticker", type=_ticker)
    quality.add_argument("--owner", help="username whose own uploads count too (default: shared data only)")
    quality.add_argument("--json", action="store_true", help="print one JSON object")
    quality.set_defaults(run=cmd_quality)

    board = commands.add_parser("leaderboard", help="train every model type on a price file, sorted by validation")
    board.add_argument("--csv", type=Path, required=True)
    board.add_argument("--ticker", type=_ticker, required=True, help="the ticker of the file's rows")
    board.add_argument("--kinds", type=_kinds, help="comma-separated model types (default: all but the GRU)")
    board.add_argument("--json", action="store_true", help="print one JSON object")
    board.set_defaults(run=cmd_leaderboard)

    sample = commands.add_parser("load-sample", help="load the bundled S&P 500 sample (^GSPC 1999-2018)")
    sample.set_defaults(run=cmd_load_sample)
    add_operations_commands(commands)
    return parser


class StdoutError(Exception):
    """Standard output refused a write: its reader has gone (a closed pipe), or the file under it cannot grow."""


class _GuardedStdout:
    """sys.stdout while a command runs: a write it refuses raises StdoutError, which main tells apart from the
    command's own OSErrors (a price file that cannot be read, a database folder that cannot be made)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise StdoutError from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise StdoutError from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_path, settings.log_level, console=False)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE
    given = getattr(args, "file", None)
    for path in [*(given if isinstance(given, list) else [given]), getattr(args, "csv", None)]:
        problem = None if path is None else _file_problem(path)
        if problem:
            print(f"error: {path}: {problem}", file=sys.stderr)
            return EXIT_USAGE
    # What a command has done that a failure to print its result cannot undo; it sets it as it goes.
    args.done = None
    printing_to = sys.stdout
    sys.stdout = _GuardedStdout(printing_to)
    try:
        code = _run(args)
        sys.stdout.flush()  # here, not at exit, where a failure is a traceback with no word of what was done
    except StdoutError as error:
        _stdout_to_devnull(printing_to)
        return _printing_failed(error.__cause__, args.done)
    except KeyboardInterrupt:
        # Every write is a transaction committed whole or not at all: one cut short rolls back as its session
        # closes, and what was committed before (a file, a ticker) was finished.
        print("interrupted: nothing unfinished was saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        sys.stdout = printing_to
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        return args.run(args)
    except OwnerError as error:
        print(f"error: --owner: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Refusal as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except DatabaseFileError as error:
        print(f"error: {error}", file=sys.stderr)  # names the file or folder that cannot be created, and why
        return EXIT_FAILED
    except SQLAlchemyError:
        problem = _database_problem()
        if problem is None:
            raise  # not the set-up's fault but the app's: its traceback is the report
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_FAILED


def _stdout_to_devnull(stream: TextIO) -> None:
    """What stdout still buffers goes nowhere: the interpreter's last flush at exit would fail again, with a
    traceback (the recipe of Python's signal docs for a closed pipe)."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):
        return  # a stream with no descriptor has no flush at exit to fail
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


def _printing_failed(error: BaseException | None, done: str | None) -> int:
    if isinstance(error, BrokenPipeError):
        return EXIT_FAILED  # the reader took what it wanted and went, as `| head` does: nothing to report
    said = f"{done}; " if done else ""
    reason = getattr(error, "strerror", None) or error
    print(f"error: {said}printing the result failed: {reason}", file=sys.stderr)
    return EXIT_FAILED


def _database_problem() -> str | None:
    """What is wrong with the database in words an operator can act on (no schema yet: how to set it up)."""
    from core.status import database_status

    return database_status().problem


if __name__ == "__main__":
    sys.exit(main())
