"""Dependencies point one way: davinci <- facilities <- webhooks <- automations <- integrations
(and team and reports beside it). Nothing in davinci/ imports the apps, nothing in facilities/
imports the apps above it, and so on — not at the top, not inside a function, not for typing.
A lower layer hears of a change above it through a signal it defines (facilities.signals). (A string
reference such as the FK "integrations.ApiKey" or an INSTALLED_APPS entry is not an import.)
And no function-local import of the project's own modules dodges a cycle: the one place for
them is an AppConfig.ready(), which runs once every app is loaded."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# package: the packages of the project it must not import
LOWER_LAYERS = {
    "davinci": ("facilities", "webhooks", "automations", "integrations", "team", "reports"),
    "facilities": ("webhooks", "automations", "integrations", "team", "reports"),
    "webhooks": ("automations", "integrations", "team", "reports"),
    "automations": ("integrations", "team", "reports"),
}
PROJECT = ("davinci", "facilities", "webhooks", "automations", "integrations", "team", "reports")


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _in(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _violations(package: str) -> list[str]:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in _imported_modules(tree):
            if _in(module, LOWER_LAYERS[package]):
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return violations


@pytest.mark.parametrize("package", LOWER_LAYERS)
def test_lower_layers_do_not_import_the_layers_above(package):
    assert _violations(package) == []


def _local_imports(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, function, module) of every import of a project module inside a function."""
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for line, module in _imported_modules(function):
                if _in(module, PROJECT):
                    found.append((line, function.name, module))
    return found


@pytest.mark.parametrize("package", PROJECT)
def test_no_function_local_import_of_the_project_but_in_ready(package):
    local = [
        f"{path.relative_to(ROOT)}:{line} {function}() imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for line, function, module in _local_imports(ast.parse(path.read_text()))
        if function != "ready"
    ]
    assert local == []


def test_the_local_import_check_sees_one():
    tree = ast.parse("def f():\n    from facilities.models import Lock\n")
    assert _local_imports(tree) == [(2, "f", "facilities.models")]


def test_the_check_finds_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from integrations.models import ApiKey\n")
    assert _imported_modules(tree) == [(2, "integrations.models")]
    assert _imported_modules(ast.parse("import integrations.api")) == [(1, "integrations.api")]
