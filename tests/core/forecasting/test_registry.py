"""The registry on both backends: numbering, activation, checksums, export and import, safety."""

import dataclasses
import io
import json
import threading
import zipfile
from functools import cache

import numpy as np
import pytest
from sqlalchemy import delete as sa_delete
from sqlalchemy.orm import sessionmaker

from common.errors import BadInput, NotFound
from core.auth import PermissionDeniedError
from core.forecasting.artifacts import ArtifactError, load_keras_model, pack, sha256, unpack
from core.forecasting.config import MODEL_TYPES
from core.forecasting.predict import forecast_next
from core.forecasting.registry import RegistryError, activate, delete, import_version, load_version, save_version
from db.engine import session_scope
from db.models import ModelVersion, ModelVersionNumber
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.models import get_active_version, get_model_version, list_model_versions
from db.repositories.users import create_user
from tests.accounts import make_account, unique_name
from tests.core.forecasting.tiny import fixture_prices, resigned, tiny_result, unpack_any


@pytest.fixture
def owner(session):
    return Actor.of(create_user(session=session, username="moe", email="moe@example.com", password_hash="x"))


def test_versions_count_per_user_and_ticker_and_the_first_is_active(session, owner):
    first = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    second = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    other = save_version(session=session, actor=owner, ticker="NDX", result=tiny_result())
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == first.id
    activate(session=session, actor=owner, version_id=second.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == second.id
    assert [v.version for v in list_model_versions(session=session, actor=owner, ticker="SPX")] == [2, 1]
    delete(session=session, actor=owner, version_id=first.id)
    assert [v.version for v in list_model_versions(session=session, actor=owner, ticker="SPX")] == [2]


def test_a_version_number_is_never_given_twice_even_after_a_delete(session, owner):
    # "SPX v3" in the audit log and in an exported file name must keep naming one model.
    versions = [save_version(session=session, actor=owner, ticker="SPX", result=tiny_result()) for _ in range(3)]
    delete(session=session, actor=owner, version_id=versions[-1].id)
    again = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    assert again.version == 4


def test_deleting_the_active_version_makes_the_newest_remaining_one_active(session, owner):
    first, second, third = (
        save_version(session=session, actor=owner, ticker="SPX", result=tiny_result()) for _ in "abc"
    )
    delete(session=session, actor=owner, version_id=first.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == third.id
    delete(session=session, actor=owner, version_id=second.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == third.id, (
        "a passive delete changes nothing"
    )


def test_a_ticker_whose_number_row_is_missing_still_activates_deletes_and_counts_on(session, owner):
    # Activating and deleting lock the ticker's row of version numbers; versions stored without one
    # (as before migration 0012 counted them) get it, with the highest number stored, not a lock on nothing.
    first, second = (save_version(session=session, actor=owner, ticker="SPX", result=tiny_result()) for _ in "ab")
    session.execute(sa_delete(ModelVersionNumber))
    activate(session=session, actor=owner, version_id=second.id)
    session.execute(sa_delete(ModelVersionNumber))
    delete(session=session, actor=owner, version_id=second.id)
    session.expire_all()
    assert get_active_version(session=session, actor=owner, ticker="SPX").id == first.id
    again = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    assert again.version == 3, "v2 was given before its deletion, and is not given again"


def test_a_stored_version_loads_and_predicts(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    loaded = load_version(version)
    forecast = forecast_next(loaded.model, fixture_prices())
    last_close = fixture_prices()["close"].iloc[-1]
    assert forecast.lower < forecast.predicted_close < forecast.upper
    assert forecast.predicted_close == pytest.approx(last_close * np.exp(forecast.predicted_return))


def test_a_loaded_model_is_reused_until_its_bytes_change(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    first, again = load_version(version), load_version(version)
    assert again.model is first.model, "the second load comes from the process's cache"
    version.artifact = version.artifact[:-1] + bytes([version.artifact[-1] ^ 1])
    with pytest.raises(ArtifactError, match="does not match its SHA-256"):
        load_version(version)


def test_a_sha256_mismatch_is_refused(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    version.artifact = version.artifact[:-1] + bytes([version.artifact[-1] ^ 1])
    with pytest.raises(ArtifactError, match="does not match its SHA-256; refusing to load it"):
        load_version(version)


def test_other_users_cannot_reach_a_version(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    stranger = Actor.of(create_user(session=session, username="stan", email="stan@example.com", password_hash="x"))
    assert get_model_version(session=session, actor=stranger, version_id=version.id) is None
    with pytest.raises(RegistryError, match="no such model version"):
        activate(session=session, actor=stranger, version_id=version.id)
    viewer = Actor.of(
        create_user(session=session, username="vick", email="vick@example.com", password_hash="x", role=Role.VIEWER)
    )
    with pytest.raises(PermissionDeniedError):
        delete(session=session, actor=viewer, version_id=version.id)


def test_admins_cannot_reach_other_users_versions_either(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=tiny_result())
    admin = Actor.of(
        create_user(session=session, username="ada", email="ada@example.com", password_hash="x", role=Role.ADMIN)
    )
    assert get_model_version(session=session, actor=admin, version_id=version.id) is None
    assert list_model_versions(session=session, actor=admin) == []
    with pytest.raises(RegistryError, match="no such model version"):
        delete(session=session, actor=admin, version_id=version.id)


def exported_here():
    """A trained run as this deployment (its current signing key) exports it."""
    bundle = resigned(tiny_result().bundle)
    return dataclasses.replace(tiny_result(), bundle=bundle, bundle_sha256=sha256(bundle))


def test_export_and_import_round_trip(session, owner):
    version = save_version(session=session, actor=owner, ticker="SPX", result=exported_here())
    imported = import_version(session=session, actor=owner, data=version.artifact, ticker="SPXCOPY")
    assert (imported.ticker, imported.version, imported.metrics["imported"]) == ("SPXCOPY", 1, True)
    assert imported.is_active, "the first version of a ticker is its active one, imported or trained"
    assert imported.artifact_sha256 == version.artifact_sha256
    # The file's scores are its exporter's claims, not measurements made here.
    assert "mae" not in imported.metrics
    assert imported.metrics["verdict"].startswith("not evaluated here")


def test_a_bundle_signed_by_another_deployment_is_refused(session, owner):
    foreign = resigned(tiny_result().bundle, key=b"another deployment's key of 32 bytes")
    with pytest.raises(ArtifactError, match="not signed by this deployment"):
        import_version(session=session, actor=owner, data=foreign, ticker="SPX")
    assert list_model_versions(session=session, actor=owner) == []


def test_preprocessing_times_1000_with_checksums_recomputed_is_refused(session, owner):
    source = zipfile.ZipFile(io.BytesIO(resigned(tiny_result().bundle)))
    preprocessing = json.loads(source.read("preprocessing.json"))
    window = preprocessing["parameters"]["preprocessing"]
    window["feature_scale"] = [value * 1000 for value in window["feature_scale"]]
    altered = json.dumps(preprocessing).encode()
    metadata = json.loads(source.read("metadata.json"))
    metadata["files"]["preprocessing.json"] = sha256(altered)
    data = _rezip(resigned(tiny_result().bundle), {"preprocessing.json": altered,
                                                    "metadata.json": json.dumps(metadata).encode()})  # fmt: skip
    with pytest.raises(ArtifactError, match="not signed by this deployment"):
        import_version(session=session, actor=owner, data=data, ticker="SPX")


def test_a_markdown_ticker_in_a_signed_bundle_is_still_refused(session, owner):
    with pytest.raises(ArtifactError, match="ticker: is not a ticker symbol"):
        import_version(session=session, actor=owner, data=resigned(tiny_result().bundle, ticker="[a](b)"))


def test_preprocessing_outside_its_schema_is_refused(session, owner):
    opened = unpack(resigned(tiny_result().bundle))
    metadata = {k: v for k, v in opened.metadata.items() if k not in ("files", "signature")}
    window = opened.preprocessing["parameters"]["preprocessing"]
    broken = opened.preprocessing | {
        "parameters": opened.preprocessing["parameters"]
        | {"preprocessing": window | {"feature_scale": [0.0] * len(window["features"])}}
    }
    with pytest.raises(ArtifactError, match=r"preprocessing\.json: feature_scale\.0: .*not a positive finite number"):
        import_version(session=session, actor=owner, data=pack(opened.model_file, broken, metadata), ticker="SPX")


def _rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            target.writestr(name, replace.get(name, source.read(name)))
        for name, content in replace.items():
            if name not in source.namelist():
                target.writestr(name, content)
    return out.getvalue()


def test_import_refuses_altered_legacy_and_foreign_files(session, owner):
    bundle = resigned(tiny_result().bundle)
    with pytest.raises(ArtifactError, match=r"preprocessing\.json does not match its SHA-256"):
        import_version(session=session, actor=owner, data=_rezip(bundle, {"preprocessing.json": b"{}"}))
    with pytest.raises(ArtifactError, match=r"legacy or pickled model files \(.h5, .pkl\) are refused"):
        import_version(session=session, actor=owner, data=_rezip(bundle, {"model.h5": b"HDF"}))
    with pytest.raises(ArtifactError, match="not a model file"):
        import_version(session=session, actor=owner, data=b"definitely not a zip")


def test_a_model_with_a_lambda_layer_is_refused(session, owner):
    from core.forecasting import runtime
    from core.forecasting.artifacts import model_bytes

    keras = runtime.keras()
    inputs = keras.Input(shape=(10, 5))
    outputs = keras.layers.Dense(1)(keras.layers.Lambda(lambda x: x[:, -1, :] * 2)(inputs))
    sneaky = model_bytes(keras.Model(inputs, outputs))
    bundle = unpack(tiny_result().bundle)
    data = pack(sneaky, bundle.preprocessing, {k: v for k, v in bundle.metadata.items() if k != "files"})
    with pytest.raises(ArtifactError, match="cannot be loaded safely"):
        import_version(session=session, actor=owner, data=data, ticker="EVIL")
    with pytest.raises(ArtifactError):
        load_keras_model(sneaky)


def test_two_runs_finishing_together_get_distinct_versions(database_url, engine):
    actor = make_account(database_url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    ticker = unique_name("T").upper()[:12]
    barrier = threading.Barrier(2)
    numbers, errors = [], []

    def finish() -> None:
        try:
            with session_scope(sessions) as session:
                barrier.wait()
                numbers.append(save_version(session=session, actor=actor, ticker=ticker, result=tiny_result()).version)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=finish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [1, 2]
    with session_scope(sessions) as session:
        session.execute(ModelVersion.__table__.delete().where(ModelVersion.ticker == ticker))


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_every_type_is_stored_loaded_and_predicts_the_next_sessions(session, owner, model_type):
    from core.forecasting.predict import forecast_days
    from core.forecasting.training import train_model
    from tests.core.forecasting.tiny import tiny_config

    result = train_model(fixture_prices(), tiny_config(model_type=model_type), ticker="^GSPC")
    assert result.verdict
    version = save_version(session=session, actor=owner, ticker="^GSPC", result=result)
    assert version.model_type == model_type
    loaded = load_version(version)
    days = forecast_days(loaded.model, fixture_prices(), 3, "^GSPC")
    assert [d.target_date.strftime("%Y-%m-%d") for d in days] == ["2019-01-02", "2019-01-03", "2019-01-04"]
    assert all(d.lower <= d.predicted_close <= d.upper for d in days)
    imported = import_version(session=session, actor=owner, data=version.artifact, ticker="COPY")
    assert imported.model_type == model_type


def _signed(opened, preprocessing: dict | None = None, **metadata) -> bytes:
    """The bundle's files, changed, signed with this deployment's key as only a key holder could."""
    kept = {k: v for k, v in opened.metadata.items() if k not in ("files", "signature")} | metadata
    return pack(opened.model_file, preprocessing or opened.preprocessing, kept)


def _with_parameters(opened, **changes) -> bytes:
    return _signed(opened, opened.preprocessing | {"parameters": opened.preprocessing["parameters"] | changes})


@cache
def _auto_result():
    from core.forecasting.training import train_model
    from tests.core.forecasting.tiny import tiny_config

    return train_model(fixture_prices(), tiny_config(model_type="auto"), ticker="^GSPC")


def _malformed(case: str) -> bytes:
    auto, lstm = unpack_any(_auto_result().bundle), unpack_any(tiny_result().bundle)
    window = lstm.preprocessing["parameters"]["preprocessing"]
    three = {"features": window["features"][:3]} | {k: window[k][:3] for k in ("feature_mean", "feature_scale")}
    return {
        "member parameters a number": lambda: _with_parameters(auto, members=[{"kind": "drift", "parameters": 5}],
                                                               weights=[1.0]),
        "member parameters a list": lambda: _with_parameters(auto, members=[{"kind": "ridge", "parameters": [1, 2]}],
                                                             weights=[1.0]),
        "lstm config a number": lambda: _with_parameters(lstm, config=7),
        "lstm preprocessing a list": lambda: _with_parameters(lstm, preprocessing=[3]),
        "window 12 for a network of 10": lambda: _with_parameters(lstm, preprocessing=window | {"window": 12}),
        "3 features for a network of 5": lambda: _with_parameters(lstm, preprocessing=window | three),
    }[case]()  # fmt: skip


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("member parameters a number", r"members\.0\.parameters: must be a JSON object"),
        ("member parameters a list", r"members\.0\.parameters: must be a JSON object"),
        ("lstm config a number", r"parameters\.config: must be a JSON object"),
        ("lstm preprocessing a list", r"parameters\.preprocessing: must be a JSON object"),
        ("window 12 for a network of 10", r"model\.keras takes windows of 10 days x 5 features, .* 12 days x 5"),
        ("3 features for a network of 5", r"model\.keras takes windows of 10 days x 5 features, .* 10 days x 3"),
    ],
)
def test_a_signed_bundle_whose_parameters_do_not_fit_its_type_is_refused(session, owner, case, problem):
    with pytest.raises(ArtifactError, match=problem):
        import_version(session=session, actor=owner, data=_malformed(case), ticker="SPX")
    assert list_model_versions(session=session, actor=owner) == []


def test_a_network_whose_config_features_differ_from_its_preprocessing_is_refused(session, owner):
    from core.forecasting.training import train_model
    from tests.core.forecasting.tiny import tiny_config

    three = unpack_any(train_model(fixture_prices(), tiny_config(features=["log_return", "hv_20", "rsi_14"])).bundle)
    config = three.preprocessing["parameters"]["config"]
    data = _with_parameters(three, config=config | {"features": ["log_return", "hv_20", "rsi_14", "range"]})
    with pytest.raises(ArtifactError, match=r"config\.features \(log_return, hv_20, rsi_14, range\) differ from"):
        import_version(session=session, actor=owner, data=data, ticker="SPX")


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("bad ticker!", r"ticker: 'bad ticker!' is not a ticker symbol"), ("   ", r"ticker: blank; type a symbol")],
)
def test_a_typed_ticker_that_is_no_ticker_is_bad_input_naming_it(session, owner, typed, problem):
    with pytest.raises(BadInput, match=problem) as raised:
        import_version(session=session, actor=owner, data=resigned(tiny_result().bundle), ticker=typed)
    assert not isinstance(raised.value, NotFound)
    assert "names no" not in str(raised.value), "the file's own ticker was fine"


def test_a_file_without_a_ticker_asks_for_one(session, owner):
    with pytest.raises(BadInput, match="the model file names no ticker: type one"):
        import_version(session=session, actor=owner, data=resigned(tiny_result().bundle, ticker=""))


def test_a_bundle_from_before_the_forecaster_interface_is_stored_as_the_lstm_it_is(session, owner):
    opened = unpack_any(tiny_result().bundle)
    parameters = opened.preprocessing["parameters"]
    legacy = parameters["preprocessing"] | {"interval_half_width": 0.02}
    config = {k: v for k, v in parameters["config"].items() if k != "model_type"}
    data = _signed(opened, legacy, parameters=config, model_type="lstm")
    version = import_version(session=session, actor=owner, data=data, ticker="SPX")
    assert (version.model_type, version.parameters["model_type"]) == ("lstm", "lstm")


def test_the_same_file_imported_twice_for_one_ticker_is_refused_naming_the_version(session, owner):
    data = resigned(tiny_result().bundle)
    first = import_version(session=session, actor=owner, data=data, ticker="SPX")
    with pytest.raises(BadInput, match=r"this file is already stored as SPX v1: nothing was imported"):
        import_version(session=session, actor=owner, data=data, ticker="SPX")
    copy = import_version(session=session, actor=owner, data=data, ticker="SPXCOPY")
    assert [v.version for v in list_model_versions(session=session, actor=owner, ticker="SPX")] == [first.version]
    assert copy.version == 1, "another ticker may hold the same model"
