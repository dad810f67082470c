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
import re
import struct
import tempfile
import zipfile
import zlib
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
# Python reads other methods (bzip2, LZMA) with decoders whose errors are of other types; nothing we write uses them.
READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# A bundle and a .keras file hold three entries each; a few more are read, so that check_entries
# names the unexpected one (a legacy .h5, say), but not the thousands a zip's directory can list.
MAX_ZIP_ENTRIES = 16
# A central-directory record is 46 bytes plus its name, extra field and comment; ours and Keras's names are short.
MAX_DIRECTORY_RECORD_BYTES = 46 + 256
# The parameters of every model type nest a few levels (an ensemble's member configs, about 6);
# Python's parser recurses once per level and raises RecursionError near 1000.
MAX_JSON_DEPTH = 32
# No parameter needs more digits; Python's own limit (4300) comes with advice meant for a developer.
MAX_INTEGER_DIGITS = 100


class ArtifactError(BadInput, ValueError):
    """A model file is not one the app wrote, or has been altered; the message says which."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_bytes(model: Any) -> bytes:
    """The model in Keras's native .keras format: its architecture and weights, without an optimizer.

    A compiled model's .keras holds the optimizer's state too (Adam keeps two values per weight,
    so the file is three times the size), and Keras 3 ignores include_optimizer for .keras files.
    Forecasts load with compile=False and never read it, so what is saved is an uncompiled model
    over the same layers: no copy of the weights, and no optimizer (clone_model would compile it).
    """
    keras = runtime.keras()
    uncompiled = keras.Model(model.inputs, model.outputs, name=model.name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / MODEL_FILE
        uncompiled.save(path)
        return path.read_bytes()


@dataclass(frozen=True)
class Bundle:
    model_file: bytes | None
    preprocessing: dict[str, Any]
    metadata: dict[str, Any]
    verified: bool  # signed with this deployment's key


def content_digest(metadata: dict[str, Any]) -> str:
    """The SHA-256 of what a bundle's model is: its type, settings and files' checksums.

    It leaves out the signature and the zip's packing (both change when the key does or the file is
    zipped again) and the claims around the model (ticker, scores, dates), so one model re-signed,
    re-zipped or exported from a renamed copy digests the same. Migration 0019 computes it alike.
    """
    content = {
        "model_type": metadata.get("model_type", "lstm"),
        "parameters": metadata.get("parameters") or {},
        "files": metadata.get("files") or {},
    }
    return sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode())


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
    """Refuse, before inflating anything, entries that are unexpected, repeated, too large, or suspiciously compressed.

    A name written twice is refused: `unzip -p` reads the first entry of a name and Python the last,
    so a checksum and a signature that vouch for one say nothing of the other.
    """
    seen: set[str] = set()
    for info in archive.infolist():
        if info.filename in seen:
            raise ArtifactError(f"{what}: two entries named {info.filename[:80]!r}; refused")
        seen.add(info.filename)
        limit = limits.get(info.filename)
        if limit is None:
            raise ArtifactError(f"{what}: unexpected entry {info.filename[:80]!r}")
        if info.compress_type not in READABLE_METHODS:
            raise ArtifactError(
                f"{what}: {info.filename} is compressed with method {info.compress_type}; "
                "only stored or deflated entries are read"
            )
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
    # RuntimeError: flagged as encrypted; zlib.error: a corrupt deflate stream.
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error) as error:
        raise ArtifactError(f"{name} cannot be read: {str(error)[:200]}") from None
    if len(data) > cap:
        raise ArtifactError(f"{name} inflates beyond {cap:,} bytes; refused")
    return data


_END_RECORD = b"PK\x05\x06"
_END_RECORD_BYTES = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_BYTES = 20


def _end_record(data: bytes) -> tuple[int, int, int] | None:
    """(offset, entries declared, central directory bytes) of the end record ZipFile() will trust, or None.

    Found as zipfile finds it: at the very end when the file has no comment, else the last
    signature in the final 64 KiB.
    """
    tail = data[-_END_RECORD_BYTES:]
    if len(tail) == _END_RECORD_BYTES and tail.startswith(_END_RECORD) and tail.endswith(b"\x00\x00"):
        offset = len(data) - _END_RECORD_BYTES
    else:
        start = max(len(data) - (1 << 16) - _END_RECORD_BYTES, 0)
        found = data.rfind(_END_RECORD, start)
        if found < 0 or len(data) - found < _END_RECORD_BYTES:
            return None
        offset = found
    entries, directory_bytes = struct.unpack_from("<HL", data, offset + 10)
    return offset, entries, directory_bytes


def _check_directory(data: bytes, what: str) -> None:
    """Refuse a zip whose central directory lists more entries than a model file has, before ZipFile() parses it.

    ZipFile() builds an object for every record of the central directory; a 50 MB file can hold
    a million of them (seconds and hundreds of MB before the first one is refused).
    """
    found = _end_record(data)
    if found is None:
        return  # ZipFile() refuses it as not a zip
    offset, entries, directory_bytes = found
    if offset >= _ZIP64_LOCATOR_BYTES and data.startswith(_ZIP64_LOCATOR, offset - _ZIP64_LOCATOR_BYTES):
        raise ArtifactError(f"{what}: a zip64 archive; model files are small zips without zip64 records")
    if entries > MAX_ZIP_ENTRIES:
        raise ArtifactError(f"{what}: its zip declares {entries:,} entries; a model file holds 3")
    # ZipFile() reads records for as many bytes as the directory's declared size, whatever the count says.
    if directory_bytes > MAX_ZIP_ENTRIES * MAX_DIRECTORY_RECORD_BYTES:
        raise ArtifactError(f"{what}: a central directory of {directory_bytes:,} bytes, more than a model file's")


def _open(data: bytes, what: str) -> zipfile.ZipFile:
    _check_directory(data, MODEL_FILE if what == MODEL_FILE else "model file")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError, NotImplementedError):
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
    # NaN stays readable here: versions stored before NaN was refused may hold it among their parameters.
    preprocessing = read_json(files[PREPROCESSING_FILE], PREPROCESSING_FILE, allow_nan=True)
    if not isinstance(preprocessing, dict):
        raise ArtifactError("preprocessing.json must hold a JSON object")
    verified = verify(canonical(raw), metadata.signature, key if key is not None else signing_key())
    return Bundle(files.get(MODEL_FILE), preprocessing, raw, verified)


def _metadata(text: bytes) -> tuple[dict[str, Any], BundleMetadata]:
    """The metadata as read (what the signature covers) and as validated."""
    values = read_json(text, METADATA_FILE, allow_nan=False)
    if not isinstance(values, dict):
        raise ArtifactError("metadata.json must hold a JSON object")
    if values.get("format") != FORMAT:
        raise ArtifactError(f"unknown model format {str(values.get('format'))[:40]!r}; expected {FORMAT}")
    try:
        return values, BundleMetadata.model_validate(values)
    except ValidationError as error:
        raise ArtifactError(f"metadata.json: {describe(error)}") from None


_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def json_depth(text: str, limit: int) -> int:
    """How deep the text's arrays and objects nest, counted up to limit + 1 (brackets inside strings are text).

    Escapes go first, so every quote left opens or closes a string; each pass is linear (a 1 MB
    file takes at most 0.2 s). Text that is not JSON may be miscounted, but then the parser
    refuses it no deeper than counted.
    """
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


def read_json(data: bytes, name: str, *, allow_nan: bool) -> Any:
    """The file's JSON, or ArtifactError naming what the parser would choke on: nesting, huge integers, encoding."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ArtifactError(f"{name} is not valid JSON (UTF-8)") from None
    if json_depth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ArtifactError(f"{name} is nested more than {MAX_JSON_DEPTH} levels deep; refused")
    try:
        return json.loads(text, parse_int=_bounded_int, parse_constant=None if allow_nan else _refuse_constant)
    except json.JSONDecodeError as error:
        raise ArtifactError(f"{name} is not valid JSON: {error.msg} at character {error.pos}") from None
    except RecursionError:  # unreachable after the depth check; a traceback here would be worse than a refusal
        raise ArtifactError(f"{name} is nested too deeply; refused") from None
    except ValueError as error:
        raise ArtifactError(f"{name}: {error}") from None


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"a number of {len(digits.lstrip('-'))} digits; refused")
    return int(digits)


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
