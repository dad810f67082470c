"""Bundles as hostile files: zip bombs, lying headers, forged signatures, metadata outside the schema."""

import io
import json
import struct
import tracemalloc
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
