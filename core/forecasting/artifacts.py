"""A model version as one zip: parameters as JSON, metadata with checksums and a signature, maybe a .keras file.

Nothing in it is a pickle: parameters are JSON, and a .keras file is a zip of JSON and weights,
loaded with Keras's safe mode, which refuses Lambda layers. A file that is not exactly what the app
writes is refused before anything inflates more than a bounded number of bytes, and before Keras
sees it. The metadata records each other file's SHA-256 and is signed with this deployment's key
(HMAC-SHA256), so a bundle altered anywhere and re-hashed no longer carries a valid signature.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from common.errors import BadInput
from core.forecasting import runtime
from core.forecasting.bundle_schema import BundleMetadata, describe
from core.forecasting.signing import sign, signing_key, verify

MODEL_FILE = "model.keras"
PREPROCESSING_FILE = "preprocessing.json"
METADATA_FILE = "metadata.json"
FORMAT = "candlecast-model/1"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024
# What each entry may inflate to; a small LSTM's .keras is tens of KB, its JSON a few KB.
MAX_ENTRY_BYTES = {MODEL_FILE: 64 * 1024 * 1024, PREPROCESSING_FILE: 1024 * 1024, METADATA_FILE: 1024 * 1024}
# What Keras itself will inflate from inside model.keras.
KERAS_ENTRIES = {"metadata.json": 1024 * 1024, "config.json": 4 * 1024 * 1024, "model.weights.h5": 64 * 1024 * 1024}
# Our own bundles are stored uncompressed; JSON and weights never deflate beyond this.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 64 * 1024


class ArtifactError(BadInput, ValueError):
    """A model file is not one the app wrote, or has been altered; the message says which."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_bytes(model: Any) -> bytes:
    """The model in Keras's native .keras format."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        model.save(path)
        return path.read_bytes()


@dataclass(frozen=True)
class Bundle:
    model_file: bytes | None
    preprocessing: dict[str, Any]
    metadata: dict[str, Any]
    verified: bool  # signed with this deployment's key


def canonical(metadata: dict[str, Any]) -> bytes:
    """The bytes a signature covers: the metadata without its signature, keys sorted, compact."""
    unsigned = {key: value for key, value in metadata.items() if key != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), default=str).encode()


def pack(
    model_file: bytes | None,
    preprocessing: dict[str, Any],
    metadata: dict[str, Any],
    *,
    key: bytes | None = None,
) -> bytes:
    """The zip the registry stores and exports, signed with this deployment's key unless another is given."""
    preprocessing_file = json.dumps(preprocessing, sort_keys=True).encode()
    contents = {PREPROCESSING_FILE: preprocessing_file} | ({MODEL_FILE: model_file} if model_file is not None else {})
    metadata = metadata | {"format": FORMAT, "files": {name: sha256(data) for name, data in contents.items()}}
    # Round-trip first, so the signed bytes are exactly what a reader will rebuild from the file.
    metadata = json.loads(json.dumps(metadata, default=str))
    metadata["signature"] = sign(canonical(metadata), key if key is not None else signing_key())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        # Fixed timestamps, so the same model packs to the same bytes and the same checksum.
        for name, data in (*contents.items(), (METADATA_FILE, json.dumps(metadata, sort_keys=True, indent=2).encode())):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def check_entries(archive: zipfile.ZipFile, limits: dict[str, int], what: str) -> None:
    """Refuse, before inflating anything, entries that are unexpected, too large, or suspiciously compressed."""
    for info in archive.infolist():
        limit = limits.get(info.filename)
        if limit is None:
            raise ArtifactError(f"{what}: unexpected entry {info.filename[:80]!r}")
        if info.file_size > limit:
            raise ArtifactError(f"{what}: {info.filename} would inflate to {info.file_size:,} bytes (limit {limit:,})")
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ArtifactError(f"{what}: {info.filename} is compressed {ratio:,.0f} to 1, a zip bomb; refused")


