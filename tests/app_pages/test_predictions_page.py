"""The Predictions page through AppTest: predict, see the ledger and its scoreboard, viewers read only."""

import json

import pytest
from sqlalchemy.engine import URL

from core.data.frames import normalise_provider_frame
from core.forecasting.config import TrainingConfig
from core.forecasting.registry import save_version
from core.forecasting.training import train_model
from db.engine import session_scope
from db.migrate import upgrade_to_head
from db.models.accounts import Role
from db.repositories.prices import upsert_prices
from tests.accounts import logged_in_app, make_account
from tests.core.forecasting.tiny import fixture_prices, tiny_result
from tests.fixtures import gspc_2018_frame

PAGE = "app_pages/predictions.py"


@pytest.fixture
def database(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "predictions.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        upsert_prices(
            session=session,
            frame=normalise_provider_frame(gspc_2018_frame()).frame,
            ticker="SPX",
            owner_id=None,
            source="yahoo",
        )
    return url


def with_model(url, role=Role.ANALYST):
    actor = make_account(url, role=role)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    return actor


def test_predict_five_days_into_the_ledger(database):
    at = logged_in_app(PAGE, with_model(database)).run()
    assert not at.exception
    assert at.caption[-1].value.startswith("The ledger is empty")
    next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Stored 5 predictions of SPX in the ledger, for 2019-01-02 to 2019-01-08."]
    assert "This forecast uses prices of SPX up to 2018-12-31" in at.warning[0].value
    made = at.dataframe[0].value
    assert "Confidence" not in made.columns
    assert [str(day)[:10] for day in made["Target day"]] == [
        "2019-01-02",
        "2019-01-03",
        "2019-01-04",
        "2019-01-07",
        "2019-01-08",
    ]
    at.run()
    ledger = at.dataframe[-1].value
    assert len(ledger) == 5
    assert set(ledger["Model"]) == {"SPX v1 · LSTM (Keras)"}, "named as the model chooser names it"
    assert "Model type" not in ledger.columns, "said once, in the model's name"
    assert "Model version id" not in ledger.columns, "an id is for joining downloads, not for reading"
    assert "Actual" in ledger.columns
    assert len(at.get("plotly_chart")) == 1
    assert any(b.label == "Download the ledger (CSV)" for b in at.get("download_button"))


def test_the_model_choice_names_each_version_s_type_and_which_is_active(database):
    actor = with_model(database)
    with session_scope() as session:
        median = train_model(fixture_prices(), TrainingConfig(model_type="median"), ticker="SPX")
        save_version(session=session, actor=actor, ticker="SPX", result=median)
    at = logged_in_app(PAGE, actor).run()
    options = next(s for s in at.selectbox if s.label == "Model").options
    assert options == ["active: SPX v1 · lstm", "SPX v2 · median drift", "SPX v1 · LSTM (Keras)"]


def test_a_forecast_is_shown_with_its_model_s_verdict_against_persistence(database):
    from core.forecasting.evaluation import stored_verdict

    actor = with_model(database)
    with session_scope() as session:
        median = train_model(fixture_prices(), TrainingConfig(model_type="median"), ticker="SPX")
        save_version(session=session, actor=actor, ticker="SPX", result=median)
        lstm_verdict = stored_verdict(tiny_result().metrics)
    at = logged_in_app(PAGE, actor).run()
    next(b for b in at.button if b.label == "Predict").click().run()
    assert f"Made by SPX v1 · LSTM (Keras), on its test days: {lstm_verdict}." in [t.value for t in at.text]
    next(s for s in at.selectbox if s.label == "Model").set_value("SPX v2 · median drift")  # sent with Predict
    next(n for n in at.number_input if n.label == "Trading days ahead").set_value(1)
    next(b for b in at.button if b.label == "Predict").click().run()
    assert [s.value for s in at.success] == ["Stored 1 prediction of SPX in the ledger, for 2019-01-02."]
    made_by = [t.value for t in at.text if t.value.startswith("Made by")]
    assert made_by == [f"Made by SPX v2 · median drift, on its test days: {stored_verdict(median.metrics)}."]


