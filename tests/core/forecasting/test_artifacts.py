"""Bundles as hostile files: zip bombs, lying headers, forged signatures, metadata outside the schema."""

import io
import json
import re
import struct
import tracemalloc
import warnings
import zipfile

import pytest

from core.forecasting.artifacts import (
    MAX_ENTRY_BYTES,
    METADATA_FILE,
    MODEL_FILE,
    PREPROCESSING_FILE,
    ArtifactError,
    pack,
    sha256,
    unpack,
)
from tests.core.forecasting.tiny import resigned, tiny_result, unpack_any

KEY = b"k" * 32


def _deflated_zeros(name: str, size: int, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip whose entry `name` is `size` zero bytes, deflated to about a thousandth of that."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for other, content in (extra or {}).items():
            archive.writestr(other, content)
        chunk = bytes(1024 * 1024)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=size >= 2**31) as entry:
            for _ in range(size // len(chunk)):
                entry.write(chunk)
    return out.getvalue()


def _peak_while(call) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(ArtifactError) as raised:
            call()
        return tracemalloc.get_traced_memory()[1], str(raised.value)
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_inflates():
    bomb = _deflated_zeros(MODEL_FILE, 256 * 1024 * 1024, {METADATA_FILE: b"{}", PREPROCESSING_FILE: b"{}"})
    assert len(bomb) < 1024 * 1024
    peak, message = _peak_while(lambda: unpack(bomb, key=KEY))
    assert "would inflate to 268,435,456 bytes" in message
    assert peak < 8 * 1024 * 1024


def test_a_highly_compressed_entry_under_the_size_limit_is_refused():
    small = _deflated_zeros(MODEL_FILE, 32 * 1024 * 1024, {METADATA_FILE: b"{}", PREPROCESSING_FILE: b"{}"})
    with pytest.raises(ArtifactError, match=r"compressed .* to 1, a zip bomb"):
        unpack(small, key=KEY)


def test_an_entry_that_lies_about_its_size_is_never_read_beyond_the_claim():
    real = 64 * 1024 * 1024
    bomb = _deflated_zeros(METADATA_FILE, real, {PREPROCESSING_FILE: b"{}"})
    declared = struct.pack("<I", real)
    assert bomb.count(declared) == 2  # the sizes in the local header and in the central directory
    lying = bomb.replace(declared, struct.pack("<I", 1000))
    peak, message = _peak_while(lambda: unpack(lying, key=KEY))
    assert peak < 8 * 1024 * 1024
    assert message.startswith("metadata.json cannot be read: Bad CRC-32")


def test_a_bomb_inside_model_keras_is_refused_before_keras_sees_it():
    inner = _deflated_zeros("model.weights.h5", 128 * 1024 * 1024, {"config.json": b"{}", "metadata.json": b"{}"})
    original = unpack_any(tiny_result().bundle)
    metadata = {k: v for k, v in original.metadata.items() if k not in ("files", "signature")}
    with pytest.raises(ArtifactError, match=r"model\.keras: model\.weights\.h5 would inflate"):
        unpack(pack(inner, original.preprocessing, metadata, key=KEY), key=KEY)


def test_a_bundle_signed_here_is_verified_and_one_signed_elsewhere_is_not():
    bundle = resigned(tiny_result().bundle, key=KEY)
    assert unpack(bundle, key=KEY).verified
    assert not unpack(bundle, key=b"another deployment's key").verified


def test_preprocessing_multiplied_with_checksums_recomputed_is_not_verified():
    bundle = resigned(tiny_result().bundle, key=KEY)
    source = zipfile.ZipFile(io.BytesIO(bundle))
    preprocessing = json.loads(source.read(PREPROCESSING_FILE))
    window = preprocessing["parameters"]["preprocessing"]
    window["feature_scale"] = [value * 1000 for value in window["feature_scale"]]
    altered = json.dumps(preprocessing).encode()
    metadata = json.loads(source.read(METADATA_FILE))
    metadata["files"][PREPROCESSING_FILE] = sha256(altered)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr(MODEL_FILE, source.read(MODEL_FILE))
        target.writestr(PREPROCESSING_FILE, altered)
        target.writestr(METADATA_FILE, json.dumps(metadata))
    opened = unpack(out.getvalue(), key=KEY)
    assert opened.preprocessing["parameters"]["preprocessing"]["feature_scale"][0] == pytest.approx(
        unpack(bundle, key=KEY).preprocessing["parameters"]["preprocessing"]["feature_scale"][0] * 1000
    )
    assert not opened.verified


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ticker": "![X](h)"}, "ticker: is not a ticker symbol"),
        ({"metrics": {"mae": float("nan")}}, "metadata.json: NaN is not a number"),
        ({"metrics": {"verdict": "x" * 5000}}, "metrics: a text longer than 200 characters"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"model_type": "pickle"}, "model_type: Input should be"),
        ({"data_start": "yesterday"}, "data_start: Input should be a valid date"),
    ],
)
def test_metadata_outside_the_schema_is_refused(change, problem):
    with pytest.raises(ArtifactError, match=r"metadata\.json: ") as raised:
        unpack(resigned(tiny_result().bundle, key=KEY, **change), key=KEY)
    assert problem in str(raised.value)


