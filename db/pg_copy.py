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
    return HEADER + binary_rows(count, fields) + TRAILER


def binary_rows(count: int, fields: Sequence[Field]) -> bytes:
    """count rows of a binary COPY payload, without its header and trailer.

    Rows of different layouts (another ticker, other NULLs) are built apart and joined between one
    header and one trailer: numpy lays out fixed-width records only.
    """
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
    return rows.tobytes()


def text_field(value: str) -> Field:
    """One text value repeated in every row of a segment."""
    encoded = value.encode()
    return Field(f"V{len(encoded)}", encoded)


def encoded_texts(values: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Texts as UTF-8 bytes and their lengths; rows of one length can share a segment's layout.

    Each distinct text is encoded once: a file holds many rows of few tickers.
    """
    codes, distinct = pd.factorize(np.asarray(values, dtype=object))
    encoded = np.array([str(text).encode() for text in distinct], dtype=bytes)
    lengths = np.array([len(text) for text in encoded], dtype=np.int64)
    return encoded[codes], lengths[codes]


def texts_field(encoded: np.ndarray, rows: np.ndarray, length: int) -> Field:
    """These rows' texts, all of one byte length, as one field of a segment."""
    return Field(f"V{length}", encoded[rows].astype(f"S{length}").view(f"V{length}"))


def pg_dates(values: pd.Series | np.ndarray) -> np.ndarray:
    """Dates as binary COPY carries them: days since PostgreSQL's epoch."""
    days = pd.to_datetime(values).to_numpy().astype("datetime64[D]")
    return (days - PG_EPOCH_DAY).astype(np.int32)


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
    return price_rows_of(frame.assign(ticker=ticker), owner_id=owner_id, source=source, now=now)


def price_rows_of(frame: pd.DataFrame, *, owner_id: uuid.UUID | None, source: str, now: float | None = None) -> bytes:
    """One payload of several tickers' rows (frame has a ticker column): one COPY for a whole file.

    Columns become arrays once; rows whose tickers have the same byte length share one segment,
    so a file of 500 tickers makes a handful of segments, not 500.
    """
    now = time.time() if now is None else now
    ids = uuid7_bytes(len(frame), now)
    days = pg_dates(frame["date"])
    prices = frame[list(PRICE_FIELDS)].to_numpy(dtype=float)
    volumes = frame["volume"].to_numpy(dtype=np.int64)
    owner = Field("V16", owner_id.bytes if owner_id is not None else None)
    tail = [text_field(source), Field(">i8", pg_timestamp(now))]
    tickers, lengths = encoded_texts(frame["ticker"])
    segments = []
    for length, rows in pd.Series(lengths).groupby(lengths).indices.items():
        fields = [
            Field("V16", ids[rows]),
            owner,
            texts_field(tickers, rows, int(length)),
            Field(">i4", days[rows]),
            *(Field(">f8", prices[rows, column]) for column in range(len(PRICE_FIELDS))),
            Field(">i8", volumes[rows]),
            *tail,
        ]
        segments.append(binary_rows(len(rows), fields))
    return HEADER + b"".join(segments) + TRAILER
