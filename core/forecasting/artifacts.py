"""A model version as one zip: the .keras file, its preprocessing as JSON, and metadata with checksums.

Nothing in it is a pickle: .keras is a zip of JSON and weights, loaded with Keras's safe mode, which
refuses Lambda layers; a file that is not exactly what the app writes is refused before Keras sees it.
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

from core.forecasting import runtime

MODEL_FILE = "model.keras"
PREPROCESSING_FILE = "preprocessing.json"
METADATA_FILE = "metadata.json"
BUNDLE_FILES = {MODEL_FILE, PREPROCESSING_FILE, METADATA_FILE}
FORMAT = "candlecast-model/1"
MAX_BUNDLE_BYTES = 50 * 1024 * 1024


class ArtifactError(ValueError):
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
    model_file: bytes
    preprocessing: dict[str, Any]
    metadata: dict[str, Any]


def pack(model_file: bytes, preprocessing: dict[str, Any], metadata: dict[str, Any]) -> bytes:
    """The zip the registry stores and exports; its metadata records the other two files' SHA-256."""
    preprocessing_file = json.dumps(preprocessing, sort_keys=True).encode()
    metadata = metadata | {
        "format": FORMAT,
        "files": {MODEL_FILE: sha256(model_file), PREPROCESSING_FILE: sha256(preprocessing_file)},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        # Fixed timestamps, so the same model packs to the same bytes and the same checksum.
        for name, data in (
            (MODEL_FILE, model_file),
            (PREPROCESSING_FILE, preprocessing_file),
            (METADATA_FILE, json.dumps(metadata, sort_keys=True, indent=2, default=str).encode()),
        ):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def unpack(data: bytes) -> Bundle:
    """Open a bundle after checking it is exactly the app's format with matching checksums."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise ArtifactError(f"model file is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArtifactError("not a model file: expected a .zip exported by Candlecast") from None
    with archive:
        names = set(archive.namelist())
        if any(name.endswith((".h5", ".hdf5", ".pkl", ".pickle")) for name in names):
            raise ArtifactError("legacy or pickled model files (.h5, .pkl) are refused; export a .keras model")
        if names != BUNDLE_FILES:
            raise ArtifactError(f"unexpected contents {sorted(names)}; expected {sorted(BUNDLE_FILES)}")
        try:
            metadata = json.loads(archive.read(METADATA_FILE))
        except json.JSONDecodeError:
            raise ArtifactError("metadata.json is not valid JSON") from None
        if metadata.get("format") != FORMAT:
            raise ArtifactError(f"unknown model format {metadata.get('format')!r}; expected {FORMAT}")
        files = {name: archive.read(name) for name in (MODEL_FILE, PREPROCESSING_FILE)}
    for name, content in files.items():
        if sha256(content) != metadata.get("files", {}).get(name):
            raise ArtifactError(f"{name} does not match its SHA-256 in metadata.json: the file was altered")
    return Bundle(files[MODEL_FILE], json.loads(files[PREPROCESSING_FILE]), metadata)


def load_keras_model(model_file: bytes) -> Any:
    """Load .keras bytes in safe mode; Lambda layers and unknown custom layers are refused."""
    keras = runtime.keras()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        path.write_bytes(model_file)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # noqa: BLE001 - every refusal becomes one clear message
            reason = str(error).splitlines()[0][:300]
            raise ArtifactError(f"the model cannot be loaded safely: {reason}") from None