def test_without_models_the_page_says_where_to_start(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    assert at.info[0].value == "No models yet: train one on the Train page, then predict here."


def test_viewers_read_the_ledger_only(database):
    at = logged_in_app(PAGE, with_model(database, role=Role.VIEWER)).run()
    assert "Viewers can read the ledger but not make predictions." in [c.value for c in at.caption]
    assert "Predict" not in [b.label for b in at.button]


def test_the_ledger_chart_keeps_two_models_apart(database):
    import json

    actor = with_model(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    for model in ("SPX v1 · LSTM (Keras)", "SPX v2 · LSTM (Keras)"):
        next(s for s in at.selectbox if s.label == "Model").set_value(model)
        next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    names = [(trace.get("name", ""), len(trace["x"])) for trace in spec["data"]]
    predicted = {name: count for name, count in names if name.endswith("predicted")}
    assert predicted == {"SPX v1 · LSTM (Keras) predicted": 5, "SPX v2 · LSTM (Keras) predicted": 5}


def test_the_interval_is_described_at_the_model_s_own_level_with_its_test_coverage(database):
    actor = with_model(database)
    with session_scope() as session:
        narrow = train_model(fixture_prices(), TrainingConfig(model_type="median", interval_level=0.8), ticker="SPX")
        save_version(session=session, actor=actor, ticker="SPX", result=narrow)
    at = logged_in_app(PAGE, actor).run()
    next(s for s in at.selectbox if s.label == "Model").set_value("SPX v2 · median drift")  # sent with Predict
    next(b for b in at.button if b.label == "Predict").click().run()
    caption = next(c.value for c in at.caption if c.value.startswith("Made from the close"))
    coverage = narrow.metrics["test_coverage"]
    assert f"meant to hold 80 % of outcomes; on its test days it held {coverage * 100:.1f} %." in caption
    assert "95 %" not in caption


def test_predicting_twice_says_the_forecast_was_already_in_the_ledger(database):
    at = logged_in_app(PAGE, with_model(database)).run()
    for _ in range(2):
        next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        "These 5 predictions of SPX, for 2019-01-02 to 2019-01-08, were already in the ledger: the first "
        "forecast for each day is kept."
    ]
    at.run()
    assert len(at.dataframe[-1].value) == 5


def test_the_ledger_chart_gives_each_ticker_its_own_price_axis(database):
    import json

    frame = normalise_provider_frame(gspc_2018_frame()).frame
    prices = ["open", "high", "low", "close", "adj_close"]
    frame[[c for c in prices if c in frame.columns]] /= 20  # a stock near 125 beside the index near 2,500
    actor = with_model(database)
    with session_scope() as session:
        upsert_prices(session=session, frame=frame, ticker="ACME", owner_id=None, source="yahoo")
        save_version(session=session, actor=actor, ticker="ACME", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    for ticker in ("SPX", "ACME"):
        next(s for s in at.selectbox if s.label == "Ticker").set_value(ticker).run()
        next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    axes = {
        ticker: {trace.get("yaxis", "y") for trace in spec["data"] if trace.get("name", "").startswith(ticker)}
        for ticker in ("SPX", "ACME")
    }
    assert len(axes["SPX"]) == len(axes["ACME"]) == 1
    assert axes["SPX"] != axes["ACME"], "one axis from 0 to 2,500 drew both tickers as flat lines"


def test_the_ledger_chart_opens_on_the_tickers_forecast_last(database):
    # Twenty tickers drew twenty panes and two hundred lines on every run: over half a second.
    import datetime
    import json

    from db.models import Prediction
    from ui.ledger_panel import CHART_TICKERS

    actor = with_model(database)
    tickers = [f"T{n}" for n in range(CHART_TICKERS + 2)]
    with session_scope() as session:
        for n, ticker in enumerate(tickers):  # T0 forecast first, the last one most recently
            made = datetime.date(2018, 11, 1) + datetime.timedelta(days=n)
            session.add(
                Prediction(
                    user_id=actor.user_id, ticker=ticker, model_version_number=1, model_type="median",
                    prediction_date=made, target_date=made + datetime.timedelta(days=1), base_close=100.0,
                    predicted_value=101.0, lower=95.0, upper=105.0,
                )
            )  # fmt: skip
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    drawn = {trace["name"].split(" ")[0] for trace in spec["data"] if trace.get("name")}
    assert drawn == set(tickers[-CHART_TICKERS:])
    assert any("the 4 tickers forecast last" in caption.value for caption in at.caption)
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["T0"]).run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {trace["name"].split(" ")[0] for trace in spec["data"] if trace.get("name")} == {"T0"}


def count_calls(monkeypatch, module, name) -> list:
    """Record each call of module.name and let it run as it does: the page still reads the real database."""
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_a_rerun_with_the_ledger_unchanged_reads_only_its_freshness(database, monkeypatch):
    # Every click reruns the page: reading 20,000 predictions each time took half a second.
    from core.services import forecasts

    actor = with_model(database)
    forecasts.predict(actor, "SPX", 3)
    reads = count_calls(monkeypatch, forecasts, "ledger")
    boards = count_calls(monkeypatch, forecasts, "scoreboard")
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    next(n for n in at.number_input if n.label == "Trading days ahead").set_value(2).run()
    at.run()
    assert (len(reads), len(boards)) == (1, 1)
    assert len(at.dataframe[-1].value) == 3
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["SPX"]).run()
    assert (len(reads), len(boards)) == (1, 2), "other filters, another scoreboard; the same ledger"


