"""The model services on a real database: versions of any type exported and imported, activated, refused."""

import uuid

import pytest
from sqlalchemy.engine import URL

from common.config import get_settings
from common.errors import Refusal
from core.data.service import import_prices
from core.forecasting.artifacts import unpack
from core.forecasting.registry import save_version
from core.forecasting.training import train_model
from core.services import forecasts, models
from db.engine import session_scope
from db.migrate import upgrade_to_head
from db.models.accounts import Role
from tests.accounts import make_account
from tests.core.forecasting.tiny import fixture_prices, resigned, tiny_config
from tests.fixtures import gspc_2018_bytes


@pytest.fixture
def database(monkeypatch, tmp_path):
    url = URL.create("sqlite", database=str(tmp_path / "models.db"))
    upgrade_to_head(url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def test_an_exported_auto_version_imports_as_a_new_version_that_is_not_evaluated_here(database):
    actor = make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="auto"), ticker="SPX")
    with session_scope() as session:
        original = save_version(session=session, actor=actor, ticker="SPX", result=result)
    exported = models.export_bundle(actor, original.id)
    assert exported.filename == "candlecast-SPX-v1.zip"
    imported = models.import_bundle(actor, exported.data, "COPY")
    assert (imported.ticker, imported.model_type, imported.metrics["evaluated"]) == ("COPY", "auto", False)
    assert sorted(v.ticker for v in models.list_versions(actor)) == ["COPY", "SPX"]


def test_another_users_version_is_not_found_and_a_viewer_cannot_activate(database):
    owner, stranger = make_account(database), make_account(database)
    viewer = make_account(database, role=Role.VIEWER)
    result = train_model(fixture_prices(), tiny_config(model_type="drift"), ticker="SPX")
    with session_scope() as session:
        version = save_version(session=session, actor=owner, ticker="SPX", result=result)
    for actor in (stranger, viewer):
        with pytest.raises(Refusal):
            models.activate(actor, version.id)
    with pytest.raises(Refusal, match="no such job"):
        models.cancel_job(owner, uuid.uuid4())


def test_predicting_without_a_model_is_refused_with_where_to_start(database):
    with pytest.raises(Refusal, match="no active model for SPX: train one on the Train page first"):
        forecasts.predict(make_account(database), "SPX", 3)


def _use_key(monkeypatch, key: str) -> None:
    monkeypatch.setenv("MODEL_SIGNING_KEY", key)
    get_settings.cache_clear()


def test_after_a_key_change_this_deployment_imports_its_own_export(database, monkeypatch):
    _use_key(monkeypatch, "the key before rotation, 0123456789abcdef")
    actor = make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="drift"), ticker="SPX")
    with session_scope() as session:
        version = save_version(session=session, actor=actor, ticker="SPX", result=result)
    assert models.export_bundle(actor, version.id).data == result.bundle, "signed with the current key: as stored"
    _use_key(monkeypatch, "the key after rotation, fedcba9876543210")
    exported = models.export_bundle(actor, version.id)
    imported = models.import_bundle(actor, exported.data, "COPY")
    assert (imported.ticker, imported.model_type) == ("COPY", "drift")
    assert unpack(exported.data).preprocessing == unpack(result.bundle, key=b"any").preprocessing


def test_a_stored_artifact_that_does_not_match_its_sha256_is_never_re_signed(database, monkeypatch):
    _use_key(monkeypatch, "the key before rotation, 0123456789abcdef")
    actor = make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="drift"), ticker="SPX")
    with session_scope() as session:
        version = save_version(session=session, actor=actor, ticker="SPX", result=result)
        version.artifact = resigned(result.bundle, key=b"k" * 32, ticker="MSFT")
    _use_key(monkeypatch, "the key after rotation, fedcba9876543210")
    with pytest.raises(Refusal, match="SPX v1: the stored artifact does not match its SHA-256; refusing to export it"):
        models.export_bundle(actor, version.id)


