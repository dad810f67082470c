"""PostgreSQL's binary COPY format for price rows, built with numpy instead of a Python loop.

Text COPY spends most of its time formatting floats; the binary format is the numbers' own bytes.
Row ids are UUIDv7 (time-ordered), so the primary key index grows at its right edge.
"""

from __future__ import annotations

import os
import struct
import time
import uuid

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


def price_rows(
    frame: pd.DataFrame, *, ticker: str, owner_id: uuid.UUID | None, source: str, now: float | None = None
) -> bytes:
    """A complete COPY ... (FORMAT binary) payload of historical_data rows, in the order of COLUMNS."""
    now = time.time() if now is None else now
    ticker_bytes, source_bytes = ticker.encode(), source.encode()
    fields: list[tuple[str, str]] = [("count", ">i2"), ("id_len", ">i4"), ("id", "V16"), ("owner_len", ">i4")]
    if owner_id is not None:
        fields.append(("owner", "V16"))
    fields += [
        ("ticker_len", ">i4"),
        ("ticker", f"V{len(ticker_bytes)}"),
        ("date_len", ">i4"),
        ("date", ">i4"),
    ]
    for name in PRICE_FIELDS:
        fields += [(f"{name}_len", ">i4"), (name, ">f8")]
    fields += [("volume_len", ">i4"), ("volume", ">i8")]
    fields += [
        ("source_len", ">i4"),
        ("source", f"V{len(source_bytes)}"),
        ("updated_len", ">i4"),
        ("updated", ">i8"),
    ]

    rows = np.empty(len(frame), dtype=np.dtype(fields))
    rows["count"] = len(COLUMNS)
    rows["id_len"], rows["id"] = 16, uuid7_bytes(len(frame), now)
    if owner_id is None:
        rows["owner_len"] = -1  # NULL
    else:
        rows["owner_len"], rows["owner"] = 16, np.frombuffer(owner_id.bytes, dtype="V16")[0]
    rows["ticker_len"], rows["ticker"] = (
        len(ticker_bytes),
        np.frombuffer(ticker_bytes, dtype=rows.dtype["ticker"])[0],
    )
    days = pd.to_datetime(frame["date"]).to_numpy().astype("datetime64[D]")
    rows["date_len"], rows["date"] = 4, (days - PG_EPOCH_DAY).astype(np.int32)
    for name in PRICE_FIELDS:
        rows[f"{name}_len"], rows[name] = 8, frame[name].to_numpy(dtype=float)
    rows["volume_len"], rows["volume"] = 8, frame["volume"].to_numpy(dtype=np.int64)
    rows["source_len"], rows["source"] = (
        len(source_bytes),
        np.frombuffer(source_bytes, dtype=rows.dtype["source"])[0],
    )
    rows["updated_len"], rows["updated"] = 8, int((now - PG_EPOCH_SECONDS) * 1_000_000)
    return HEADER + rows.tobytes() + TRAILER
