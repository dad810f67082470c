"""The model registry: save a trained run as a version, activate, compare, delete, load, export, import."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from common.errors import BadInput, NotFound
from core.audit import record_event
from core.auth.roles import Permission, require
from core.data.tickers import TickerError, normalise_ticker
from core.forecasting.artifacts import ArtifactError, content_digest, pack, sha256, unpack
from core.forecasting.bundles import Restored, check_reference_forecast, reads_price_levels, restore_bundle
from core.forecasting.config import parse_config
from core.forecasting.training import TrainingResult
from db.models import ModelVersion
from db.repositories.actor import Actor
from db.repositories.models import (
    activate_if_none_is,
    activate_model_version,
    add_model_version,
    delete_model_version,
    find_version_by_content,
    get_model_version,
    list_model_versions,
    lock_ticker,
)
from db.repositories.predictions import count_predictions_of


class RegistryError(NotFound, LookupError):
    """No such version for this user, or a request the registry refuses; the message says which."""


class DuplicateVersionError(BadInput):
    """The model to import is already stored as a version of the same ticker (however it was signed or zipped)."""


def save_version(*, session: Session, actor: Actor, ticker: str, result: TrainingResult) -> ModelVersion:
    """Store a trained run; the first version of a ticker becomes the active one."""
    try:
        metadata = unpack(result.bundle).metadata
    except ArtifactError:  # never a trained bundle (packing opens it once); test doubles store stand-in bytes
        metadata = {}
    version = add_model_version(
        session=session,
        actor=actor,
        ticker=ticker,
        model_type=result.model_type,
        parameters=result.parameters,
        metrics=result.metrics | {"verdict": result.verdict, "history": result.history},
        data_start=result.data_start,
        data_end=result.data_end,
        data_hash=result.data_hash,
        artifact=result.bundle,
        artifact_sha256=result.bundle_sha256,
        content_sha256=content_digest(metadata) if metadata else None,
        trained_on=_trained_on(metadata, ticker),
    )
    # A ticker's first version, trained or imported, is the one its predictions use; so is a version
    # saved while the active one was being deleted.
    activate_if_none_is(session=session, version=version)
    return version


def owned_version(*, session: Session, actor: Actor, version_id: uuid.UUID) -> ModelVersion:
    version = get_model_version(session=session, actor=actor, version_id=version_id)
    if version is None:
        raise RegistryError("no such model version")
    return version


def activate(*, session: Session, actor: Actor, version_id: uuid.UUID) -> ModelVersion:
    """Make the version its ticker's active one; refused (the active one kept) when its artifact fails its SHA-256."""
    require(actor, Permission.TRAIN)
    version = owned_version(session=session, actor=actor, version_id=version_id)
    _checked_digest(version, "activate")
    activate_model_version(session=session, version=version)
    record_event(
        session=session,
        action="model activate",
        status="ok",
        actor=actor,
        detail=f"{version.ticker} v{version.version}",
    )
    return version


def delete(*, session: Session, actor: Actor, version_id: uuid.UUID) -> int:
    """Delete the version; its predictions stay in the ledger, unlinked. Returns how many there are.

    Deleting the active version makes the newest remaining one whose artifact passes its SHA-256 active:
    a ticker with a loadable version left is never without a model to predict with, and one that would
    only fail every forecast is never made the model predictions use (with none such, none is active).
    """
    require(actor, Permission.TRAIN)
    version = owned_version(session=session, actor=actor, version_id=version_id)
    detail = f"{version.ticker} v{version.version}"
    kept = count_predictions_of(session=session, version=version)
    ticker = version.ticker
    was_active = delete_model_version(session=session, version=version)
    if was_active:
        loadable = (v for v in list_model_versions(session=session, actor=actor, ticker=ticker) if _intact(v))
        successor = next(loadable, None)
        if successor is not None:
            activate_model_version(session=session, version=successor)
            detail += f"; v{successor.version} active"
    record_event(session=session, action="model delete", status="ok", actor=actor, detail=detail)
    return kept


