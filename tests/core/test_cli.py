"""python -m core: import-csv and load-sample against a real database; fetch refuses bad symbols offline."""

import datetime
import errno
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from common.config import PROJECT_ROOT
from core.__main__ import main as cli_main
from core.data.table import MAX_BYTES
from db.migrate import upgrade_to_head
from db.models import HistoricalPrice
from db.models.accounts import Role
from tests.accounts import make_account
from tests.fixtures import GSPC_2018, never_moving_bytes
from tests.process_state import reset_process_state


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = URL.create("sqlite", database=str(tmp_path / "cli.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def main(argv):
    reset_process_state()
    try:
        return cli_main(argv)
    except SystemExit as usage_error:  # argparse refuses a malformed argument by exiting
        return usage_error.code


def rows(url) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(HistoricalPrice))
    engine.dispose()
    return found


def test_import_csv_accepts_a_clean_file(database, capsys):
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    assert "Wrote 251 rows of SPX" in capsys.readouterr().out
    assert rows(database) == 251


def test_import_csv_rejects_with_the_report_on_stderr(database, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(GSPC_2018.read_bytes().replace(b"2018-12-31", b"31.12.2018"))
    assert main(["import-csv", str(bad), "--ticker", "SPX"]) == 1
    err = capsys.readouterr().err
    assert "Rejected, nothing written: 1 of 251 rows invalid (unparseable date: 1)" in err
    assert "line 252: unparseable date" in err
    assert rows(database) == 0
    assert main(["import-csv", str(bad), "--ticker", "SPX", "--skip-bad-rows"]) == 0
    assert rows(database) == 250


def test_import_csv_names_a_missing_file_and_an_unknown_owner(database, tmp_path, capsys):
    assert main(["import-csv", str(tmp_path / "nope.csv"), "--ticker", "SPX"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX", "--owner", "ghost"]) == 2
    assert "--owner: no user 'ghost'" in capsys.readouterr().err


def test_quality_prints_one_json_object(database, capsys):
    import json

    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    capsys.readouterr()
    assert main(["quality", "spx", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ticker"], report["rows"], report["first_day"], report["missing_days"]) == (
        "SPX",
        251,
        "2018-01-02",
        [],
    )
    assert report["stale"] is True


def test_load_sample(database, capsys):
    assert main(["load-sample"]) == 0
    assert rows(database) == 5031


def test_fetch_refuses_bad_symbols_before_any_request(database, capsys):
    assert main(["fetch", "MSFT", "not a ticker$"]) == 2
    assert "'ticker$' is not a ticker symbol" in capsys.readouterr().err


@pytest.mark.parametrize(
    "dates",
    [
        ["--start", "2024-01-10", "--end", "2024-01-01"],
        ["--start", (datetime.date.today() + datetime.timedelta(days=1)).isoformat()],  # after the default end
    ],
)
def test_fetch_refuses_a_range_whose_first_day_comes_after_its_last(database, capsys, dates):
    assert main(["fetch", "MSFT", *dates]) == 2
    printed = capsys.readouterr()
    assert printed.err == "error: --start: the first day comes after the last\n"
    assert printed.out == "", "nothing fetched, nothing said to be up to date"


def test_train_from_a_csv_prints_one_json_object(database, capsys):
    import json

    make_account(database, username="root", role=Role.ADMIN)
    config = '{"lstm_units": [4], "epochs": 1, "window": 10}'
    command = ["train", "--csv", str(GSPC_2018), "--ticker", "spx", "--model-type", "lstm", "--config", config]
    assert main([*command, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model_type"] == "lstm"
    assert {"version", "train_seconds", "epochs", "mae", "naive_mae", "mase", "direction_accuracy"} <= set(summary)
    assert (summary["ticker"], summary["version"], summary["owner"], summary["epochs"]) == ("SPX", 1, "root", 1)
    assert summary["mase"] == pytest.approx(summary["mae"] / summary["naive_mae"])


def test_train_fits_the_auto_ensemble_by_default(database, capsys):
    import json

    make_account(database, username="root", role=Role.ADMIN)
    assert main(["train", "--csv", str(GSPC_2018), "--ticker", "spx", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["model_type"], summary["epochs"]) == ("auto", 0)


def test_train_text_gives_mase_to_the_fourth_decimal_as_the_pages_do(database, capsys):
    make_account(database, username="root", role=Role.ADMIN)
    assert main(["train", "--csv", str(GSPC_2018), "--ticker", "spx", "--config", '{"model_type": "drift"}']) == 0
    assert re.search(r"\(MASE \d\.\d{4}\)\n$", capsys.readouterr().out), "an edge of 0.0012 must not round away"


def test_train_text_of_a_price_that_never_moves_shows_no_mase(database, capsys, tmp_path):
    make_account(database, username="root", role=Role.ADMIN)
    pegged = tmp_path / "peg.csv"
    pegged.write_bytes(never_moving_bytes())
    assert main(["train", "--csv", str(pegged), "--ticker", "PEG", "--model-type", "ridge"]) == 0
    assert capsys.readouterr().out.endswith("PEG v1 (ridge): the same forecast as tomorrow = today (MASE —)\n")


def test_train_names_a_bad_config(database, capsys):
    assert main(["train", "--ticker", "SPX", "--config", '{"window": 1}']) == 2
    assert "--config: window: Input should be greater than or equal to 2" in capsys.readouterr().err


def test_predict_after_train(database, capsys):
    import json

    make_account(database, username="root", role=Role.ADMIN)
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    assert main(["predict", "--ticker", "SPX", "--days", "2"]) == 1
    assert "no active model for SPX" in capsys.readouterr().err
    assert main(["train", "--ticker", "SPX", "--config", '{"lstm_units": [4], "epochs": 1, "window": 10}']) == 0
    capsys.readouterr()
    assert main(["predict", "--ticker", "SPX", "--days", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["prediction_date"] == "2018-12-31"
    assert [day["target_date"] for day in summary["days"]] == ["2019-01-02", "2019-01-03"]
    assert summary["model"] == "SPX v1 · auto ensemble", "the version that made them, and its verdict"
    verdicts = ("beats persistence", "no better than", "worse than", "not enough", "the same forecast as")
    assert summary["verdict"].startswith(verdicts)


def _no_constants(name: str) -> float:
    raise AssertionError(f"{name} is not JSON")


def test_predict_json_of_an_unbounded_interval_is_strict_json_with_a_null_bound(database, capsys):
    import json

    make_account(database, username="root", role=Role.ADMIN)
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    # A year of prices leaves too few validation residuals for a 99 % interval: its upper bound is infinite.
    assert main(["train", "--ticker", "SPX", "--config", '{"model_type": "drift", "interval_level": 0.99}']) == 0
    capsys.readouterr()
    assert main(["predict", "--ticker", "SPX", "--days", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out, parse_constant=_no_constants)
    assert [day["upper"] for day in summary["days"]] == [None, None]
    assert all(day["predicted"] > day["lower"] for day in summary["days"])


def test_walkforward_prints_the_headline_numbers(database, capsys, tmp_path):
    import json

    from core.data.sample import SAMPLE_PATH

    config = '{"lstm_units": [4], "epochs": 1}'
    code = main(
        [
            "walkforward",
            "--csv",
            str(SAMPLE_PATH),
            "--ticker",
            "SPX",
            "--windows",
            "2",
            "--step",
            "10",
            "--config",
            config,
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert {"windows", "mae", "naive_mae", "mase", "direction_accuracy", "dm_pvalue", "coverage"} <= set(summary)
    assert (summary["windows"], summary["days"]) == (2, 20)


def test_walkforward_text_of_a_forecast_identical_to_persistence_has_no_p_value(database, capsys):
    from core.data.sample import SAMPLE_PATH

    args = ["walkforward", "--csv", str(SAMPLE_PATH), "--ticker", "SPX", "--windows", "2", "--step", "10"]
    assert main([*args, "--config", '{"model_type": "persistence"}']) == 0
    printed = capsys.readouterr().out
    assert re.fullmatch(
        r"2 windows, 20 days: MASE 1\.0000, Diebold-Mariano p —, coverage [01]\.\d{3}: "
        r"the same forecast as tomorrow = today\n",
        printed,
    ), printed


def _with_ticker_column(path, source, *tickers):
    """The price file with a Ticker column, its days dealt out to the tickers in turn."""
    header, *days = source.read_text().splitlines()
    dealt = [f"{day},{tickers[n % len(tickers)]}" for n, day in enumerate(days)]
    path.write_text("\n".join([f"{header},Ticker", *dealt]) + "\n")
    return path


def test_walkforward_without_a_ticker_takes_the_file_s_ticker_column(database, capsys, tmp_path):
    import json

    from core.data.sample import SAMPLE_PATH

    named = _with_ticker_column(tmp_path / "named.csv", SAMPLE_PATH, "msft")
    args = ["walkforward", "--csv", str(named), "--windows", "2", "--step", "10", "--config", '{"model_type": "drift"}']
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ticker"] == "MSFT"
    assert main([*args, "--ticker", "SPX", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ticker"] == "SPX", "--ticker names the rows over the column"


def test_walkforward_refuses_a_file_of_several_tickers(database, capsys, tmp_path):
    from core.data.sample import SAMPLE_PATH

    mixed = _with_ticker_column(tmp_path / "mixed.csv", SAMPLE_PATH, "MSFT", "AAPL")
    assert main(["walkforward", "--csv", str(mixed), "--windows", "2", "--step", "10"]) == 1
    expected = "error: mixed.csv: its Ticker column names 2 tickers (AAPL, MSFT): pass one ticker's rows\n"
    assert capsys.readouterr().err == expected


def test_walkforward_names_bad_settings(database, capsys):
    assert main(["walkforward", "--csv", str(GSPC_2018), "--ticker", "SPX", "--windows", "0"]) == 2
    assert "windows: 1 to 50, got 0" in capsys.readouterr().err


def test_walkforward_names_a_file_that_is_not_prices(database, capsys, tmp_path):
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert main(["walkforward", "--csv", str(binary), "--ticker", "SPX"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_walkforward_names_a_missing_file(database, capsys, tmp_path):
    assert main(["walkforward", "--csv", str(tmp_path / "nope.csv"), "--ticker", "SPX"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_leaderboard_prints_models_sorted_by_validation(database, capsys):
    import json

    args = ["leaderboard", "--csv", str(GSPC_2018), "--ticker", "^gspc", "--kinds", "persistence,drift,ridge", "--json"]
    assert main(args) == 0
    board = json.loads(capsys.readouterr().out)
    assert board["ticker"] == "^GSPC"
    assert {row["kind"] for row in board["models"]} == {"persistence", "drift", "ridge"}
    validation = [row["validation_mase"] for row in board["models"]]
    assert validation == sorted(validation)
    assert all(row["verdict"] for row in board["models"])


def test_the_leaderboard_table_shows_a_dash_where_a_model_has_no_figure(database, capsys):
    assert main(["leaderboard", "--csv", str(GSPC_2018), "--ticker", "^GSPC", "--kinds", "persistence,drift"]) == 0
    lines = capsys.readouterr().out.splitlines()
    persistence = next(line for line in lines if line.startswith("persistence"))
    assert "nan" not in persistence
    assert persistence.split()[3:5] == ["—", "—"], "no p-value and no direction for tomorrow = today"
    drift = next(line for line in lines if line.startswith("drift"))
    assert drift.split()[4].endswith("%")


def test_leaderboard_names_an_unknown_model_type(database, capsys):
    assert main(["leaderboard", "--csv", str(GSPC_2018), "--ticker", "SPX", "--kinds", "oracle"]) == 2
    assert "unknown model type 'oracle'" in capsys.readouterr().err


def test_train_reads_cached_prices_by_the_ticker_as_stored_in_any_case(database, capsys):
    import json

    make_account(database, username="root", role=Role.ADMIN)
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    capsys.readouterr()
    assert main(["train", "--ticker", " spx ", "--model-type", "median", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ticker"] == "SPX"
    assert main(["train", "--ticker", "not a ticker", "--model-type", "median"]) == 2
    assert "'not a ticker' is not a ticker symbol" in capsys.readouterr().err


@pytest.fixture
def not_a_price_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a,price\n1,2,3\n")
    return bad


@pytest.fixture
def photo(tmp_path):
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return binary


def test_train_names_a_file_that_is_not_prices(database, capsys, not_a_price_file, photo):
    make_account(database, username="root", role=Role.ADMIN)
    assert main(["train", "--ticker", "SPX", "--csv", str(not_a_price_file)]) == 1
    assert capsys.readouterr().err.startswith("error: bad.csv: line 1: layout not recognised, missing columns date")
    assert main(["train", "--ticker", "SPX", "--csv", str(photo)]) == 1
    assert capsys.readouterr().err == (
        "error: photo.csv: this is a PNG image, not a text file: save it as CSV and upload that\n"
    )


def test_leaderboard_names_a_file_that_is_not_prices(database, capsys, not_a_price_file):
    assert main(["leaderboard", "--ticker", "SPX", "--csv", str(not_a_price_file)]) == 1
    assert capsys.readouterr().err.startswith("error: bad.csv: line 1: layout not recognised, missing columns date")


@pytest.mark.parametrize("command", ["train", "predict", "leaderboard", "walkforward", "import-csv", "quality"])
def test_a_malformed_ticker_is_a_usage_error_naming_it(database, capsys, command):
    ticker = ["bad ticker!"] if command == "quality" else ["--ticker", "bad ticker!"]
    files = {"leaderboard": ["--csv", str(GSPC_2018)], "walkforward": ["--csv", str(GSPC_2018)]}
    argv = [command, *([str(GSPC_2018)] if command == "import-csv" else []), *files.get(command, []), *ticker]
    assert main(argv) == 2
    assert "'bad ticker!' is not a ticker symbol" in capsys.readouterr().err
    assert rows(database) == 0


def test_predict_takes_the_ticker_as_stored(database, capsys):
    make_account(database, username="root", role=Role.ADMIN)
    assert main(["predict", "--ticker", " ^gspc"]) == 1
    assert capsys.readouterr().err == "error: no active model for ^GSPC: train one on the Train page first\n"
    assert main(["predict", "--ticker", ""]) == 2
    assert "argument --ticker: '' is not a ticker symbol" in capsys.readouterr().err


@pytest.mark.parametrize(("days", "problem"), [("0", "1 to 30, got 0"), ("31", "1 to 30, got 31"), ("x", "'x'")])
def test_predict_days_out_of_range_is_a_usage_error(database, capsys, days, problem):
    make_account(database, username="root", role=Role.ADMIN)
    assert main(["predict", "--ticker", "SPX", "--days", days]) == 2
    err = capsys.readouterr().err
    assert "argument --days: " in err
    assert problem in err


def test_a_viewer_may_neither_train_nor_predict(database, capsys):
    from db.models import ModelVersion

    make_account(database, username="vera", role=Role.VIEWER)
    command = ["train", "--ticker", "SPX", "--csv", str(GSPC_2018), "--model-type", "drift", "--owner", "vera"]
    assert main(command) == 1
    assert capsys.readouterr().err == "error: the viewer role cannot train\n"
    engine = create_engine(database, poolclass=NullPool)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ModelVersion)) == 0
    engine.dispose()
    assert main(["predict", "--ticker", "SPX", "--owner", "vera"]) == 1
    assert capsys.readouterr().err == "error: the viewer role cannot predict\n"


@pytest.mark.redis
def test_predict_past_the_quota_says_when_to_retry(database, capsys, monkeypatch, redis_url):
    make_account(database, username="root", role=Role.ADMIN)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ACTION_LIMITS", '{"free": {"predict": "1/hour"}}')
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    assert main(["predict", "--ticker", "SPX"]) == 1, "no model yet: refused, and none of the hour's predictions used"
    assert main(["train", "--ticker", "SPX", "--config", '{"model_type": "drift"}']) == 0
    assert main(["predict", "--ticker", "SPX"]) == 0
    capsys.readouterr()
    assert main(["predict", "--ticker", "SPX"]) == 1
    assert re.fullmatch(
        r"error: Limit reached for predict \(1/hour on the free tier\): try again in \d+ s\n", capsys.readouterr().err
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "--ticker", "SPX"],
        ["train", "--ticker", "SPX", "--csv", str(GSPC_2018)],
        ["import-csv", str(GSPC_2018), "--ticker", "SPX"],
        ["quality", "SPX"],
        ["load-sample"],
    ],
)
def test_a_database_not_set_up_says_how_to_set_it_up(tmp_path, monkeypatch, capsys, argv):
    url = URL.create("sqlite", database=str(tmp_path / "empty.db"))
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(argv) == 1
    assert capsys.readouterr().err == "error: database has no schema yet: run `python -m db setup`\n"


def deactivate(url, username: str) -> None:
    from db.models import User

    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(User.__table__.update().where(User.username == username).values(is_active=False))
    engine.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["import-csv", str(GSPC_2018), "--ticker", "SPX"],
        ["train", "--ticker", "SPX", "--csv", str(GSPC_2018), "--model-type", "drift"],
        ["predict", "--ticker", "SPX"],
        ["quality", "SPX"],
    ],
    ids=["import-csv", "train", "predict", "quality"],
)
def test_a_deactivated_user_cannot_be_the_owner(database, capsys, command):
    """A deactivated account can't sign in; the command line must not act for it either."""
    make_account(database, username="root", role=Role.ADMIN)
    make_account(database, username="gone", role=Role.ANALYST)
    deactivate(database, "gone")
    assert main([*command, "--owner", "gone"]) == 2
    assert capsys.readouterr().err == "error: --owner: 'gone' is deactivated\n"
    assert rows(database) == 0


def _semicolon_file(path, days: int = 5):
    """The fixture's first days as a European export writes them: ';' between fields, decimal commas, day first."""
    import pandas as pd

    frame = pd.read_csv(GSPC_2018, parse_dates=["Date"]).head(days)
    lines = ["Date;Open;High;Low;Close;Volume"] + [
        f"{row.Date:%d/%m/%Y};{row.Open:.2f};{row.High:.2f};{row.Low:.2f};{row.Close:.2f};{row.Volume}".replace(
            ".", ","
        )
        for row in frame.itertuples()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_import_csv_says_how_it_read_the_file_on_stderr(database, tmp_path, capsys):
    data = _semicolon_file(tmp_path / "spx_eu.csv")
    assert main(["import-csv", str(data), "--ticker", "SPX"]) == 0
    printed = capsys.readouterr()
    assert "Wrote 5 rows of SPX from 2018-01-02 to 2018-01-08" in printed.out
    assert "layout: Date, Open, High, Low, Close columns (Yahoo, Stooq daily and the like)" in printed.err
    assert "every date here also reads as %m/%d/%Y: state that format if it is the one" in printed.err
    assert "note: no adjusted close column: the close is used" in printed.err


def test_import_csv_help_says_dates_are_recognised():
    import io
    from contextlib import redirect_stdout

    from core.__main__ import build_parser

    shown = io.StringIO()
    with redirect_stdout(shown), pytest.raises(SystemExit):
        build_parser().parse_args(["import-csv", "--help"])
    text = " ".join(shown.getvalue().split())
    assert "default ISO" not in text
    assert "--sheet" in text
    assert "--map FIELD=COLUMN" in text


def _workbook(path, *sheets):
    import openpyxl
    import pandas as pd

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, frame in sheets:
        sheet = book.create_sheet(title)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for value in row])
    book.save(path)
    return path


def test_import_csv_reads_a_named_sheet_and_names_the_others_when_the_first_is_no_prices(database, tmp_path, capsys):
    import pandas as pd

    prices = pd.read_csv(GSPC_2018, parse_dates=["Date"]).head(10)
    book = _workbook(tmp_path / "spx.xlsx", ("Notes", pd.DataFrame({"Read me": ["see Prices"]})), ("Prices", prices))
    assert main(["import-csv", str(book), "--ticker", "SPX"]) == 1
    err = capsys.readouterr().err
    assert "the workbook also has a sheet 'Prices': choose the sheet to read" in err
    assert "--sheet NAME" in err
    assert rows(database) == 0
    assert main(["import-csv", str(book), "--ticker", "SPX", "--sheet", "prices"]) == 0
    assert rows(database) == 10


def test_import_csv_maps_the_columns_of_an_unknown_layout(database, tmp_path, capsys):
    import pandas as pd

    frame = pd.read_csv(GSPC_2018).head(3)
    data = tmp_path / "odd.csv"
    data.write_text(
        "Day,Last price,Turnover\n" + "".join(f"{r.Date},{r.Close},{r.Volume}\n" for r in frame.itertuples())
    )
    assert main(["import-csv", str(data), "--ticker", "SPX"]) == 1
    err = capsys.readouterr().err
    assert "layout not recognised" in err
    assert "--map date=COLUMN --map close=COLUMN" in err, "the way to map columns here, not a page's form"
    args = ["import-csv", str(data), "--ticker", "SPX", "--map", "date=Day", "--map", "close=Last price"]
    assert main([*args, "--map", "volume=Turnover"]) == 0
    assert rows(database) == 3
    assert main([*args, "--map", "close"]) == 2
    assert "--map: 'close' is not FIELD=COLUMN" in capsys.readouterr().err


def test_walkforward_and_leaderboard_print_the_p_value_as_the_pages_do(database, capsys):
    import json

    from core.data.sample import SAMPLE_PATH
    from core.forecasting.history import p_value_text

    args = ["walkforward", "--csv", str(SAMPLE_PATH), "--ticker", "SPX", "--windows", "4", "--step", "10"]
    args += ["--config", '{"model_type": "drift"}']
    assert main([*args, "--json"]) == 0
    p_value = json.loads(capsys.readouterr().out)["dm_pvalue"]
    assert p_value is not None
    assert main(args) == 0
    assert f"Diebold-Mariano {p_value_text(p_value)}, coverage" in capsys.readouterr().out
    board = ["leaderboard", "--csv", str(GSPC_2018), "--ticker", "SPX", "--kinds", "persistence,drift"]
    assert main([*board, "--json"]) == 0
    drift = next(row for row in json.loads(capsys.readouterr().out)["models"] if row["kind"] == "drift")
    assert main(board) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("drift"))
    assert p_value_text(drift["dm_pvalue"]).removeprefix("p = ") in line


@pytest.mark.parametrize("kinds", ["bogus", "naive,bogus", "naive,,arima", ""])
def test_leaderboard_names_an_unknown_model_type_as_a_malformed_argument(database, capsys, kinds):
    assert main(["leaderboard", "--csv", str(GSPC_2018), "--ticker", "SPX", "--kinds", kinds]) == 2
    assert "--kinds" in capsys.readouterr().err


def test_import_csv_takes_many_files_each_all_or_nothing_named_by_its_file(database, tmp_path, capsys):
    # One process a file cost 2.4 s of start-up each: 500 files took 20 minutes instead of 2.
    spx, ndx, bad = tmp_path / "SPX.csv", tmp_path / "NDX.csv", tmp_path / "BAD.csv"
    spx.write_bytes(GSPC_2018.read_bytes())
    ndx.write_bytes(GSPC_2018.read_bytes())
    bad.write_bytes(GSPC_2018.read_bytes().replace(b"2018-12-31", b"31.12.2018"))
    assert main(["import-csv", str(spx), str(bad), str(ndx)]) == 1, "a file refused fails the run"
    out, err = capsys.readouterr()
    assert [line.split(" from ")[0] for line in out.splitlines()] == [
        "SPX.csv: Wrote 251 rows of SPX",
        "NDX.csv: Wrote 251 rows of NDX",
    ]
    assert "BAD.csv: Rejected, nothing written: 1 of 251 rows invalid (unparseable date: 1)" in err
    assert rows(database) == 502, "the refused file wrote nothing, the others everything"

    assert main(["import-csv", str(spx), str(ndx), "--ticker", "SPX"]) == 2
    assert "--ticker names the ticker of one file's rows" in capsys.readouterr().err
    assert main(["import-csv", str(spx), str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv: no such file" in capsys.readouterr().err
    assert rows(database) == 502, "a missing file is found before any file is read"


# What the README promises of every command: one `error:` line on stderr, exit 2 for usage and 1 for a refusal or a
# failure, never a traceback, nothing half-written.


@pytest.mark.parametrize(
    "argv",
    [
        ["quality", "^GSPC"],
        ["load-sample"],
        ["train", "--ticker", "SPX", "--csv", str(GSPC_2018)],
        ["predict", "--ticker", "SPX"],
        ["import-csv", str(GSPC_2018), "--ticker", "SPX"],
        ["create-admin", "--username", "root", "--email", "root@example.com", "--password-stdin"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_database_folder_that_cannot_be_created_is_one_line(tmp_path, monkeypatch, capsys, argv):
    # A regular file where the folder should be refuses everyone, root too (a 0555 folder would not).
    in_the_way = tmp_path / "var"
    in_the_way.write_text("not a folder")
    url = URL.create("sqlite", database=str(in_the_way / "data" / "candlecast.db"))
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-pässword\n"))
    assert main(argv) == 1
    assert capsys.readouterr().err == f"error: cannot create {in_the_way / 'data'}: Not a directory\n"


def sparse_file(path, size: int):
    """A file of this size that takes no disk: its bytes are a hole until written."""
    with path.open("wb") as file:
        file.truncate(size)
    return path


def upload_refusal(size: int) -> str:
    """What the upload path says of a file of this size, from the bytes themselves."""
    from core.data.errors import FileFormatError
    from core.data.table import MAX_ROWS, check_bounds

    with pytest.raises(FileFormatError) as refused:
        check_bounds(b"\n" * size, max_bytes=MAX_BYTES, max_rows=MAX_ROWS)
    return str(refused.value)


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--ticker", "SPX", "--model-type", "drift", "--csv"],
        ["walkforward", "--ticker", "SPX", "--csv"],
        ["leaderboard", "--ticker", "SPX", "--csv"],
    ],
    ids=lambda command: command[0],
)
def test_a_price_file_over_the_limit_is_refused_by_its_size_before_it_is_read(database, capsys, tmp_path, command):
    # Read whole before the limit was checked: a 200 GB file was a MemoryError's traceback.
    make_account(database, username="root", role=Role.ADMIN)
    huge = sparse_file(tmp_path / "huge.csv", 200 * 1024**3)
    assert main([*command, str(huge)]) == 1
    assert capsys.readouterr().err == (
        "error: huge.csv: the file is 204,800 MB, larger than the 60 MB an upload may be: split it into several files\n"
    )
    just_over = sparse_file(tmp_path / "over.csv", MAX_BYTES + 1)
    assert main([*command, str(just_over)]) == 1
    assert capsys.readouterr().err == f"error: over.csv: {upload_refusal(MAX_BYTES + 1)}\n", "the upload's own words"


def test_import_csv_refuses_a_file_over_the_limit_and_imports_the_others(database, capsys, tmp_path):
    huge = sparse_file(tmp_path / "HUGE.csv", 200 * 1024**3)
    spx = tmp_path / "SPX.csv"
    spx.write_bytes(GSPC_2018.read_bytes())
    assert main(["import-csv", str(huge), "--ticker", "HUGE"]) == 1
    assert capsys.readouterr().err == (
        "Rejected, nothing written: the file is 204,800 MB, larger than the 60 MB an upload may be: "
        "split it into several files\n"
    )
    assert main(["import-csv", str(huge), str(spx)]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("SPX.csv: Wrote 251 rows of SPX")
    assert err.startswith("HUGE.csv: Rejected, nothing written: the file is 204,800 MB")
    assert rows(database) == 251


UNREADABLE = Path("/proc/self/mem")  # a regular file whose reading fails: offset 0 of no process's memory is mapped


@pytest.mark.skipif(not UNREADABLE.exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    "command",
    [
        ["import-csv", "--ticker", "MEM"],
        ["train", "--ticker", "SPX", "--model-type", "drift", "--csv"],
        ["walkforward", "--ticker", "SPX", "--csv"],
        ["leaderboard", "--ticker", "SPX", "--csv"],
    ],
    ids=lambda command: command[0],
)
def test_a_file_that_cannot_be_read_is_one_line_naming_it(database, capsys, command):
    make_account(database, username="root", role=Role.ADMIN)
    assert main([*command, str(UNREADABLE)]) == 1
    assert capsys.readouterr().err == f"error: {UNREADABLE}: Input/output error\n"
    assert rows(database) == 0


@pytest.mark.parametrize(
    "command",
    [["import-csv", "--ticker", "SPX"], ["train", "--ticker", "SPX", "--csv"], ["walkforward", "--csv"]],
    ids=lambda command: command[0],
)
def test_a_folder_given_as_the_file_is_said_to_be_a_folder(database, capsys, tmp_path, command):
    assert main([*command, str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: is a directory\n"


def test_ctrl_c_while_importing_saves_nothing_and_says_so(database, capsys, monkeypatch):
    import core.data.service

    def interrupted(**_):
        raise KeyboardInterrupt

    # The rows are written by now; their transaction has not committed.
    monkeypatch.setattr(core.data.service, "refresh_indicators_of", interrupted)
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 130
    printed = capsys.readouterr()
    assert (printed.out, printed.err) == ("", "interrupted: nothing unfinished was saved\n")
    assert rows(database) == 0


def model_versions(url) -> int:
    from db.models import ModelVersion

    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(ModelVersion))
    engine.dispose()
    return found


def test_ctrl_c_while_saving_a_trained_version_saves_none(database, capsys, monkeypatch):
    import core.forecasting.registry

    def interrupted(**_):
        raise KeyboardInterrupt

    make_account(database, username="root", role=Role.ADMIN)
    # The version's row is added by now, not committed.
    monkeypatch.setattr(core.forecasting.registry, "activate_if_none_is", interrupted)
    assert main(["train", "--ticker", "SPX", "--csv", str(GSPC_2018), "--model-type", "drift"]) == 130
    assert capsys.readouterr().err == "interrupted: nothing unfinished was saved\n"
    assert model_versions(database) == 0


class RefusingStdout(io.StringIO):
    """Standard output whose every write fails as the given error says."""

    def __init__(self, error: OSError):
        super().__init__()
        self.error = error

    def write(self, text):
        raise self.error


NO_SPACE = OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_under_stdout_is_one_line(database, capsys, monkeypatch):
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", RefusingStdout(NO_SPACE))
    assert main(["quality", "SPX"]) == 1
    assert capsys.readouterr().err == "error: printing the result failed: No space left on device\n"


def test_a_trained_version_whose_summary_cannot_be_printed_is_said_to_be_saved(database, capsys, monkeypatch):
    # It saved v7, then a traceback: the operator could not tell whether the training counted.
    make_account(database, username="root", role=Role.ADMIN)
    monkeypatch.setattr(sys, "stdout", RefusingStdout(NO_SPACE))
    assert main(["train", "--ticker", "spx", "--csv", str(GSPC_2018), "--model-type", "drift", "--json"]) == 1
    assert capsys.readouterr().err == "error: v1 of SPX saved; printing the result failed: No space left on device\n"
    assert model_versions(database) == 1


def test_a_reader_gone_before_the_end_is_no_error_to_report(database, capsys, monkeypatch):
    # `python -m core quality SPX | head -1`: the reader took what it wanted.
    assert main(["import-csv", str(GSPC_2018), "--ticker", "SPX"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", RefusingStdout(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    assert main(["quality", "SPX"]) == 1
    assert capsys.readouterr().err == ""
    assert main(["quality", "NOPE"]) == 1
    assert capsys.readouterr().err == "error: no prices stored of NOPE\n", "a failure is said all the same"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_process_whose_stdout_fails_ends_in_one_line_and_no_traceback(database):
    with Path("/dev/full").open("w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "core", "check"], cwd=PROJECT_ROOT, stdout=full, stderr=subprocess.PIPE, text=True,
            timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "error: printing the result failed: No space left on device\n"


def test_a_process_whose_reader_has_gone_ends_quietly(database):
    # The docs' recipe: stdout goes to /dev/null, so the interpreter's last flush cannot fail again at exit.
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "check"], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    process.stdout.close()  # the reader is gone before the first byte
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err.decode()) == (1, "")


def fake_yahoo(frames: dict):
    """yfinance's HTTP call, answering the tickers it knows with their frames and the rest as Yahoo does."""
    from yfinance.exceptions import YFTzMissingError

    def history(ticker, **_):
        if ticker not in frames:
            raise YFTzMissingError(ticker)
        return frames[ticker]

    return history


def test_fetch_says_a_failed_ticker_on_stderr_and_how_many_failed(database, capsys, monkeypatch):
    import core.data.yahoo
    from tests.fixtures import gspc_2018_frame

    monkeypatch.setattr(core.data.yahoo, "yfinance_history", fake_yahoo({"^GSPC": gspc_2018_frame()}))
    assert main(["fetch", "^GSPC", "ZZZZNOTREAL", "--start", "2018-01-01", "--end", "2018-12-31"]) == 1
    out, err = capsys.readouterr()
    assert out == "[1/2] ^GSPC: ok 251\n", "a success stays on stdout"
    (failed, summary) = err.splitlines()
    assert failed.startswith("[2/2] ZZZZNOTREAL: error ")
    assert summary == "error: 1 of 2 tickers failed"


def test_quality_of_a_ticker_without_prices_is_an_error_on_stderr(database, capsys):
    for argv in (["quality", "NOPE"], ["quality", "NOPE", "--json"]):
        assert main(argv) == 1
        assert capsys.readouterr() == ("", "error: no prices stored of NOPE\n")


def test_walkforward_of_a_file_naming_no_ticker_is_a_usage_error_naming_the_option(database, capsys):
    assert main(["walkforward", "--csv", str(GSPC_2018), "--windows", "2", "--step", "10"]) == 2
    err = capsys.readouterr().err
    assert err == "error: gspc_2018.csv has no Ticker column: name the ticker of its rows with --ticker\n"
    assert "type one" not in err, "the web form's words"