def test_a_number_beyond_floating_point_is_refused():
    original = unpack_any(tiny_result().bundle)
    data = pack(original.model_file, original.preprocessing, {"ticker": "SPX", "metrics": {"mae": 1.5}}, key=KEY)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == METADATA_FILE:
                content = content.replace(b'"mae": 1.5', b'"mae": 1e309')
            target.writestr(name, content)
    with pytest.raises(ArtifactError, match=r"metadata\.json: metrics: inf is not a finite number"):
        unpack(out.getvalue(), key=KEY)


def test_entry_limits_cover_every_bundle_file():
    assert set(MAX_ENTRY_BYTES) == {MODEL_FILE, PREPROCESSING_FILE, METADATA_FILE}


def _zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _unsigned(preprocessing: bytes, metadata: dict | None = None) -> bytes:
    """What anyone can make: checksums right, no signature."""
    listed = {"format": "candlecast-model/1", "files": {PREPROCESSING_FILE: sha256(preprocessing)}}
    return _zip({PREPROCESSING_FILE: preprocessing, METADATA_FILE: json.dumps(listed | (metadata or {})).encode()})


DEEP = b"[" * 200_000 + b"]" * 200_000


@pytest.mark.parametrize(
    ("bundle", "problem"),
    [
        (_unsigned(DEEP), r"preprocessing\.json is nested more than \d+ levels deep"),
        (_zip({PREPROCESSING_FILE: b"{}", METADATA_FILE: b'{"format": ' + DEEP + b"}"}), r"metadata\.json is nested"),
        (_unsigned(b'{"x": ' + b"1" * 5000 + b"}"), r"preprocessing\.json: a number of 5000 digits"),
        (_unsigned(b'{"x": "\xff"}'), r"preprocessing\.json is not valid JSON \(UTF-8\)"),
    ],
    ids=["deep preprocessing", "deep metadata", "5000-digit integer", "not UTF-8"],
)
def test_json_a_parser_cannot_take_is_refused_by_name(bundle, problem):
    with pytest.raises(ArtifactError, match=problem):
        unpack(bundle, key=KEY)


def test_nesting_inside_strings_is_not_nesting():
    text = json.dumps({"parameters": {}, "note": "[" * 100 + '\\"{' * 100}).encode()
    assert unpack(_unsigned(text), key=KEY).preprocessing["note"].startswith("[[[")


