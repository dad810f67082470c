"""What the registry refuses to store, activate or promote: one model twice, a version that fails its
checksum, a forecast that is not a price, a model of price levels moved to another ticker."""

import dataclasses
import io
import json
import threading
import warnings
import zipfile
from functools import cache

import pytest
from sqlalchemy import select

from common.errors import BadInput
from core.forecasting.artifacts import ArtifactError, pack, sha256
from core.forecasting.registry import (
    DuplicateVersionError,
    activate,
    delete,
    export_artifact,
    export_filename,
    import_version,
    save_version,
)
from core.forecasting.signing import signing_key
from core.forecasting.training import train_model
from db.engine import session_scope
from db.models import ModelVersion
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, list_model_versions
from db.repositories.users import create_user
from tests.accounts import make_account
from tests.core.forecasting.tiny import fixture_prices, resigned, tiny_config, tiny_result, unpack_any
from tests.servers import fresh_postgres_sessions

OTHER_KEY = b"the key this deployment had before, 32+"


@pytest.fixture
def owner(session):
    return Actor.of(create_user(session=session, username="gus", email="gus@example.com", password_hash="x"))


@cache
def _trained(kind: str, ticker: str = "SPX", **settings) -> bytes:
    return train_model(fixture_prices(), tiny_config(model_type=kind, **settings), ticker=ticker).bundle


def _signed(bundle: bytes, *, parameters: dict | None = None, **metadata_changes) -> bytes:
    """The bundle with its forecaster's parameters changed, signed as this deployment would."""
    opened = unpack_any(bundle)
    preprocessing = json.loads(json.dumps(opened.preprocessing))
    preprocessing["parameters"] |= parameters or {}
    metadata = {k: v for k, v in opened.metadata.items() if k not in ("files", "signature")} | metadata_changes
    return pack(opened.model_file, preprocessing, metadata, key=signing_key())


def _stored(session, owner, bundle: bytes, ticker: str = "SPX") -> ModelVersion:
    result = dataclasses.replace(tiny_result(), bundle=bundle, bundle_sha256=sha256(bundle))
    return save_version(session=session, actor=owner, ticker=ticker, result=result)


def _corrupt(session, version: ModelVersion) -> None:
    version.artifact = version.artifact[:-1] + bytes([version.artifact[-1] ^ 1])
    session.flush()


def _rezipped(data: bytes, *, first: tuple[str, bytes] | None = None, deflated: bool = False) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w", compression=compression) as target:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate it is asked to write
        if first:
            target.writestr(*first)
        for name in source.namelist():
            target.writestr(name, source.read(name))
    return out.getvalue()


# 1. One name, two entries: `unzip -p` and Python read different ones.


def test_an_export_with_a_second_entry_of_one_name_is_refused_and_stores_nothing(session, owner):
    exported = export_artifact(_stored(session, owner, resigned(_trained("ridge"))))
    forged = _rezipped(exported, first=("preprocessing.json", b'{"note": "unsigned"}'))
    with pytest.raises(ArtifactError, match=r"two entries named 'preprocessing\.json'"):
        import_version(session=session, actor=owner, data=forged, ticker="SPX")
    assert [v.version for v in list_model_versions(session=session, actor=owner)] == [1]


# 2. The same model imported again for the same ticker, however it was signed or zipped.


def test_an_export_re_signed_after_a_key_change_is_the_same_model(session, owner):
    version = _stored(session, owner, resigned(_trained("median"), key=OTHER_KEY))
    exported = export_artifact(version)  # signed again with the current key: other bytes, same model
    assert sha256(exported) != version.artifact_sha256
    with pytest.raises(DuplicateVersionError, match=r"already stored as SPX v1: nothing was imported"):
        import_version(session=session, actor=owner, data=exported, ticker="SPX")
    with pytest.raises(DuplicateVersionError, match=r"already stored as SPX v1"):
        import_version(session=session, actor=owner, data=_rezipped(exported, deflated=True), ticker="SPX")
    assert [v.version for v in list_model_versions(session=session, actor=owner, ticker="SPX")] == [1]


@pytest.mark.postgres
def test_two_imports_of_one_file_at_once_store_it_once():
    data = resigned(_trained("median"))
    with fresh_postgres_sessions() as sessions:
        actor = make_account(sessions.kw["bind"].url)
        for trial in range(4):
            ticker = f"RACE{trial}"
            barrier = threading.Barrier(2)
            outcomes: list[object] = []

            def run(ticker: str = ticker, barrier: threading.Barrier = barrier, outcomes: list = outcomes) -> None:
                try:
                    with session_scope(sessions) as session:
                        barrier.wait()
                        outcomes.append(import_version(session=session, actor=actor, data=data, ticker=ticker).version)
                except BadInput as error:
                    outcomes.append(type(error))

            threads = [threading.Thread(target=run) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes, key=str) in ([1, DuplicateVersionError], [DuplicateVersionError, 1]), outcomes
            with session_scope(sessions) as session:
                stored = session.scalars(select(ModelVersion.version).where(ModelVersion.ticker == ticker)).all()
            assert stored == [1], f"trial {trial}: {stored}"


