"""Tables as responses: JSON records or, when the client asks with `Accept: text/csv`, injection-safe CSV."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import repeat

import orjson
import pandas as pd
from fastapi import Request, Response

from core.data.export import to_safe_csv

CSV = "text/csv"
JSON = "application/json"
# The answer depends on the Accept header: a cache must not hand a CSV client the JSON one.
NEGOTIATED = {"Vary": "Accept"}


def wants_csv(request: Request) -> bool:
    """Whether the request's Accept header prefers CSV to JSON."""
    return prefers_csv(request.headers.get("accept"))


def prefers_csv(accept: str | None) -> bool:
    """Whether an Accept header prefers CSV to JSON (RFC 9110 §12.5.1): each is as acceptable as the most
    specific media range matching it says, q=0 is not at all, a tie goes to the more specific range,
    and then to JSON. Media types and parameter names are read in any case; a malformed range counts
    for nothing. No header, or one accepting neither, is JSON."""
    ranges = [media_range for part in (accept or "").split(",") if (media_range := _media_range(part))]
    csv, json_ = _acceptance(CSV, ranges), _acceptance(JSON, ranges)
    return csv[0] > 0 and csv > json_


def _media_range(text: str) -> tuple[str, str, float] | None:
    """(type, subtype, quality) of one range of an Accept header, lower case; None if malformed.

    Its other parameters are not compared: our answers carry none a client would ask for but charset,
    and that is always utf-8.
    """
    media, *parameters = (piece.strip().lower() for piece in text.split(";"))
    kind, slash, subtype = media.partition("/")
    if not (kind and slash and subtype) or (kind == "*" and subtype != "*"):
        return None
    quality = 1.0
    for parameter in parameters:
        name, _, value = (piece.strip() for piece in parameter.partition("="))
        if name == "q":
            if not _QUALITY.fullmatch(value):
                return None
            quality = float(value)
    return kind, subtype, quality


# RFC 9110's qvalue: 0 to 1 with at most three decimals.
_QUALITY = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")


def _acceptance(offer: str, ranges: list[tuple[str, str, float]]) -> tuple[float, int]:
    """(quality, specificity) of the most specific range matching offer; (0, 0) when none does."""
    kind, _, subtype = offer.partition("/")
    best = (0.0, 0)
    specificity_of = {(kind, subtype): 3, (kind, "*"): 2, ("*", "*"): 1}
    for range_kind, range_subtype, quality in ranges:
        specificity = specificity_of.get((range_kind, range_subtype), 0)
        if specificity > best[1]:
            best = (quality, specificity)
    return best


def _plain(frame: pd.DataFrame, dates: Sequence[str], datetimes: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for column in dates:
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    for column in datetimes:
        stamps = pd.to_datetime(out[column], utc=True)
        out[column] = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").where(stamps.notna(), None)
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = _plain_objects(out[column])
    return out


def _plain_objects(values: pd.Series) -> pd.Series:
    """Numbers stored as objects (a difference with a missing actual) stay numbers, NaN becoming null;
    anything else (UUIDs) becomes its text."""
    present = values[values.notna()]
    if present.map(lambda value: isinstance(value, int | float) and not isinstance(value, bool)).all():
        return pd.to_numeric(values, errors="coerce")
    return values.map(lambda value: None if pd.isna(value) else str(value))


def table_response(
    request: Request,
    frame: pd.DataFrame,
    *,
    key: str,
    meta: dict[str, object] | None = None,
    dates: Sequence[str] = (),
    datetimes: Sequence[str] = (),
    filename: str = "table.csv",
) -> Response:
    """{**meta, "count": n, key: [records]} as JSON, or the table as CSV; built in pandas, not row by row."""
    plain = _plain(frame, dates, datetimes)
    if wants_csv(request):
        return Response(
            to_safe_csv(_csv_booleans(plain)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"', **NEGOTIATED},
        )
    return records_response(_json_records(plain), count=len(plain), key=key, meta=meta)


def _csv_booleans(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as JSON writes them, true and false, rather than Python's True and False."""
    flags = [name for name, series in frame.items() if series.dtype.kind == "b"]
    if not flags:
        return frame
    spelt = frame.copy()
    for name in flags:
        spelt[name] = frame[name].map({True: "true", False: "false"}).astype(object).where(frame[name].notna(), None)
    return spelt


def _json_records(frame: pd.DataFrame) -> str:
    """The frame as a JSON array of records, each number in its shortest exact form, as the CSV writes it.

    Not pandas' to_json: it writes a fixed count of decimals (at most 15), so a close of 2506.850098
    reads 2506.850097999999889 at 15 and one of 6.39e-06 loses its digits at 10. orjson writes the
    shortest form (NaN as null). Whole columns become lists and rows dicts in C loops (map, zip): a
    Python loop over the rows cost about 15 % more.
    """
    columns = [_cells(series) for _, series in frame.items()]
    names = [str(name) for name in frame.columns]
    records = list(map(dict, map(zip, repeat(names), zip(*columns, strict=True))))
    # A numpy scalar left in a column of objects is still a number.
    return orjson.dumps(records, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _cells(series: pd.Series) -> list[object]:
    """A column's values as Python objects, None where missing (orjson writes a float NaN as null itself)."""
    if series.dtype.kind == "f":
        return series.to_numpy().tolist()
    if not series.hasnans:
        return series.tolist()
    return series.astype(object).where(series.notna(), None).tolist()


def records_response(records: str, *, count: int, key: str, meta: dict[str, object] | None = None) -> Response:
    """{**meta, "count": count, key: records} around a JSON array already written, not parsed again; the
    JSON side of a negotiated answer."""
    head = json.dumps({**(meta or {}), "count": count})[:-1]
    return Response(f'{head}, "{key}": {records}}}', media_type=JSON, headers=NEGOTIATED)