def test_a_new_forecast_and_a_matured_one_show_on_the_next_run(database):
    from core.services import forecasts, market

    actor = with_model(database)
    at = logged_in_app(PAGE, actor).run()
    assert at.caption[-1].value.startswith("The ledger is empty")
    forecasts.predict(actor, "SPX", 2)
    at.run()
    ledger = at.dataframe[-1].value
    assert len(ledger) == 2
    assert ledger["Actual"].isna().all()
    # The first session of 2019, uploaded: the forecast for it matures as the upload is stored.
    first_of_2019 = (
        b"Date,Open,High,Low,Close,Adj Close,Volume\n2019-01-02,2476.96,2519.49,2467.47,2510.03,2510.03,3.7e9\n"
    )
    assert market.upload_prices(actor, data_bytes=first_of_2019, filename="2019.csv", ticker="SPX").status == "accepted"
    at.run()
    assert not at.exception
    assert at.dataframe[-1].value["Actual"].dropna().tolist() == [pytest.approx(2510.03)]


def test_the_scoreboard_gives_no_verdict_before_thirty_one_day_forecasts_have_matured(database):
    from core.services import forecasts, market

    actor = with_model(database)
    forecasts.predict(actor, "SPX", 1)
    first_of_2019 = (
        b"Date,Open,High,Low,Close,Adj Close,Volume\n2019-01-02,2476.96,2519.49,2467.47,2510.03,2510.03,3.7e9\n"
    )
    assert market.upload_prices(actor, data_bytes=first_of_2019, filename="2019.csv", ticker="SPX").status == "accepted"
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    board = next(frame.value for frame in at.dataframe if "Verdict, one-day" in frame.value.columns)
    assert board["Verdict, one-day"].tolist() == ["not tested yet: 1 of 30 one-day forecasts has met its close"]
    assert board["p-value against tomorrow = today, one-day"].isna().all()


def test_the_ledger_kept_between_runs_is_never_shown_to_the_next_user_of_the_browser(database):
    import time

    from core.services import forecasts

    ann = with_model(database)
    forecasts.predict(ann, "SPX", 2)
    at = logged_in_app(PAGE, ann).run()
    assert len(at.dataframe[-1].value) == 2
    ben = make_account(database)
    # Ben's login in the same browser session, as ui.auth records one (Ann's copy of her ledger still held).
    now = time.time()
    at.session_state["candlecast_auth"] = {
        "user_id": str(ben.user_id), "issued_at": now, "last_seen": now, "cookie_pending": False,
        "cookie_issued_at": now,
    }  # fmt: skip
    at.session_state["username"] = ben.username
    at.run()
    assert not at.exception
    assert at.caption[-1].value.startswith("The ledger is empty")


