"""No text a user controls is rendered as markdown or HTML: a scan of the pages, ui/ and Home.py.

Markdown turns `[click](http://evil.example)` into a live link and `![x](http://host/t.png)` into
a request to a foreign host; HTML is worse. So markdown, captions, st.write and st.html get literal
text only, and unsafe_allow_html never appears with anything but a literal. Values from variables
go through st.text, st.code or a table (ui.tables.show_table) instead.
"""

import ast
import re
from pathlib import Path

from common.config import PROJECT_ROOT

# Alerts and toasts render markdown too.
MARKDOWN_CALLS = {"markdown", "caption", "write", "html", "error", "warning", "info", "success", "toast"}
# Non-literal text that was read and holds only values the app itself controls.
REVIEWED = {
    ("ui/status.py", "render_status_panel"): "backend name, health figures, revision ids, pool counts, Redis state",
    ("ui/status.py", "show_runner_problem"): "the runner's state in core/jobs' words: a queue name from settings",
    ("ui/bootstrap.py", "settings_or_stop"): "a settings error: the variable's name and the operator's own value",
    ("ui/screener_panel.py", "render_screener"): "a count and the screener's own description of numeric criteria",
    ("app_pages/home.py", "render_matured"): "a count and a fixed phrase",
    ("app_pages/home.py", "render_first_steps"): "a step's number and its text from FIRST_STEPS, written in the app",
    ("ui/predict_panel.py", "render_predict"): "dates and prices of the forecast, its interval's level",
    ("ui/navigation.py", "link_to"): "a page label and icon written in the app",
}


def scanned_files() -> list[Path]:
    return [PROJECT_ROOT / "Home.py"] + [
        path for folder in ("app_pages", "ui") for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
    ]