def _with_flag(data: bytes, flag: int) -> bytes:
    """Every entry's general-purpose flags ORed with `flag`, in the local headers and the central directory."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        while at != -1:
            struct.pack_into("<H", out, at + offset, struct.unpack_from("<H", out, at + offset)[0] | flag)
            at = out.find(signature, at + 4)
    return bytes(out)


def _corrupt_deflate() -> bytes:
    preprocessing = b'{"parameters": {}}'
    metadata = {"format": "candlecast-model/1", "files": {PREPROCESSING_FILE: sha256(preprocessing)}}
    metadata["metrics"] = {"pad": "x" * 150}
    data = bytearray(_zip({PREPROCESSING_FILE: preprocessing, METADATA_FILE: json.dumps(metadata).encode()}, 8))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(METADATA_FILE)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start : start + info.compress_size] = b"\xff" * info.compress_size
    return bytes(data)


@pytest.mark.parametrize(
    ("bundle", "problem"),
    [
        (_with_flag(_unsigned(b'{"parameters": {}}'), 0x1), r"metadata\.json cannot be read: .*encrypted"),
        (_corrupt_deflate(), r"metadata\.json cannot be read: .*decompressing"),
        (_zip({PREPROCESSING_FILE: b"{}", METADATA_FILE: b"{}"}, zipfile.ZIP_BZIP2), r"compressed with method 12"),
    ],
    ids=["encrypted flag", "corrupt deflate stream", "bzip2"],
)
def test_a_zip_entry_that_cannot_be_read_is_refused_by_name(bundle, problem):
    with pytest.raises(ArtifactError, match=problem):
        unpack(bundle, key=KEY)


def _directory_only(count: int, declared: int | None = None) -> bytes:
    """A zip that is nothing but `count` central-directory entries named "a", its end record declaring `declared`."""
    entry = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0) + b"a"
    directory = entry * count
    declared = min(count if declared is None else declared, 0xFFFF)
    return directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, declared, declared, len(directory), 0, 0)


@pytest.mark.parametrize(
    ("declared", "problem"),
    [(None, r"declares 50,000 entries; a model file holds 3"), (1, r"central directory of 2,350,000 bytes")],
    ids=["as many declared", "one declared"],
)
def test_a_zip_of_many_entries_is_refused_before_they_are_parsed(declared, problem):
    many = _directory_only(50_000, declared)
    peak, message = _peak_while(lambda: unpack(many, key=KEY))
    assert re.search(problem, message), message
    assert peak < 1024 * 1024, "no entry was parsed"


def test_a_zip64_end_record_is_refused():
    data = _unsigned(b'{"parameters": {}}')
    end = data.rfind(b"PK\x05\x06")
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    with pytest.raises(ArtifactError, match="zip64"):
        unpack(data[:end] + locator + data[end:], key=KEY)


def _with_a_first_copy(data: bytes, name: str, content: bytes) -> bytes:
    """The zip with a second entry of one name before all the others: `unzip -p` reads the first, Python the last."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as target:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        target.writestr(name, content)
        for entry in source.namelist():
            target.writestr(entry, source.read(entry))
    return out.getvalue()


@pytest.mark.parametrize("name", [PREPROCESSING_FILE, METADATA_FILE, MODEL_FILE])
def test_a_bundle_with_two_entries_of_one_name_is_refused(name):
    bundle = _with_a_first_copy(resigned(tiny_result().bundle, key=KEY), name, b'{"note": "not signed"}')
    with pytest.raises(ArtifactError, match=rf"model file: two entries named '{re.escape(name)}'; refused"):
        unpack(bundle, key=KEY)


def test_a_model_keras_with_two_entries_of_one_name_is_refused():
    original = unpack_any(tiny_result().bundle)
    inner = _with_a_first_copy(original.model_file, "config.json", b"{}")
    metadata = {k: v for k, v in original.metadata.items() if k not in ("files", "signature")}
    with pytest.raises(ArtifactError, match=r"model\.keras: two entries named 'config\.json'; refused"):
        unpack(pack(inner, original.preprocessing, metadata, key=KEY), key=KEY)
