"""Dependencies point one way: davinci <- facilities <- integrations. Nothing in davinci/ or
facilities/ imports integrations — not at the top, not inside a function, not for typing.
(A string reference such as the FK "integrations.ApiKey" or an INSTALLED_APPS entry is not
an import.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOWER_LAYERS = ("davinci", "facilities")


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _violations(package: str) -> list[str]:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, module in _imported_modules(tree):
            if module == "integrations" or module.startswith("integrations."):
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return violations


@pytest.mark.parametrize("package", LOWER_LAYERS)
def test_lower_layers_do_not_import_integrations(package):
    assert _violations(package) == []


def test_the_check_finds_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from integrations.models import ApiKey\n")
    assert _imported_modules(tree) == [(2, "integrations.models")]
    assert _imported_modules(ast.parse("import integrations.api")) == [(1, "integrations.api")]
