"""Stock splits: candidates found in adjusted closes by one-day ratios near common factors, and adjustment by them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import numpy as np
import pandas as pd

# New shares per old share. 5:4 and smaller are left out: a 20 % day is a market move as often as a split.
COMMON_FACTORS = tuple(
    Fraction(new, old)
    for new, old in (
        (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (10, 1), (15, 1), (20, 1), (3, 2),
        (1, 2), (1, 3), (1, 4), (1, 5), (1, 8), (1, 10), (1, 15), (1, 20), (1, 25), (1, 50), (2, 3),
    )
)  # fmt: skip
TOLERANCE = 0.05
# For steps of close / adjusted close, where a 20 % day of the market leaves no trace: the small splits too.
SHARE_FACTORS = (
    *COMMON_FACTORS,
    *(Fraction(new, old) for new, old in ((5, 4), (4, 3), (6, 5), (4, 5), (3, 4), (5, 6))),
)
STEP_TOLERANCE = 0.01


@dataclass(frozen=True)
class SplitCandidate:
    """A day whose close fell or rose by close to a split factor; to be confirmed by a person."""

    date: date
    factor: Fraction  # new shares per old share: 2 for 2:1, 1/10 for 1:10
    observed_ratio: float  # previous adjusted close / adjusted close

    @property
    def label(self) -> str:
        return f"{self.factor.numerator}:{self.factor.denominator}"

    def to_dict(self) -> dict[str, object]:
        return {"date": self.date.isoformat(), "split": self.label, "observed_ratio": round(self.observed_ratio, 4)}


def split_candidates(prices: pd.DataFrame, *, tolerance: float = TOLERANCE) -> list[SplitCandidate]:
    """Days where the previous adjusted close / adjusted close is within tolerance of a common split factor.

    The adjusted close is what returns are computed from: a raw close that halves beside an adjusted
    close that runs through the day is a split already accounted for, and confirming it would
    divide the adjusted closes a second time. prices: columns date and adjusted_close.
    """
    days = pd.to_datetime(prices["date"]).to_numpy().astype("datetime64[D]")
    return split_candidates_of(days, prices["adjusted_close"].to_numpy(dtype=float), tolerance=tolerance)


def split_candidates_of(days: np.ndarray, prices: np.ndarray, *, tolerance: float = TOLERANCE) -> list[SplitCandidate]:
    """split_candidates on arrays: days (datetime64[D]) and adjusted closes, in date order."""
    if len(prices) < 2:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        # A missing or zero adjusted close makes no ratio: no candidate, and no warning in the logs.
        ratios = prices[:-1] / prices[1:]
        moves = np.abs(np.log(ratios))
    found = []
    for position in np.flatnonzero(np.isfinite(moves) & (moves > np.log(1.4))):
        ratio = float(ratios[position])
        factor = min(COMMON_FACTORS, key=lambda f: abs(ratio / float(f) - 1))
        if shows_split(ratio, 1.0, float(factor), tolerance=tolerance):
            found.append(SplitCandidate(days[position + 1].astype(object), factor, ratio))
    return found


def split_steps(
    days: np.ndarray, close_over_adjusted: np.ndarray, *, tolerance: float = STEP_TOLERANCE
) -> list[SplitCandidate]:
    """Days where close / adjusted close steps by a split factor from the day before, small ones (5:4, 6:5) included.

    The ratio of the traded close to the adjusted one moves only when the adjustment does: by the split's
    factor on its day, by a dividend's few percent on its ex-day, and not at all with the market. A step
    within 1 % of a split factor is that split: the nearest factor, 6:5, is a 20 % step, so a cash
    dividend would have to be 19 % to 21 % of the price to be taken for a split, and one of up to 18 %
    is not. The step is a ratio of ratios, exact but for the rounding of the stored adjusted closes
    (0.02 % at four decimals of a close of 0.50). days: datetime64[D]; both in date order.
    """
    if len(close_over_adjusted) < 2:
        return []
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = close_over_adjusted[:-1] / close_over_adjusted[1:]
        moves = np.abs(np.log(steps))
    found = []
    smallest = min(abs(np.log(float(factor))) for factor in SHARE_FACTORS)
    for position in np.flatnonzero(np.isfinite(moves) & (moves > smallest * (1 - 2 * tolerance))):
        step = float(steps[position])
        factor = min(SHARE_FACTORS, key=lambda f: abs(step / float(f) - 1))
        if shows_split(step, 1.0, float(factor), tolerance=tolerance):
            found.append(SplitCandidate(days[position + 1].astype(object), factor, step))
    return found


def shows_split(before: np.ndarray, on: np.ndarray, factor: np.ndarray, *, tolerance: float = TOLERANCE) -> np.ndarray:
    """Whether a price series still moves by each split's factor from the day before to the split's day.

    A series that does was not adjusted for that split; one that runs through it was.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(before / on / factor - 1) <= tolerance


def split_events(events: pd.DataFrame | None) -> list[tuple[date, Fraction]]:
    """Splits a source reported (Alpha Vantage's split_coefficient, Yahoo's Stock Splits): coefficients other than 1."""
    if events is None or "split" not in events.columns:
        return []
    reported = events[(events["split"].notna()) & (events["split"] > 0) & (events["split"] != 1.0)]
    return [
        (pd.Timestamp(day).date(), Fraction(float(value)).limit_denominator(100))
        for day, value in zip(reported["date"], reported["split"], strict=True)
    ]


def adjust_for_splits(prices: pd.DataFrame, splits: list[tuple[date, Fraction]]) -> pd.DataFrame:
    """Prices before each split divided by its factor (volumes multiplied), so returns are continuous."""
    adjusted = prices.copy()
    days = pd.to_datetime(adjusted["date"])
    factor = np.ones(len(adjusted))
    for day, split in splits:
        factor[(days < pd.Timestamp(day)).to_numpy()] *= float(split)
    for column in ("open", "high", "low", "close"):
        if column in adjusted.columns:
            adjusted[column] = adjusted[column] / factor
    if "volume" in adjusted.columns:
        adjusted["volume"] = adjusted["volume"] * factor
    return adjusted