@dataclass
class LoadedModel:
    version: ModelVersion
    model: Restored  # the forecaster of the version's type, with its interval width
    metadata: dict[str, Any]


CACHED_MODELS = 16  # loaded models kept per process; a small LSTM takes about a megabyte
_loaded: OrderedDict[str, tuple[Restored, dict[str, Any]]] = OrderedDict()
_loaded_lock = threading.Lock()


def load_version(version: ModelVersion) -> LoadedModel:
    """The version's forecaster, after its stored SHA-256 checks out and its parameters validate.

    Loaded models are kept per process under the SHA-256 of the artifact's bytes as read now, so a
    repeated predict skips unzipping and Keras; bytes altered in the database hash differently and
    are refused before any cache is consulted.
    """
    digest = _checked_digest(version, "load")
    with _loaded_lock:
        cached = _loaded.get(digest)
        if cached is not None:
            _loaded.move_to_end(digest)
    if cached is None:
        bundle = unpack(version.artifact)
        try:
            cached = (restore_bundle(bundle), bundle.metadata)
        except ValueError as error:
            raise ArtifactError(f"{version.ticker} v{version.version}: {error}") from None
        with _loaded_lock:
            _loaded[digest] = cached
            while len(_loaded) > CACHED_MODELS:
                _loaded.popitem(last=False)
    return LoadedModel(version, *cached)


def _intact(version: ModelVersion) -> bool:
    return sha256(version.artifact) == version.artifact_sha256


def _checked_digest(version: ModelVersion, action: str) -> str:
    """The SHA-256 of the stored artifact, refused unless it is the one stored beside it."""
    digest = sha256(version.artifact)
    if digest != version.artifact_sha256:
        name = f"{version.ticker} v{version.version}"
        raise ArtifactError(f"{name}: the stored artifact does not match its SHA-256; refusing to {action} it")
    return digest


def export_artifact(version: ModelVersion) -> bytes:
    """The version's bundle as a file this deployment imports: signed with its current key.

    A stored bundle keeps the signature it was trained or imported with. After the key changes
    (COOKIE_KEY rotated, MODEL_SIGNING_KEY set) or for versions stored before bundles were signed,
    that signature is no longer this deployment's, and its own export would be refused. The stored
    SHA-256 is what vouches for the bytes, so only bytes that still match it are signed again. The
    file keeps the ticker it names: the one its model was fitted on.
    """
    _checked_digest(version, "export")
    bundle = unpack(version.artifact)
    if bundle.verified:
        return version.artifact  # the very bytes stored
    unsigned = {key: value for key, value in bundle.metadata.items() if key not in ("files", "signature")}
    return pack(bundle.model_file, bundle.preprocessing, unsigned)


def export_filename(version: ModelVersion) -> str:
    """The name export_file gives the version's file, from its row alone (its artifact is not read, so a page
    can name the file before anyone asks for it). candlecast-SPX-v3.zip; a copy imported under another ticker
    is named first after the ticker its file names, where an import that keeps the file's ticker lands, then
    after the version it is: candlecast-SPX-from-SMALL-v1.zip."""
    # trained_on is the ticker the file names, where it is not the version's own.
    if version.trained_on:
        return f"candlecast-{_file_safe(version.trained_on)}-from-{_file_safe(version.ticker)}-v{version.version}.zip"
    return f"candlecast-{_file_safe(version.ticker)}-v{version.version}.zip"


def export_file(version: ModelVersion) -> tuple[str, bytes]:
    """The export's file name and bytes."""
    return export_filename(version), export_artifact(version)


def _file_safe(ticker: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in ticker)


NOT_EVALUATED = "not evaluated here: imported, so its scores are not this deployment's measurements"