def is_literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def is_escaped(node: ast.expr) -> bool:
    """Text passed through ui.text.plain, which escapes every markdown character."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "plain"


# A format spec that only a number accepts: format("text", ",") raises, so what passes is a number.
NUMERIC_SPEC = re.compile(r"^[<>^=]?[+ -]?[,_]?(\.\d+)?[deEfFgG%]?$")


def is_number(part: ast.FormattedValue) -> bool:
    """A value that can only be a number: len(...), a count in words with a literal noun (plural(n, "split")),
    or one formatted with a numeric spec like {x:,}."""
    call = part.value if isinstance(part.value, ast.Call) else None
    if call is not None and getattr(call.func, "id", None) == "len":
        return True
    if call is not None and getattr(call.func, "id", None) == "plural" and all(map(is_literal, call.args[1:2])):
        return len(call.args) == 2
    spec = part.format_spec
    if spec is None or not all(isinstance(piece, ast.Constant) for piece in spec.values):
        return False
    text = "".join(piece.value for piece in spec.values)
    return bool(text) and any(mark in text for mark in ",_deEfFgG%") and bool(NUMERIC_SPEC.match(text))


def is_safe_text(node: ast.expr) -> bool:
    """A literal, escaped text, or an f-string whose every value is escaped or a number."""
    if isinstance(node, ast.JoinedStr):
        return all(
            is_escaped(part.value) or is_number(part) for part in node.values if isinstance(part, ast.FormattedValue)
        )
    return is_literal(node) or is_escaped(node)


def findings(source: str) -> list[tuple[str, int, str]]:
    """(enclosing function, line, what) for every call that could render non-literal text."""
    tree = ast.parse(source)
    found = []
    for function in [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]:
        name = getattr(function, "name", "<module>")
        body = function.body if isinstance(function, ast.Module) else [function]
        for node in (n for part in body for n in ast.walk(part)):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(function, ast.Module) and _inside_function(tree, node):
                continue
            unsafe = [k for k in node.keywords if k.arg == "unsafe_allow_html" and not _is_false(k.value)]
            attribute = node.func.attr if isinstance(node.func, ast.Attribute) else None
            text_arg = node.args[0] if node.args else None
            if unsafe and not (text_arg is not None and is_literal(text_arg)):
                found.append((name, node.lineno, "unsafe_allow_html with non-literal text"))
            elif attribute in MARKDOWN_CALLS and text_arg is not None and not is_safe_text(text_arg):
                found.append((name, node.lineno, f"{attribute}() with non-literal text"))
    return sorted(set(found))


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _inside_function(tree: ast.Module, target: ast.AST) -> bool:
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            n is target for n in ast.walk(function)
        ):
            return True
    return False


def test_the_scanner_sees_each_kind_of_offence():
    source = (
        "import streamlit as st\n"
        "def page(name):\n"
        "    st.markdown(f'**{name}**')\n"
        "    st.html(name)\n"
        "    st.caption('fixed text')\n"
        "    st.markdown('<b>fixed</b>', unsafe_allow_html=True)\n"
        "    st.markdown(name, unsafe_allow_html=True)\n"
        "    column = st.columns(2)[0]\n"
        "    column.write(name)\n"
        "    st.caption(plain(name))\n"
        "    st.markdown(f'**{plain(name)}** and {name}')\n"
        "    st.success(f'{len(name)} rows, {count:,} days, {share:.1%} of {plain(name)}')\n"
        "    st.error(f'{name:>10}')\n"
        "    st.success(f'{plural(n, \"split\")} confirmed')\n"
        "    st.info(f'{plural(n, name)}')\n"
    )
    assert [(line, what) for _, line, what in findings(source)] == [
        (3, "markdown() with non-literal text"),
        (4, "html() with non-literal text"),
        (7, "unsafe_allow_html with non-literal text"),
        (9, "write() with non-literal text"),
        (11, "markdown() with non-literal text"),
        (13, "error() with non-literal text"),
        (15, "info() with non-literal text"),
    ]


def test_no_user_text_is_rendered_as_markdown_or_html():
    offenders = {}
    for path in scanned_files():
        relative = str(path.relative_to(PROJECT_ROOT))
        for function, line, what in findings(path.read_text()):
            key = (relative, function)
            if key not in REVIEWED:
                offenders[f"{relative}:{line} in {function}"] = what
    assert offenders == {}


def test_the_reviewed_list_holds_only_real_findings():
    """A reviewed entry that no longer offends must go, so the list never hides a new one."""
    current = {
        (str(path.relative_to(PROJECT_ROOT)), function)
        for path in scanned_files()
        for function, _, _ in findings(path.read_text())
    }
    assert set(REVIEWED) <= current


def is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and ast.unparse(node.func).endswith(name)


def download_buttons() -> list[tuple[Path, ast.Call]]:
    """Every download_button call in the pages and the UI helpers."""
    return [
        (path, node)
        for path in scanned_files()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "download_button"
    ]


def test_every_csv_download_is_injection_safe():
    """A download button that offers CSV is fed by to_safe_csv (at once or on the click), never by a raw to_csv."""
    offenders = []
    for path, node in download_buttons():
        options = {k.arg: k.value for k in node.keywords}
        data = node.args[1] if len(node.args) > 1 else options.get("data")
        names = " ".join(ast.unparse(v) for k, v in options.items() if k in ("file_name", "mime"))
        if ".csv" in names or "text/csv" in names:
            # partial(to_safe_csv, frame): Streamlit calls it when the button is pressed.
            writer = data.args[0] if is_call(data, "partial") and data.args else getattr(data, "func", None)
            safe = isinstance(data, ast.Call) and writer is not None and ast.unparse(writer).endswith("to_safe_csv")
            if not safe:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_download_button_reruns_its_page():
    """A file is all a download asks for; Streamlit's default click reruns the whole page for it."""
    offenders = [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}"
        for path, node in download_buttons()
        if not any(k.arg == "on_click" and ast.unparse(k.value) == "'ignore'" for k in node.keywords)
    ]
    assert download_buttons(), "the scan found no download button at all"
    assert offenders == []