def test_deleting_a_version_names_its_predictions_as_the_ledger_then_names_them(database):
    actor = make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="median"), ticker="SPX")
    with session_scope() as session:
        import_prices(
            session=session, data=gspc_2018_bytes(), ticker="SPX", date_format=None, skip_bad_rows=False, owner=actor
        )
        version = save_version(session=session, actor=actor, ticker="SPX", result=result)
    forecasts.predict(actor, "SPX", 2, version.id)
    deleted = models.delete(actor, version.id)
    assert (deleted.kept, deleted.ledger_name) == (2, "SPX v1 · median drift, deleted")
    assert set(forecasts.ledger(actor)["model"]) == {deleted.ledger_name}


def test_a_moved_copy_exports_under_a_name_that_says_where_its_import_lands(database):
    # candlecast-SMALL-v1.zip imported with the ticker left empty landed under SPX.
    actor, stranger = make_account(database), make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="median"), ticker="SPX")
    with session_scope() as session:
        original = save_version(session=session, actor=actor, ticker="SPX", result=result)
    moved = models.import_bundle(actor, models.export_bundle(actor, original.id).data, "SMALL")
    assert [(v.ticker, v.trained_on) for v in models.list_versions(actor)] == [("SMALL", "SPX"), ("SPX", None)]
    exported = models.export_bundle(actor, moved.id)
    assert exported.filename == "candlecast-SPX-from-SMALL-v1.zip"
    landed = models.import_bundle(stranger, exported.data)
    assert (landed.ticker, landed.trained_on) == ("SPX", None)
    assert exported.filename.startswith(f"candlecast-{landed.ticker}-")


def test_after_a_key_change_the_same_model_is_still_refused_under_its_ticker(database, monkeypatch):
    _use_key(monkeypatch, "the key before rotation, 0123456789abcdef")
    actor = make_account(database)
    result = train_model(fixture_prices(), tiny_config(model_type="drift"), ticker="SPX")
    with session_scope() as session:
        version = save_version(session=session, actor=actor, ticker="SPX", result=result)
    _use_key(monkeypatch, "the key after rotation, fedcba9876543210")
    with pytest.raises(Refusal, match="this file is already stored as SPX v1: nothing was imported"):
        models.import_bundle(actor, models.export_bundle(actor, version.id).data, "SPX")
    assert [v.version for v in models.list_versions(actor, "SPX")] == [1]


def test_data_problems_are_judged_again_only_when_the_prices_the_actor_sees_change(committing_database, monkeypatch):
    # The Train page asks on every run: with nothing changed, the problems it holds come back without a read.
    import db.repositories.prices as repository
    from db.engine import get_engine
    from db.repositories.prices import upsert_prices
    from tests.queries import recorded_statements

    ticker = f"Q{uuid.uuid4().hex[:6].upper()}"
    ann, ben = make_account(committing_database), make_account(committing_database)
    bars = fixture_prices().drop(columns=["ticker"], errors="ignore")
    with session_scope() as session:
        upsert_prices(session=session, frame=bars, ticker=ticker, owner_id=None, source="yahoo")
    judged = models.data_problems(ann, [ticker])
    assert judged.problems == {}
    with recorded_statements(get_engine(), monkeypatch, repository) as statements:
        assert models.data_problems(ann, [ticker], judged) is judged
    assert [s for s in statements if "historical_data" in s] == []

    bad = bars.iloc[[4]].assign(volume=0)
    with session_scope() as session:
        upsert_prices(session=session, frame=bad, ticker=ticker, owner_id=ben.user_id, source="upload")
    assert models.data_problems(ann, [ticker], judged) is judged, "another user's upload is not among ann's prices"
    assert models.data_problems(ben, [ticker], judged).problems == {ticker: ["1 day with zero volume: 2018-01-08"]}
    with session_scope() as session:
        upsert_prices(session=session, frame=bad, ticker=ticker, owner_id=ann.user_id, source="upload")
    assert models.data_problems(ann, [ticker], judged).problems == {ticker: ["1 day with zero volume: 2018-01-08"]}