def import_version(*, session: Session, actor: Actor, data: bytes, ticker: str | None = None) -> ModelVersion:
    """Register a bundle this deployment exported: signature, schema and checksums verified, the model loaded safely.

    Bundles signed by another key (or altered and re-hashed) are refused. The scores a bundle carries
    are not taken as facts: the version is stored as not evaluated here.
    """
    require(actor, Permission.TRAIN)
    bundle = unpack(data)
    if not bundle.verified:
        raise ArtifactError(
            "the model file is not signed by this deployment (or was altered after export): "
            "only bundles exported here can be imported"
        )
    metadata = bundle.metadata
    symbol = _import_ticker(ticker, str(metadata.get("ticker") or ""))
    trained_on = _trained_on(metadata, symbol)
    kind = str(metadata.get("model_type", "lstm"))  # bundles from before other types were LSTMs
    try:
        # The type is the one the bundle restores as; bundles from before the Forecaster interface
        # keep an LSTM's settings without naming a type, which would read as the default "auto".
        parameters = parse_config(**(metadata.get("parameters", {}) | {"model_type": kind})).model_dump(mode="json")
        # Validates the parameters for the type; a .keras file loads in safe mode (no Lambda or custom layers).
        restored = restore_bundle(bundle)
        check_reference_forecast(restored)
    except ValueError as error:
        raise ArtifactError(str(error)) from None
    if trained_on and reads_price_levels(restored):
        raise ArtifactError(
            f"this model reads price levels (the close) of {trained_on}, not only its moves: on {symbol}'s prices "
            f"its forecasts would mean nothing; import it under {trained_on}, or train one on {symbol}"
        )
    # Under the ticker's lock, taken before anything of it is read: two imports of one file at once
    # see each other's version, as saves, activations and deletions do.
    lock_ticker(session=session, actor=actor, ticker=symbol)
    content = content_digest(metadata)
    stored = find_version_by_content(session=session, actor=actor, ticker=symbol, content_sha256=content)
    if stored is not None:
        # A second copy would forecast exactly as the first, without the first's own scores.
        raise DuplicateVersionError(
            f"this file is already stored as {symbol} v{stored.version}: nothing was imported "
            "(type another ticker to keep a copy under it)"
        )
    version = add_model_version(
        session=session,
        actor=actor,
        ticker=symbol,
        model_type=kind,
        parameters=parameters,
        metrics={"imported": True, "evaluated": False, "verdict": NOT_EVALUATED},
        data_start=_date(metadata.get("data_start")),
        data_end=_date(metadata.get("data_end")),
        data_hash=metadata.get("data_hash"),
        artifact=data,
        artifact_sha256=sha256(data),
        content_sha256=content,
        trained_on=trained_on,
    )
    activate_if_none_is(session=session, version=version)
    detail = f"{symbol} v{version.version}" + (f" (trained on {trained_on})" if trained_on else "")
    record_event(session=session, action="model import", status="ok", actor=actor, detail=detail)
    return version


def _trained_on(metadata: dict[str, Any], ticker: str) -> str | None:
    """The ticker the bundle says its model was fitted on, when it is not `ticker`; None when the same or unnamed."""
    try:
        named = normalise_ticker(str(metadata.get("ticker") or ""))
    except TickerError:
        return None
    return named if named != ticker else None


def _import_ticker(typed: str | None, named: str) -> str:
    """The ticker typed on the import form, else the one the file names; TickerError says which is wrong."""
    if typed:  # empty keeps the file's; spaces alone are a typing slip, refused rather than guessed
        if not typed.strip():
            keep = f" ({named})" if named else ""
            raise TickerError(f"ticker: blank; type a symbol, or leave the field empty to keep the file's ticker{keep}")
        try:
            return normalise_ticker(typed)
        except TickerError as error:
            raise TickerError(f"ticker: {error}") from None
    if not named:
        raise TickerError("the model file names no ticker: type one in the Ticker field")
    try:
        return normalise_ticker(named)
    except TickerError as error:
        raise TickerError(f"the model file's ticker: {error}; type one in the Ticker field") from None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
