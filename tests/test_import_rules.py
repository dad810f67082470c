"""House rules on imports: core/ and db/ never import Streamlit; app_pages/ never go under core and db."""

import ast
from pathlib import Path

import pytest

from common.config import PROJECT_ROOT

FORBIDDEN = {
    "api": {"streamlit"},
    "common": {"streamlit", "core", "db", "api", "ui", "app_pages"},
    "core": {"streamlit"},
    # db sits under core: core's services call repositories, so db importing core would be a cycle.
    "db": {"streamlit", "core"},
    "app_pages": {"sqlalchemy", "keras", "tensorflow", "redis", "rq"},
    "ui": {"keras", "tensorflow"},
}
# Heavy libraries may be imported only inside the functions that train or predict.
LAZY_ONLY = {"tensorflow", "keras"}


def imported_modules(tree: ast.AST, *, top_level_only: bool = False) -> set[str]:
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


# A package's __main__ is a command line that composes the layers, like Home.py; nothing imports it.
COMPOSITION_ROOTS = {"__main__.py"}


def python_files(package: str, *, with_roots: bool = False) -> list[Path]:
    paths = sorted((PROJECT_ROOT / package).rglob("*.py"))
    return paths if with_roots else [path for path in paths if path.name not in COMPOSITION_ROOTS]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_forbidden_imports(package):
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported_modules(ast.parse(path.read_text())) & FORBIDDEN[package])
        for path in python_files(package)
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_tensorflow_is_never_imported_at_module_level():
    packages = ("api", "core", "db", "ui", "app_pages")
    files = [PROJECT_ROOT / "Home.py"] + [p for pkg in packages for p in python_files(pkg, with_roots=True)]
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in files
        if imported_modules(ast.parse(path.read_text()), top_level_only=True) & LAZY_ONLY
    ]
    assert offenders == []


def test_the_rule_checker_sees_a_violation():
    tree = ast.parse("import streamlit as st\nfrom sqlalchemy.orm import Session\ndef f():\n    import keras\n")
    assert imported_modules(tree) == {"streamlit", "sqlalchemy", "keras"}
    assert imported_modules(tree, top_level_only=True) == {"streamlit", "sqlalchemy"}


# Pages and ui widgets reach data only through core.services, which own the transactions.
DATA_ACCESS_MODULES = ("db.engine", "db.repositories")
# The acting user is a frozen value that pages pass to services, not a way to reach data.
VALUE_TYPES = {"db.repositories.actor"}
# ui/errors shows a failed transaction's one message; that reaches no data either.
HARMLESS_NAMES = {"db.engine": {"database_error_message"}}


def data_access(tree: ast.AST) -> list[str]:
    """Imports of the engine or a repository, and select( calls: what only services may do."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _reaches_data(node.module or ""):
            names = {alias.name for alias in node.names} - HARMLESS_NAMES.get(node.module or "", set())
            if names:
                found.append(f"imports {node.module}")
        elif isinstance(node, ast.Import):
            found += [f"imports {alias.name}" for alias in node.names if _reaches_data(alias.name)]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "select":
            found.append(f"calls select( on line {node.lineno}")
    return found


def _reaches_data(module: str) -> bool:
    return module.startswith(DATA_ACCESS_MODULES) and module not in VALUE_TYPES


def test_pages_reach_data_only_through_services():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): data_access(ast.parse(path.read_text()))
        for path in [PROJECT_ROOT / "Home.py", *python_files("app_pages"), *python_files("ui")]
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_data_access_check_sees_each_kind():
    tree = ast.parse(
        "from db.engine import session_scope\nimport db.repositories.prices\nfrom core.services import market\n"
        "from db.repositories.actor import Actor\nfrom db.engine import database_error_message\n"
        "def f(s):\n    return s.execute(select(1))\n"
    )
    assert data_access(tree) == ["imports db.engine", "imports db.repositories.prices", "calls select( on line 7"]