# 3. A version whose artifact fails its checksum never becomes the active one.


def test_a_version_that_fails_its_sha256_is_not_activated(session, owner):
    first = _stored(session, owner, resigned(_trained("median")))
    second = _stored(session, owner, resigned(_trained("drift")))
    _corrupt(session, second)
    refused = r"SPX v2: the stored artifact does not match its SHA-256; refusing to activate"
    with pytest.raises(ArtifactError, match=refused):
        activate(session=session, actor=owner, version_id=second.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == first.id


def test_deleting_the_active_version_promotes_the_newest_one_that_passes_its_sha256(session, owner):
    first, second, third = (_stored(session, owner, resigned(_trained(kind))) for kind in ("median", "drift", "ridge"))
    _corrupt(session, third)
    delete(session=session, actor=owner, version_id=first.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == second.id
    _corrupt(session, session.get(ModelVersion, second.id))
    fourth = _stored(session, owner, resigned(_trained("persistence")), ticker="NDX")
    delete(session=session, actor=owner, version_id=second.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX") is None, "none left that loads"
    assert get_active_version(session=session, actor=owner, ticker="NDX").id == fourth.id


# 4. A bundle whose forecast is no price is refused at import.


@pytest.mark.parametrize(
    ("kind", "parameters", "problem"),
    [
        ("median", {"median_return": 1e6}, r"a one-day log return of 1e\+06, more than 1 either way"),
        ("ridge", {"intercept": 1e300}, r"a one-day log return of 1e\+300"),
        ("drift", {"mean_return": -3.0}, r"a one-day log return of -3,"),
    ],
)
def test_a_signed_bundle_that_forecasts_an_absurd_move_is_refused(session, owner, kind, parameters, problem):
    assert set(parameters) <= set(unpack_any(_trained(kind)).preprocessing["parameters"]), "a real parameter"
    with pytest.raises(ArtifactError, match=problem):
        import_version(session=session, actor=owner, data=_signed(_trained(kind), parameters=parameters), ticker="SPX")
    assert list_model_versions(session=session, actor=owner) == []


def test_a_large_but_possible_move_still_imports(session, owner):
    data = _signed(_trained("median"), parameters={"median_return": 0.5})
    assert import_version(session=session, actor=owner, data=data, ticker="SPX").version == 1


# 5. A model imported under another ticker says what it was trained on; one of price levels is refused.


def test_a_model_imported_under_another_ticker_keeps_the_ticker_it_was_trained_on(session, owner):
    data = resigned(_trained("median", "SPX"))
    moved = import_version(session=session, actor=owner, data=data, ticker="SMALL")
    kept = import_version(session=session, actor=owner, data=data, ticker=None)
    assert (moved.ticker, moved.trained_on) == ("SMALL", "SPX")
    assert (kept.ticker, kept.trained_on) == ("SPX", None), "trained on its own ticker's prices"


def test_a_model_of_price_levels_is_refused_under_another_ticker(session, owner):
    data = resigned(_trained("lstm", "SPX", features=("close", "log_return")))
    with pytest.raises(ArtifactError, match=r"reads price levels \(the close\) of SPX.*import it under SPX"):
        import_version(session=session, actor=owner, data=data, ticker="BIG")
    assert import_version(session=session, actor=owner, data=data, ticker="SPX").trained_on is None


# 6. An export's file name leads with the ticker an import that keeps the file's ticker lands on.


def test_the_export_of_a_moved_copy_is_named_after_the_ticker_the_file_holds(session, owner):
    moved = import_version(session=session, actor=owner, data=resigned(_trained("median", "SPX")), ticker="SMALL")
    assert export_filename(moved) == "candlecast-SPX-from-SMALL-v1.zip"
    assert export_filename(_stored(session, owner, resigned(_trained("median", "SPX")))) == "candlecast-SPX-v1.zip"
    stranger = Actor.of(create_user(session=session, username="stu", email="stu@example.com", password_hash="x"))
    again = import_version(session=session, actor=stranger, data=export_artifact(moved), ticker=None)
    assert export_filename(moved).startswith(f"candlecast-{again.ticker}-")
