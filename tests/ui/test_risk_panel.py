"""Why the Risk panel's Sharpe card is blank, in the words the card and its caption show."""

import math

from ui.risk_panel import sharpe_left_blank


def test_a_sharpe_ratio_has_no_reason_to_be_blank():
    assert sharpe_left_blank({"sharpe": -0.4, "start": "2018-01-02", "end": "2018-02-13"}) is None


def test_a_span_under_a_quarter_of_a_year_is_named_with_its_days():
    said = sharpe_left_blank({"sharpe": math.nan, "start": "2018-01-02", "end": "2018-02-13"})
    assert said == (
        "Sharpe is left blank: 2018-01-02 to 2018-02-13 is under a quarter of a year, too short for a rate a year."
    )


def test_returns_that_do_not_vary_over_a_long_span_are_the_other_reason():
    said = sharpe_left_blank({"sharpe": None, "start": "2018-01-02", "end": "2018-12-31"})
    assert said == "Sharpe is left blank: the returns do not vary, so there is no deviation to divide by."