def test_every_predicted_move_is_a_call_on_direction_as_the_scoreboard_and_home_count_it(database):
    # The forecast's caption said a move under half the interval's width made no call on direction; the
    # scoreboard's hit rate and p-value, and Home's hit or miss, count the sign of every move that is not zero.
    from datetime import date

    from db.models import Prediction
    from db.types import utc_now

    actor = with_model(database)
    with session_scope() as session:
        session.add(
            Prediction(
                user_id=actor.user_id, ticker="SPX", model_version_number=1, model_type="lstm",
                prediction_date=date(2018, 11, 1), target_date=date(2018, 11, 2), base_close=2700.0,
                predicted_value=2701.0, lower=2650.0, upper=2750.0, actual_value=2710.0, matured_at=utc_now(),
            )
        )  # fmt: skip
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    board = next(frame.value for frame in at.dataframe if "Direction right, one-day" in frame.value.columns)
    assert board["Direction right, one-day"].tolist() == [pytest.approx(100)], "a move of 1 in ±50 is a call"
    home = logged_in_app("app_pages/home.py", actor).run()
    matured = next(frame.value for frame in home.dataframe if "Direction" in frame.value.columns)
    assert matured["Direction"].tolist() == ["hit"]
    next(b for b in at.button if b.label == "Predict").click().run()
    caption = next(c.value for c in at.caption if c.value.startswith("Made from the close"))
    assert caption.endswith("scaled by the market's recent volatility."), "no other rule of direction after it"


SCOREBOARD_COLUMNS = [
    "Model",
    "Verdict, one-day",
    "MASE, one-day",
    "p-value against tomorrow = today, one-day",
    "One-day forecasts tested",
    "Direction right, one-day",
    "p-value of direction, one-day",
    "Predictions, all horizons",
    "MAE, all horizons",
    "MAE of tomorrow = today, all horizons",
    "MASE, all horizons",
    "Interval coverage, all horizons",
]


def test_the_scoreboard_says_which_horizon_each_figure_is_of(database):
    # Two-day runs right on their first day and far off on the second: the row read a MASE above 1 beside
    # "beats persistence", with nothing to say the MASE took both days and the verdict the first alone.
    from db.models import Prediction
    from db.types import utc_now

    closes = gspc_2018_frame()["Close"]
    days = [stamp.date() for stamp in closes.index]
    actor = with_model(database)
    with session_scope() as session:
        for made in range(40):
            base = float(closes.iloc[made])
            for step in (1, 2):
                actual = float(closes.iloc[made + step])
                move = actual - base
                predicted = base + 0.3 * move if step == 1 else base - 3 * move
                session.add(
                    Prediction(
                        user_id=actor.user_id, ticker="SPX", model_version_number=1, model_type="lstm",
                        prediction_date=days[made], target_date=days[made + step], base_close=base,
                        predicted_value=predicted, lower=predicted - 50, upper=predicted + 50, actual_value=actual,
                        matured_at=utc_now(),
                    )
                )  # fmt: skip
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    table = next(frame for frame in at.dataframe if "Verdict, one-day" in frame.value.columns)
    board = table.value
    assert list(board.columns) == SCOREBOARD_COLUMNS
    # A long model name took three quarters of a phone's width: the verdict beside it was out of view.
    assert json.loads(table.proto.columns)["Model"]["width"] == "medium"
    row = board.iloc[0]
    assert row["Verdict, one-day"] == "beats persistence (Diebold-Mariano p < 0.001)"
    assert row["MASE, one-day"] == pytest.approx(0.7)
    assert row["MASE, all horizons"] > 1
    caption = next(c.value for c in at.caption if "one-day" in c.value)
    assert caption.startswith(
        "Figures marked one-day are of each run's first forecast day alone, the forecasts the verdict tests: "
        "a run's later days share their moves with the next run's, so they are no independent trials."
    )


