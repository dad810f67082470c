"""Chart builders of the Metrics page: version history on whole versions, on a scale that does not magnify."""

import pandas as pd
import pytest

from ui.charts import metric_history_figure, window_scores_figure


def history(values, metric):
    return pd.DataFrame(
        {
            "ticker": "SPX",
            "version": [1, 2, 3],
            "name": ["SPX v1 · auto ensemble", "SPX v2 · LSTM (Keras)", "SPX v3 · auto ensemble"],
            "trained": pd.date_range("2024-01-01", periods=3),
            metric: values,
        }
    )


def test_each_point_names_its_version_s_model_type():
    # One ticker's versions may be of different types: the line joins them, the hover tells them apart.
    [line] = metric_history_figure(history([1.0, 1.001, 1.002], "MASE"), "MASE").data
    assert list(line.text) == ["SPX v1 · auto ensemble", "SPX v2 · LSTM (Keras)", "SPX v3 · auto ensemble"]
    assert "%{text}" in line.hovertemplate


def test_versions_are_whole_numbers():
    figure = metric_history_figure(history([1.0, 1.001, 1.002], "MASE"), "MASE")
    assert figure.layout.xaxis.dtick == 1
    assert figure.layout.xaxis.tickformat == "d"


def test_a_fifth_of_a_percent_is_not_drawn_as_a_cliff():
    figure = metric_history_figure(history([30.00, 30.03, 30.06], "MAE"), "MAE")
    low, high = figure.layout.yaxis.range
    assert (30.06 - 30.00) / (high - low) < 0.02
    low, high = metric_history_figure(history([1.0, 1.001, 1.002], "MASE"), "MASE").layout.yaxis.range
    assert low <= 0.9
    assert high >= 1.1


def test_direction_accuracy_spans_zero_to_one_hundred_percent():
    figure = metric_history_figure(history([0.5, 0.52, 0.51], "Direction accuracy"), "Direction accuracy")
    assert list(figure.layout.yaxis.range) == pytest.approx([0.0, 1.0])
    assert figure.layout.yaxis.tickformat == ".0%"


def walk_forward_window(first_day: str, names: tuple[str, ...]) -> dict:
    return {"first_day": first_day, "scores": {name: {"mase": 1.0 - 0.01 * i} for i, name in enumerate(names)}}


def test_window_scores_draw_median_drift_where_the_run_scored_it():
    scored = ("predicted", "persistence", "drift", "median", "moving_average")
    figure = window_scores_figure([walk_forward_window("2018-01-02", scored)] * 2, model="auto ensemble")
    assert [trace.name for trace in figure.data] == ["auto ensemble", "drift", "median drift", "moving average"]
    assert list(figure.data[2].y) == [0.97, 0.97]
    older = walk_forward_window("2017-01-03", ("predicted", "persistence", "drift", "moving_average"))
    figure = window_scores_figure([older, walk_forward_window("2018-01-02", scored)], model="LSTM (Keras)")
    assert [trace.name for trace in figure.data] == ["LSTM (Keras)", "drift", "moving average"]
