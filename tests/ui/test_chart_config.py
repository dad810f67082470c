"""Every plotly chart of the app is drawn with the one config of ui.charts."""

import ast

from common.config import PROJECT_ROOT


def plotly_chart_calls_without_the_config() -> list[str]:
    """Each st.plotly_chart call under ui/ and app_pages/ not handed config=CHART_CONFIG, as file:line."""
    missing = []
    for folder in ("ui", "app_pages"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr != "plotly_chart":
                    continue
                config = next((keyword.value for keyword in node.keywords if keyword.arg == "config"), None)
                if not (isinstance(config, ast.Name) and config.id == "CHART_CONFIG"):
                    missing.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    return missing


def test_every_plotly_chart_is_drawn_with_the_one_chart_config():
    # Without it a phone showed plotly's mode bar over the chart's legend and title, and each chart's bar had
    # other buttons.
    assert plotly_chart_calls_without_the_config() == []
