"""PostgreSQL's binary COPY format for price rows, built with numpy instead of a Python loop.

Text COPY spends most of its time formatting floats; the binary format is the numbers' own bytes.
Row ids are UUIDv7 (time-ordered), so the primary key index grows at its right edge.
"""

from __future__ import annotations

import os
import struct
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
PG_EPOCH_DAY = np.datetime64("2000-01-01", "D")
PG_EPOCH_SECONDS = 946_684_800
PRICE_FIELDS = ("open", "high", "low", "close", "adjusted_close")
COLUMNS = (
    "id", "owner_id", "ticker", "date", *PRICE_FIELDS, "volume", "source", "last_updated",
)  # fmt: skip
_COUNTER_SPAN = 4096  # 12 bits of sequence after each millisecond


def uuid7_bytes(count: int, now: float | None = None) -> np.ndarray:
    """count UUIDv7 values in increasing order, as 16-byte records."""
    start_ms = int((time.time() if now is None else now) * 1000)
    index = np.arange(count, dtype=np.uint64)
    millis = np.uint64(start_ms) + index // np.uint64(_COUNTER_SPAN)
    counter = index % np.uint64(_COUNTER_SPAN)
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    for position in range(6):
        raw[:, position] = (millis >> np.uint64(8 * (5 - position))) & np.uint64(0xFF)
    raw[:, 6] = 0x70 | ((counter >> np.uint64(8)) & np.uint64(0x0F)).astype(np.uint8)
    raw[:, 7] = (counter & np.uint64(0xFF)).astype(np.uint8)
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw.view("V16").ravel()


@dataclass(frozen=True)
class Field:
    """One column of a COPY payload: a fixed-width big-endian type and its values (None: NULL in every row)."""

    dtype: str
    values: np.ndarray | bytes | int | float | None


def binary_payload(count: int, fields: Sequence[Field]) -> bytes:
    """A complete COPY ... (FORMAT binary) payload of count rows, every field fixed-width or NULL."""
    layout: list[tuple[str, str]] = [("count", ">i2")]
    for position, field in enumerate(fields):
        layout.append((f"len{position}", ">i4"))
        if field.values is not None:
            layout.append((f"v{position}", field.dtype))
    rows = np.empty(count, dtype=np.dtype(layout))
    rows["count"] = len(fields)
    for position, field in enumerate(fields):
        if field.values is None:
            rows[f"len{position}"] = -1
            continue
        rows[f"len{position}"] = np.dtype(field.dtype).itemsize
        value = field.values
        if isinstance(value, bytes):
            value = np.frombuffer(value, dtype=field.dtype)[0]
        rows[f"v{position}"] = value
    return HEADER + rows.tobytes() + TRAILER


def pg_timestamp(now: float) -> int:
    """Microseconds since PostgreSQL's epoch, as timestamptz travels in binary COPY."""
    return int((now - PG_EPOCH_SECONDS) * 1_000_000)


def uuid_bytes(values: Sequence[str]) -> np.ndarray:
    """UUIDs as text (with or without dashes) to 16-byte records, in one pass."""
    packed = bytes.fromhex("".join(values).replace("-", ""))
    return np.frombuffer(packed, dtype="V16")


def price_rows(
    frame: pd.DataFrame, *, ticker: str, owner_id: uuid.UUID | None, source: str, now: float | None = None
) -> bytes:
    """A complete COPY ... (FORMAT binary) payload of historical_data rows, in the order of COLUMNS."""
    now = time.time() if now is None else now
    ticker_bytes, source_bytes = ticker.encode(), source.encode()
    days = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
    fields = [
        Field("V16", uuid7_bytes(len(frame), now)),
        Field("V16", owner_id.bytes if owner_id is not None else None),
        Field(f"V{len(ticker_bytes)}", ticker_bytes),
        Field(">i4", (days - PG_EPOCH_DAY).astype(np.int32)),
        *(Field(">f8", frame[name].to_numpy(dtype=float)) for name in PRICE_FIELDS),
        Field(">i8", frame["volume"].to_numpy(dtype=np.int64)),
        Field(f"V{len(source_bytes)}", source_bytes),
        Field(">i8", pg_timestamp(now)),
    ]
    return binary_payload(len(frame), fields)