def read_capped(archive: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """An entry's bytes, never inflating more than cap + 1 of them whatever its header claims."""
    try:
        with archive.open(name) as stream:
            data = stream.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise ArtifactError(f"{name} cannot be read: {str(error)[:200]}") from None
    if len(data) > cap:
        raise ArtifactError(f"{name} inflates beyond {cap:,} bytes; refused")
    return data


def _open(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        if what == MODEL_FILE:
            raise ArtifactError("model.keras is not a Keras model file") from None
        raise ArtifactError("not a model file: expected a .zip exported by Candlecast") from None


def unpack(data: bytes, *, key: bytes | None = None) -> Bundle:
    """Open a bundle after checking its size, entries, schema and checksums; `verified` says whose signature."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise ArtifactError(f"model file is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB")
    with _open(data, "bundle") as archive:
        names = set(archive.namelist())
        if any(name.endswith((".h5", ".hdf5", ".pkl", ".pickle", ".joblib")) for name in names):
            raise ArtifactError("legacy or pickled model files (.h5, .pkl) are refused; export a .keras model")
        check_entries(archive, MAX_ENTRY_BYTES, "model file")
        if METADATA_FILE not in names or PREPROCESSING_FILE not in names:
            expected = f"{METADATA_FILE} and {PREPROCESSING_FILE}"
            raise ArtifactError(f"unexpected contents {sorted(names)}; expected {expected}")
        raw, metadata = _metadata(read_capped(archive, METADATA_FILE, MAX_ENTRY_BYTES[METADATA_FILE]))
        if set(metadata.files) != names - {METADATA_FILE}:
            raise ArtifactError(f"unexpected contents {sorted(names)}; metadata.json lists {sorted(metadata.files)}")
        files = {name: read_capped(archive, name, MAX_ENTRY_BYTES[name]) for name in metadata.files}
    for name, content in files.items():
        if sha256(content) != metadata.files[name]:
            raise ArtifactError(f"{name} does not match its SHA-256 in metadata.json: the file was altered")
    if MODEL_FILE in files:
        with _open(files[MODEL_FILE], MODEL_FILE) as inner:
            check_entries(inner, KERAS_ENTRIES, MODEL_FILE)
    try:
        preprocessing = json.loads(files[PREPROCESSING_FILE])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError("preprocessing.json is not valid JSON") from None
    if not isinstance(preprocessing, dict):
        raise ArtifactError("preprocessing.json must hold a JSON object")
    verified = verify(canonical(raw), metadata.signature, key if key is not None else signing_key())
    return Bundle(files.get(MODEL_FILE), preprocessing, raw, verified)


def _metadata(text: bytes) -> tuple[dict[str, Any], BundleMetadata]:
    """The metadata as read (what the signature covers) and as validated."""
    try:
        values = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ArtifactError("metadata.json is not valid JSON") from None
    except ValueError as error:
        raise ArtifactError(f"metadata.json: {error}") from None
    if not isinstance(values, dict):
        raise ArtifactError("metadata.json must hold a JSON object")
    if values.get("format") != FORMAT:
        raise ArtifactError(f"unknown model format {str(values.get('format'))[:40]!r}; expected {FORMAT}")
    try:
        return values, BundleMetadata.model_validate(values)
    except ValidationError as error:
        raise ArtifactError(f"metadata.json: {describe(error)}") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def load_keras_model(model_file: bytes) -> Any:
    """Load .keras bytes in safe mode; Lambda layers and unknown custom layers are refused."""
    keras = runtime.keras()

    with _open(model_file, MODEL_FILE) as inner:
        check_entries(inner, KERAS_ENTRIES, MODEL_FILE)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        path.write_bytes(model_file)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # noqa: BLE001 - every refusal becomes one clear message
            reason = str(error).splitlines()[0][:300]
            raise ArtifactError(f"the model cannot be loaded safely: {reason}") from None
