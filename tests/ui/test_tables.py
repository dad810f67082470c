"""Tables neutralise formula cells before Streamlit shows (and its toolbar exports) them."""

import ast

import pandas as pd
from streamlit.testing.v1 import AppTest

from common.config import PROJECT_ROOT
from ui.tables import safe_frame

HOSTILE = '=hyperlink("http://evil.example/","click")'


def test_formula_cells_are_neutralised_and_numbers_kept():
    frame = pd.DataFrame({"user": [HOSTILE, "+1", "-x", "@cmd", "plain", None], "n": [1, 2, 3, 4, 5, 6]})
    safe = safe_frame(frame)
    assert safe["user"].tolist()[:5] == ["'" + HOSTILE, "'+1", "'-x", "'@cmd", "plain"]
    assert pd.isna(safe["user"].iloc[5])
    assert safe["n"].tolist() == [1, 2, 3, 4, 5, 6]
    assert frame["user"].iloc[0] == HOSTILE  # the caller's data is untouched


def test_records_column_names_and_index_are_neutralised():
    safe = safe_frame([{"=name": "-1", "value": -1.5}])
    assert list(safe.columns) == ["'=name", "value"]
    assert safe.iloc[0].tolist() == ["'-1", -1.5]
    indexed = safe_frame(pd.DataFrame({"v": [1]}, index=["=A1"]))
    assert list(indexed.index) == ["'=A1"]


def test_the_displayed_table_holds_the_neutralised_text():
    def page():
        from ui.tables import show_table

        show_table([{"username": '=hyperlink("http://evil.example/","click")'}], hide_index=True)

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.dataframe[0].value["username"].iloc[0] == "'" + HOSTILE


def test_a_missing_value_reads_as_a_dash_not_none():
    def page():
        import pandas as pd

        from ui.tables import show_table

        show_table(pd.DataFrame({"Median drift MAE": [13.48, None], "Verdict": ["beats persistence", None]}))

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert at.dataframe[0].proto.placeholder == "—", "a version trained before a score existed shows none, not 'None'"


def test_pages_show_tables_only_through_show_table():
    offenders = []
    for folder in ("app_pages", "ui"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if path.name == "tables.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                streamlit_table = (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("dataframe", "data_editor", "table")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "st"
                )
                if streamlit_table:
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert offenders == []


def test_a_csv_download_is_written_on_the_click_and_does_not_rerun_the_page():
    """The click fetches the file and nothing else: a rerun would run and redraw the whole page for a file."""

    def page():
        import pandas as pd

        from ui.tables import csv_download

        csv_download("Download", pd.DataFrame({"close": [1.0, 2.0]}), "prices.csv")

    at = AppTest.from_function(page).run()
    button = at.get("download_button")[0].proto
    assert button.deferred_file_id, "the CSV is written when the button is pressed"
    assert button.ignore_rerun
