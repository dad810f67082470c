"""Split detection on synthetic 2:1 and 1:10 splits, and adjustment that matches a source's adjusted close."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from core.data.csv_prices import parse_price_csv
from core.data.splits import adjust_for_splits, split_candidates, split_events


def walk(days: int = 300, seed: int = 5) -> pd.DataFrame:
    """A random walk of closes around 100 on business days: what the market did, before any split."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, days)))
    dates = pd.bdate_range("2020-01-02", periods=days)
    frame = pd.DataFrame({"date": dates, "open": close, "high": close * 1.01, "low": close * 0.99, "close": close})
    return frame.assign(adjusted_close=close)


def with_splits(adjusted: pd.DataFrame, splits: dict[int, Fraction]) -> pd.DataFrame:
    """The raw prices a market shows, adjusted close included: before each split, prices are factor times higher."""
    raw = adjusted.copy()
    factor = np.ones(len(raw))
    for position, split in splits.items():
        factor[:position] *= float(split)
    for column in ("open", "high", "low", "close", "adjusted_close"):
        raw[column] = raw[column] * factor
    return raw


def test_a_2_for_1_and_a_1_for_10_split_are_found_with_their_dates():
    adjusted = walk()
    raw = with_splits(adjusted, {100: Fraction(2), 200: Fraction(1, 10)})
    found = split_candidates(raw)
    assert [(c.date, c.label) for c in found] == [
        (raw["date"].iloc[100].date(), "2:1"),
        (raw["date"].iloc[200].date(), "1:10"),
    ]
    assert split_candidates(adjusted) == []


def test_a_crash_that_is_no_common_factor_is_not_a_split():
    prices = walk()
    prices.loc[150:, ["close", "adjusted_close"]] *= 0.62  # -38 %: ratio 1.61, between 3:2 and 2:1
    assert split_candidates(prices) == []


def test_adjusting_by_the_found_splits_restores_continuous_returns():
    adjusted = walk()
    raw = with_splits(adjusted, {100: Fraction(2), 200: Fraction(1, 10)})
    restored = adjust_for_splits(raw, [(c.date, c.factor) for c in split_candidates(raw)])
    np.testing.assert_allclose(restored["close"], adjusted["close"], rtol=1e-12)


def test_adjusted_returns_equal_the_sources_adjusted_close():
    """An Alpha Vantage adjusted file: raw closes, its adjusted close, and the split coefficient of the day."""
    adjusted = walk(120)
    raw = with_splits(adjusted, {60: Fraction(2)})
    lines = ["timestamp,open,high,low,close,adjusted_close,volume,dividend_amount,split_coefficient"]
    for position, row in enumerate(raw.itertuples()):
        split = "2.0" if position == 60 else "1.0"
        values = (row.open, row.high, row.low, row.close, adjusted["close"].iloc[position])
        prices = ",".join(f"{value:.17g}" for value in values)
        lines.append(f"{row.date:%Y-%m-%d},{prices},1000,0.0,{split}")
    parsed = parse_price_csv("\n".join(lines[:1] + lines[:0:-1]).encode(), ticker="AV")
    events = split_events(parsed.events)
    assert events == [(raw["date"].iloc[60].date(), Fraction(2))]
    ours = adjust_for_splits(parsed.frame, events)
    returns = np.diff(np.log(ours["close"].to_numpy()))
    source = np.diff(np.log(parsed.frame["adjusted_close"].to_numpy()))
    assert returns == pytest.approx(source, abs=1e-12)


def test_a_zero_or_missing_adjusted_close_makes_no_candidate_and_no_warning():
    import warnings

    prices = walk(10)
    prices.loc[4, "adjusted_close"] = 0.0
    prices.loc[7, "adjusted_close"] = float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert split_candidates(prices) == []
