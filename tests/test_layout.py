"""The test tree's own rules: a test module never imports another test module; what tests share
lives in `tests/arrange` (and the few helpers beside it), so that a test file can be moved, split
or deleted without breaking another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_modules(source: str, package: str) -> list[str]:
    """Every module (or module attribute) a file in ``package`` imports, relative imports resolved."""
    modules = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            modules.append(module)
            modules += [f"{module}.{alias.name}" for alias in node.names]
    return modules


def is_test_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def test_no_test_module_imports_another() -> None:
    offences = []
    for source in sorted(TESTS.rglob("*.py")):
        package = ".".join(source.parent.relative_to(TESTS.parent).parts)
        offences += [
            f"{source.relative_to(TESTS.parent)} imports {module}"
            for module in imported_modules(source.read_text(), package)
            if is_test_module(module)
        ]
    assert offences == [], "take shared arrangements from tests.arrange instead:\n" + "\n".join(offences)


def test_the_check_finds_imports_of_test_modules_however_written() -> None:
    found = imported_modules(
        "from tests.accounts.test_suspension import _decide\n"
        "import tests.test_cli\n"
        "from . import test_review\n"
        "from .test_states import TABLE\n"
        "from tests.arrange.people import person\n",
        "tests.cases",
    )
    assert [m for m in found if is_test_module(m)] == [
        "tests.accounts.test_suspension",
        "tests.accounts.test_suspension._decide",
        "tests.test_cli",
        "tests.cases.test_review",
        "tests.cases.test_states",
        "tests.cases.test_states.TABLE",
    ]
    assert not is_test_module("tests.helpers")
