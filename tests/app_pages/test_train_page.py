"""The Train page through AppTest: queueing, the live jobs panel, versions with their verdict, import."""

import time

import pytest
from sqlalchemy.engine import URL

from core.data.service import import_prices
from core.forecasting.registry import save_version
from db.engine import session_scope
from db.migrate import upgrade_to_head
from db.models import TrainingJob
from db.models.accounts import Role
from tests.accounts import logged_in_app, make_account
from tests.core.forecasting.tiny import tiny_result
from tests.fixtures import gspc_2018_bytes

PAGE = "app_pages/train.py"


@pytest.fixture
def database(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "train.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker="SPX", date_format=None, skip_bad_rows=False, owner=None
        )
    return url


def test_train_queues_a_job_and_returns_at_once(database):
    actor = make_account(database)
    at = logged_in_app(PAGE, actor).run()
    assert not at.exception
    next(t for t in at.text_input if t.label == "LSTM units per layer").input("4")
    next(n for n in at.number_input if n.label == "Epochs at most").set_value(1)
    started = time.monotonic()
    next(b for b in at.button if b.label == "Train").click().run()
    assert time.monotonic() - started < 10, "the page does not wait for training"
    assert [s.value for s in at.success] == ["Queued 1 training job: follow them below."]
    assert any(m.value.startswith("**SPX** · ") for m in at.markdown)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with session_scope() as session:
            status = session.query(TrainingJob.status).scalar()
        if status in ("succeeded", "failed"):
            break
        time.sleep(0.5)
    assert status == "succeeded"


def test_bad_settings_are_named(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    next(t for t in at.text_input if t.label == "LSTM units per layer").input("4, 0")
    next(b for b in at.button if b.label == "Train").click().run()
    assert at.error[0].value == "Settings: lstm_units: one to four LSTM layers of 1 to 512 units each"


def test_versions_show_metrics_and_a_verdict(database):
    actor = make_account(database)
    with session_scope() as session:
        save_version(session=session, actor=actor, ticker="SPX", result=tiny_result())
    at = logged_in_app(PAGE, actor).run()
    table = at.dataframe[0].value
    row = table.iloc[0]
    assert (row["ticker"], row["version"], bool(row["active"])) == ("SPX", 1, True)
    assert row["MASE"] == pytest.approx(tiny_result().metrics["mase"])
    assert row["verdict"] == tiny_result().verdict


def test_import_refuses_a_foreign_file(database):
    at = logged_in_app(PAGE, make_account(database)).run()
    at.file_uploader[0].set_value(("model.zip", b"PK not really", "application/zip"))
    next(b for b in at.button if b.label == "Import").click().run()
    assert at.error[0].value == "Refused: not a model file: expected a .zip exported by Candlecast"


def test_viewers_cannot_train(database):
    at = logged_in_app(PAGE, make_account(database, role=Role.VIEWER)).run()
    assert "Viewers can look at models but not train them." in [c.value for c in at.caption]
    assert "Train" not in [b.label for b in at.button]
