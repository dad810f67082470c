"""Parameters as typed on the Indicators page: what cannot be used is named by its label, the rest kept."""

from core.indicator_view import IndicatorParams, checked_params

WIDGETS = {"rsi_period": 14, "hv_window": 20, "bb_window": 20, "bb_k": 2.0, "atr_period": 14, "macd_signal": 9}


def test_good_parameters_pass_unchanged_with_each_span_once():
    params, problems = checked_params(" 50,12 ,, 50", macd_fast=5, macd_slow=35, **WIDGETS | {"rsi_period": 7})
    assert problems == []
    assert params == IndicatorParams(ema_spans=(50, 12), macd_fast=5, macd_slow=35, rsi_period=7)


def test_span_parts_that_cannot_be_spans_are_named_and_left_out():
    params, problems = checked_params("12, abc, 7.5, -3, 1, ²", macd_fast=12, macd_slow=26, **WIDGETS)
    assert params.ema_spans == (12,)
    assert problems == [
        "EMA spans: 'abc', '7.5', '-3', '²' are not whole numbers; ignored.",
        "EMA spans: '1' is below 2; ignored.",
    ]


def test_a_long_part_is_quoted_short():
    _, problems = checked_params("x" * 500, macd_fast=12, macd_slow=26, **WIDGETS)
    assert problems == [f"EMA spans: '{'x' * 20}…' is not a whole number; ignored."]


def test_a_macd_fast_not_below_slow_gives_way_to_the_default_pair():
    params, problems = checked_params("12", macd_fast=40, macd_slow=26, **WIDGETS | {"macd_signal": 5})
    assert (params.macd_fast, params.macd_slow, params.macd_signal) == (12, 26, 5), "signal was fine: kept"
    assert problems == [
        "MACD fast (40) must be below MACD slow (26): MACD is drawn with the defaults, fast 12 and slow 26."
    ]
    params, problems = checked_params("12", macd_fast=26, macd_slow=26, **WIDGETS)
    assert (params.macd_fast, params.macd_slow) == (12, 26)
    assert problems[0].startswith("MACD fast (26) must be below MACD slow (26)")
