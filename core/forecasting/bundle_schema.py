"""The schema a bundle's metadata.json must match: known keys, a ticker pattern, finite numbers, bounded text."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from core.data.tickers import MAX_TICKER_LENGTH, TICKER_PATTERN
from core.forecasting.config import MODEL_TYPES

MAX_TEXT = 200
MAX_DEPTH = 4
MAX_VALUES = 2000

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _ticker(value: str) -> str:
    if value and not TICKER_PATTERN.match(value):
        raise ValueError("is not a ticker symbol (e.g. MSFT, BRK-B, ^GSPC)")
    return value


def plain_json(value: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """The value if it is small JSON of finite numbers and short strings; ValueError naming the problem."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"more than {MAX_VALUES} values")
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"a text longer than {MAX_TEXT} characters")
        return value
    if isinstance(value, list):
        return [plain_json(item, depth + 1, budget) for item in value]
    if isinstance(value, dict):
        for key in value:
            plain_json(key, depth + 1, budget)
        return {key: plain_json(item, depth + 1, budget) for key, item in value.items()}
    raise ValueError(f"unexpected value of type {type(value).__name__}")


PlainJson = Annotated[dict[str, Any], AfterValidator(plain_json)]


class BundleMetadata(BaseModel):
    """metadata.json of a bundle; anything else in it is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str
    files: dict[Literal["model.keras", "preprocessing.json"], Sha256Hex]
    signature: Sha256Hex | None = None
    ticker: Annotated[str, StringConstraints(max_length=MAX_TICKER_LENGTH), AfterValidator(_ticker)] = ""
    model_type: Literal[MODEL_TYPES] = "lstm"  # type: ignore[valid-type]
    parameters: PlainJson = Field(default_factory=dict)
    metrics: PlainJson = Field(default_factory=dict)
    data_start: date | None = None
    data_end: date | None = None
    data_hash: Sha256Hex | None = None
    trained_at: datetime | None = None


def describe(error: ValidationError) -> str:
    """One short phrase per problem, naming the key; never echoing the offending value at length."""
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "metadata"
        problems.append(f"{where[:80]}: {item['msg'].removeprefix('Value error, ')[:120]}")
    return "; ".join(problems)