def test_the_predict_form_holds_its_model_and_days(database):
    # Drawn into columns made outside the form, both fields reran the page on every change and were not sent
    # with Predict; the ticker alone stays outside, so that the model list follows it at once.
    at = logged_in_app(PAGE, with_model(database)).run()
    model = next(s for s in at.selectbox if s.label == "Model")
    days = next(n for n in at.number_input if n.label == "Trading days ahead")
    assert (model.proto.form_id, days.proto.form_id) == ("predict", "predict")
    assert next(s for s in at.selectbox if s.label == "Ticker").proto.form_id == ""
    days.set_value(2)
    next(b for b in at.button if b.label == "Predict").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Stored 2 predictions of SPX in the ledger, for 2019-01-02 to 2019-01-03."]


def ancestors_of(node, wanted, path=()):
    """The block types from the page's root down to the first element that `wanted` accepts."""
    for child in getattr(node, "children", {}).values():
        if wanted(child):
            return path
        found = ancestors_of(child, wanted, (*path, child.type))
        if found is not None:
            return found
    return None


def test_predict_sits_under_the_whole_row_and_the_form_holds_model_and_days(database):
    # Built inside the right-hand column, the form put Predict mid-page, under the Model box alone.
    at = logged_in_app(PAGE, with_model(database)).run()
    button = ancestors_of(at._tree, lambda e: getattr(e, "label", None) == "Predict")
    assert "form" in button
    assert "column" not in button, "under the whole row: the form spans it, not one column of it"
    for widget in ("Model", "Trading days ahead"):
        assert "form" in ancestors_of(at._tree, lambda e, w=widget: getattr(e, "label", None) == w)
    assert "form" not in ancestors_of(at._tree, lambda e: getattr(e, "label", None) == "Ticker")


def test_a_long_ledger_shows_its_newest_rows_and_its_download_holds_every_row(database, monkeypatch):
    # Every run sent the whole ledger to the browser: 20,000 rows, 3 MB, on each click of any widget.
    import csv
    import datetime
    import io

    import pandas as pd
    from sqlalchemy import insert
    from streamlit.runtime.media_file_manager import MediaFileManager

    from db.models import Prediction
    from ui.ledger_panel import LEDGER_ROWS_SHOWN

    actor = with_model(database)
    total = LEDGER_ROWS_SHOWN + 25
    first, day = datetime.date(2015, 1, 1), datetime.timedelta(days=1)
    rows = [
        {
            "user_id": actor.user_id, "ticker": "SPX", "model_version_number": 1, "model_type": "median",
            "prediction_date": first + n * day, "target_date": first + (n + 1) * day,
            "base_close": 100.0, "predicted_value": 101.0 + n, "lower": 95.0, "upper": 105.0 + n,
        }
        for n in range(total)
    ]  # fmt: skip
    with session_scope() as session:
        session.execute(insert(Prediction), rows)
    downloads = {}
    real = MediaFileManager.add_deferred

    def kept(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        downloads[file_name] = data_callable  # written when the button is pressed: pressed here
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", kept)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert len(table) == LEDGER_ROWS_SHOWN
    newest = {first + (n + 1) * day for n in range(total - LEDGER_ROWS_SHOWN, total)}
    assert {day.date() for day in pd.to_datetime(table["Target day"])} == newest
    shown = f"The table shows the newest {LEDGER_ROWS_SHOWN:,} of these {total:,} predictions"
    assert any(c.value.startswith(shown) and "the CSV download holds all of them" in c.value for c in at.caption)
    written = list(csv.DictReader(io.StringIO(downloads["ledger.csv"]().decode("utf-8"))))
    assert len(written) == total
    assert {row["target_date"] for row in written} == {str(row["target_date"]) for row in rows}
    # Chosen tickers narrow the rows and the count alike; under the limit, no word about one.
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["SPX"]).run()
    assert len(at.dataframe[-1].value) == LEDGER_ROWS_SHOWN
    with session_scope() as session:
        session.execute(insert(Prediction), [{**rows[0], "ticker": "ACME"}])
    at.run()
    next(m for m in at.multiselect if m.label == "Tickers").set_value(["ACME"]).run()
    assert len(at.dataframe[-1].value) == 1
    assert not any(c.value.startswith("The table shows the newest") for c in at.caption)
