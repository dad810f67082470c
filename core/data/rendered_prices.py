"""Price series kept as rendered JSON, so a read of any date range is a slice, not a query.

Daily prices change a few times a day at most and are read far more often. The API keeps each
series it served as one string of JSON records with the offsets of each record, checked on every
read against the series' versions in the database (db.repositories.prices.series_versions). A
write gives the series a new version, so the next read renders it again.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

Versions = dict[uuid.UUID | None, uuid.UUID]


@dataclass(frozen=True)
class RenderedSeries:
    """A series' records joined by commas, with where each record starts and ends in the text."""

    days: np.ndarray  # datetime64[D], ascending
    text: str
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, days: Sequence[date | str], records: Sequence[str]) -> RenderedSeries:
        """From the days (dates or YYYY-MM-DD), ascending, and their records."""
        lengths = np.fromiter(map(len, records), dtype=np.int64, count=len(records))
        # Record k ends where the lengths before it and k commas end.
        ends = np.cumsum(lengths + 1) - 1
        return cls(
            days=np.array(days, dtype="datetime64[D]"),
            text=",".join(records),
            starts=ends - lengths,
            ends=ends,
        )

    @property
    def size(self) -> int:
        return len(self.text)

    def between(self, start: date | None, end: date | None) -> tuple[int, str]:
        """(how many days, JSON array of their records) from start to end, both included, either open."""
        first = 0 if start is None else int(np.searchsorted(self.days, np.datetime64(start, "D"), side="left"))
        stop = len(self.days) if end is None else int(np.searchsorted(self.days, np.datetime64(end, "D"), side="right"))
        if stop <= first:
            return 0, "[]"
        return stop - first, f"[{self.text[self.starts[first] : self.ends[stop - 1]]}]"


class RenderedPrices:
    """The most recently read series, up to max_chars of text in all; safe to share between threads."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._series: OrderedDict[tuple[str, uuid.UUID | None], tuple[Versions, RenderedSeries]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, uuid.UUID | None], versions: Versions) -> RenderedSeries | None:
        """The series kept under key if it was rendered at exactly these versions."""
        with self._lock:
            kept = self._series.get(key)
            if kept is None or kept[0] != versions:
                return None
            self._series.move_to_end(key)
            return kept[1]

    def put(self, key: tuple[str, uuid.UUID | None], versions: Versions, series: RenderedSeries) -> None:
        if series.size > self.max_chars:
            return
        with self._lock:
            old = self._series.pop(key, None)
            if old is not None:
                self._chars -= old[1].size
            self._series[key] = (versions, series)
            self._chars += series.size
            while self._chars > self.max_chars:
                _, (_, dropped) = self._series.popitem(last=False)
                self._chars -= dropped.size

    def __len__(self) -> int:
        return len(self._series)
